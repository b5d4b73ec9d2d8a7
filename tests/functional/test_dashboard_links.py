"""The Links view's actions: create (exactly /link/create's checks), disable,
enable and delete, each on the signed-in site's own links only, and what a
visitor and a miner then get: a disabled link's page says so (410), its jobs
and a deleted link's are invalid_link, as an unknown link's are.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.store.models import Link
from tests.deploy.powsolve import mine, post
from tests.fixtures import create_site
from tests.functional.dashboard_client import Dashboard, fail
from tests.functional.store import aws  # noqa: F401 - the shared store


@pytest.fixture
def dash(client, site):
    dashboard = Dashboard(client)
    assert dashboard.sign_in(site.site_key, site.secret)["success"] is True
    return dashboard


def _create(dash, url: str = "https://example.com/file.zip", hashes: int = 65536) -> str:
    answer = dash.post("links/create", url=url, hashes=hashes)
    assert answer["success"] is True, answer
    return str(answer["code"])


def _row(dash, code: str) -> dict:
    return next(row for row in dash.get("links")["links"] if row["code"] == code)


def test_create_answers_the_link_and_lists_it_with_its_full_target(dash, site):
    answer = dash.post("links/create", url="https://Example.COM/x/../a%20b?q=<x>#top", hashes=70000)
    code = answer["code"]
    assert answer == {"success": True, "code": code, "url": f"http://localhost/l/{code}",
                      "target": "https://example.com/a%20b?q=%3Cx%3E#top", "hashes": 70000}
    row = _row(dash, code)
    assert (row["target"], row["host"], row["hashes"], row["disabled"]) == \
        ("https://example.com/a%20b?q=%3Cx%3E#top", "example.com", 70000, False)
    assert Link.get(code).site_key == site.site_key


@pytest.mark.parametrize("body,code", [
    ({"hashes": 1}, "missing_input"),
    ({"url": "https://example.com/"}, "missing_input"),
    ({"url": "", "hashes": 1}, "missing_input"),
    ({"url": "javascript:alert(1)", "hashes": 1}, "invalid_url"),
    ({"url": "not a url", "hashes": 1}, "invalid_url"),
    ({"url": "https://example.com/", "hashes": 0}, "bad_request"),
    ({"url": "https://example.com/", "hashes": "many"}, "bad_request"),
    ({"url": ["https://example.com/"], "hashes": 1}, "bad_request"),
])
def test_create_refusals_are_the_apis_and_create_nothing(api, dash, body, code):
    assert dash.post("links/create", **body) == fail(code)
    assert dash.get("links")["links"] == []
    # The API's own answer to the same input (its secret aside).
    assert api.raw("POST", "/link/create", json.dumps({"secret": api.site.secret, **body}),
                   {"Content-Type": "application/json"}) == fail(code)


def test_disable_serves_a_disabled_page_and_refuses_jobs_until_enabled(client, dash, site):
    code = _create(dash)
    assert dash.post("links/disable", code=code) == {"success": True, "code": code, "disabled": True}
    assert _row(dash, code)["disabled"] is True
    page = client.http.get(f"/l/{code}")
    assert page.status_code == 410
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.body.decode()
    assert "<h1>This link is disabled</h1>" in text and "example.com" in text
    assert "file.zip" not in text and "workproof.js" not in text  # no target, no work
    assert post(client, "/pow/job", site=site.site_key, link=code) == fail("invalid_link")

    assert dash.post("links/enable", code=code) == {"success": True, "code": code, "disabled": False}
    assert _row(dash, code)["disabled"] is False
    assert client.http.get(f"/l/{code}").status_code == 200
    mine(client, site, link=code)  # a whole visit, redirect included


def test_delete_makes_the_link_unknown_everywhere(client, dash, site):
    code = _create(dash)
    unknown_page = client.http.get("/l/" + "b" * 12)
    assert dash.post("links/delete", code=code) == {"success": True, "code": code, "deleted": True}
    assert dash.get("links")["links"] == []
    page = client.http.get(f"/l/{code}")
    assert (page.status_code, page.body) == (unknown_page.status_code, unknown_page.body)
    assert json.loads(page.body) == fail("invalid_link")
    assert post(client, "/pow/job", site=site.site_key, link=code) == fail("invalid_link")
    assert dash.post("links/delete", code=code) == fail("invalid_link")
    assert dash.post("links/disable", code=code) == fail("invalid_link")
    with pytest.raises(Link.DoesNotExist):
        Link.get(code)  # the conditional update wrote no empty item back


def test_another_sites_link_is_invalid_link_and_unchanged(client, dash):
    other = create_site("other")
    theirs = Dashboard(client)
    assert theirs.sign_in(other.site_key, other.secret)["success"] is True
    code = _create(theirs)
    for action in ("links/disable", "links/enable", "links/delete"):
        assert dash.post(action, code=code) == fail("invalid_link")
    assert _row(theirs, code)["disabled"] is False
    assert client.http.get(f"/l/{code}").status_code == 200


@pytest.mark.parametrize("action", ["links/disable", "links/enable", "links/delete"])
@pytest.mark.parametrize("body,code", [
    ({}, "missing_input"), ({"code": ""}, "missing_input"),
    ({"code": "bad code!"}, "invalid_link"), ({"code": "a" * 65}, "bad_request"),
    ({"code": ["x"]}, "bad_request"),
])
def test_link_actions_refuse_a_missing_or_malformed_code(dash, action, body, code):
    assert dash.post(action, **body) == fail(code)
