"""/link/create and the shortlink page: the host shown is the host the browser goes to.

Targets are parsed as browsers parse them (docs/contract.md §1, Shortlinks), stored in
their serialized form and shown by the host the browser resolves; values
from the target never act as placeholders of the page.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib import links
from chalicelib.store.models import Link
from tests.functional.store import aws  # noqa: F401 - aws: the shared store

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SHOWN_HOST = re.compile(r'<span class="host"[^>]*>([^<]*)</span>')


def fail(code: str) -> dict[str, Any]:
    return {"success": False, "error": code}


def create(api, url: str, hashes: int = 1024) -> str:
    answer = api.post("/link/create", url=url, hashes=hashes)
    assert answer["success"] is True, answer
    return urlsplit(answer["url"]).path.rsplit("/", 1)[1]


def page(api, code: str) -> str:
    response = api.client.http.get(f"/l/{code}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    return response.body.decode("utf-8")


@pytest.mark.parametrize("url,stored,shown", [
    ("https://EXAMPLE.com", "https://example.com/", "example.com"),
    ("http://example.com/a/../b", "http://example.com/b", "example.com"),
    ("https://faß.de/straße", "https://xn--fa-hia.de/stra%C3%9Fe", "xn--fa-hia.de"),
    ("https://\uff45xample.com/", "https://example.com/", "example.com"),
    ("http://[0:0::1]:8080/", "http://[::1]:8080/", "[::1]"),
])
def test_the_serialized_url_is_stored_and_its_host_shown(api, url, stored, shown):
    code = create(api, url)
    assert Link.get(code).url == stored
    assert links.get(code).url == stored
    assert SHOWN_HOST.findall(page(api, code)) == [shown]


@pytest.mark.parametrize("url", [
    "https://paypal.com@evil.example/", "https://a\\@b/", "https://:@example.com/",
    "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/",
    "http://exa\u00admple.com/", "http://example.com/\u202e", "http://example.com/\x00",
    # Hosts DNS cannot hold, though the URL standard parses them.
    'https://ex"ample.com/', "https://exa'mple.com/", "https://{{api}}.example/",
    "https://a_b.example/", "https://a*b.example/", "https://a!b.example/",
])
def test_refused_targets_are_invalid_url(api, url):
    assert api.post("/link/create", url=url, hashes=256) == fail("invalid_url")


def test_a_lone_surrogate_in_a_json_url_is_invalid_url(api):
    body = '{"secret": "' + api.site.secret + '", "url": "https://example.com/\\ud800", "hashes": 1}'
    assert api.raw("POST", "/link/create", body, {"Content-Type": "application/json"}) == \
        fail("invalid_url")


def test_the_limit_is_2048_characters_of_input(api):
    base = "https://example.com/"
    assert api.post("/link/create", url=base + "a" * (2049 - len(base)), hashes=1) == fail("invalid_url")
    # 2048 characters that serialize longer (percent-encoded) are still one valid target.
    code = create(api, base + "ä" * (2048 - len(base)))
    assert Link.get(code).url == base + "%C3%A4" * (2048 - len(base))


def test_placeholders_in_a_target_or_the_host_header_stay_text(api):
    code = create(api, "https://example.com/{{code}}{{site_key}}")
    body = api.client.http.get(f"/l/{code}", headers={"Host": "{{code}}.{{hashes}}"}).body.decode()
    # The Host header's placeholders are text in the API base the page uses...
    assert 'data-api="http://{{code}}.{{hashes}}"' in body
    assert f'data-code="{code}"' in body and body.count(code) == 1
    # ...and nothing of the target but its host is on the page.
    assert "site_key}}" not in body.replace("{{site_key}}", "")
    assert SHOWN_HOST.findall(body) == ["example.com"]


def test_a_stored_target_that_is_no_longer_valid_is_an_unknown_link(api):
    # Links stored before targets were parsed as browsers parse them.
    Link("OldLink00001", site_key=api.site.site_key, url="https://a\\@b/", hashes=1,
         created=1).save()
    assert api.get("/l/OldLink00001", with_secret=False) == fail("invalid_link")
    job = api.client.http.post("/pow/job", body=urlencode({"site": api.site.site_key,
                                                          "link": "OldLink00001"}), headers=FORM)
    assert job.json_body == fail("invalid_link")
