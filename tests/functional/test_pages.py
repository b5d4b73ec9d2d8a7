"""The library and the shortlink page through the app: bundles under Coinhive's
URLs, parts never served alone, the page in the visitor's language under its
own Content-Security-Policy."""
from __future__ import annotations

import json

import pytest

from chalicelib import i18n, library
from tests.functional.store import aws  # noqa: F401 - the shared store


@pytest.mark.parametrize("name", ["workproof.js", "captcha.js", "captcha.min.js", "coinhive.min.js",
                                  "authedmine.min.js", "i18n.js", "worker.js", "link.css"])
def test_library_files_are_served(client, name):
    redirect = client.http.get(f"/lib/{name}")
    assert redirect.status_code == 307
    response = client.http.get(f"/lib/{redirect.headers['Location']}")
    assert response.status_code == 200
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    assert response.headers["Content-Type"].startswith(kind)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.body.decode() == library.source(name)


def test_bundle_parts_are_not_found(client):
    response = client.http.get("/lib/_miner.js")
    assert json.loads(response.body) == {"success": False, "error": "not_found"}


def test_shortlink_page_language_direction_and_policy(api, client):
    url = api.post("/link/create", url="https://example.com/file", hashes=70000)["url"]
    path = "/l/" + url.rsplit("/", 1)[1]
    response = client.http.get(path, headers={"Accept-Language": "he-IL,he;q=0.9,en;q=0.5"})
    page = response.body.decode()
    assert '<html lang="he" dir="rtl">' in page and i18n.text("he", "linkTitle") in page
    assert response.headers["Content-Language"] == "he"
    assert response.headers["Vary"] == "Accept-Language"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    english = client.http.get(path).body.decode()
    assert '<html lang="en" dir="ltr">' in english and "One moment, please" in english
