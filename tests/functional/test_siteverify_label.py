"""Turnstile's `action` and `cdata` through the app with moto: sent by the widget with its
token's submits, stored by the credit that creates the token, answered by /siteverify
(every path) as Cloudflare does; a later submit cannot relabel the token."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.functional.store import aws  # noqa: F401 - aws: the shared store
from tests.functional.test_siteverify import MIN_WORK, PATHS, Backend, small_work  # noqa: F401
from tests.solver import solve

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://shop.example"}


def post(client: Any, path: str, **params: Any) -> dict[str, Any]:
    return json.loads(client.http.post(path, body=urlencode(params), headers=FORM).body)


def submit(client: Any, job: dict[str, Any], **label: str) -> dict[str, Any]:
    return post(client, "/pow/submit", job=job["job"],
                nonce=solve(job["job"], job["difficulty"], job["count"]), **label)


@pytest.fixture
def backend(client, site) -> Backend:
    return Backend(client, site.secret)


@pytest.mark.parametrize("path", PATHS)
def test_siteverify_answers_the_label_the_token_was_created_with(client, site, backend, path):
    job = post(client, "/pow/job", site=site.site_key, token="", hashes=MIN_WORK)
    assert submit(client, job, action="login", cdata="session-42_b")["success"] is True
    answer = backend.verify(path, response=job["token"])
    assert (answer["success"], answer["action"], answer["cdata"]) == (True, "login", "session-42_b")
    # Cloudflare's documented backend check passes for its form, and only for it.
    assert answer["action"] == "login" and answer["action"] != "signup"


def test_a_later_submit_cannot_relabel_the_token(client, site, backend):
    first = post(client, "/pow/job", site=site.site_key, token="", hashes=MIN_WORK)
    assert submit(client, first, action="newsletter")["success"] is True
    more = post(client, "/pow/job", site=site.site_key, token=first["token"], hashes=2 * MIN_WORK)
    assert submit(client, more, action="login", cdata="x")["success"] is True
    answer = backend.verify(response=first["token"])
    assert (answer["success"], answer["action"], answer["cdata"]) == (True, "newsletter", "")


@pytest.mark.parametrize("label", [{"action": "a" * 33}, {"action": "log in"}, {"cdata": "c" * 256},
                                   {"cdata": "x;y"}])
def test_a_label_turnstile_would_refuse_is_bad_request_and_credits_nothing(client, site, backend,
                                                                            label):
    job = post(client, "/pow/job", site=site.site_key, token="", hashes=MIN_WORK)
    assert submit(client, job, **label) == {"success": False, "error": "bad_request"}
    assert backend.verify(response=job["token"]) == {"success": False,
                                                     "error-codes": ["invalid-input-response"]}


def test_the_longest_label_turnstile_allows_is_kept_whole(client, site, backend):
    action, cdata = "A-z_9" * 6 + "ok", "c" * 255
    job = post(client, "/pow/job", site=site.site_key, token="", hashes=MIN_WORK)
    assert submit(client, job, action=action, cdata=cdata)["success"] is True
    answer = backend.verify(response=job["token"])
    assert (answer["action"], answer["cdata"]) == (action, cdata)
