"""/lib/ serves an explicit allowlist (chalicelib/library.py): the bundles and
LIBRARY_FILES. A plain name redirects for five minutes to the name carrying its
content hash, which serves the bytes immutable for a year; a hash that is not
the current one is not_found, never another version's bytes."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from chalicelib import library, pages
from chalicelib.library import (
    BUNDLES,
    COMPAT_SCRIPTS,
    HASHED_ONLY,
    INTERNAL_FILES,
    LIBRARY_FILES,
    PLAIN_NAMES,
    STATIC_DIR,
)

PARTS = {part for parts in (*BUNDLES.values(), *HASHED_ONLY.values()) for part in parts}
NOT_FOUND = {"success": False, "error": "not_found"}
IMMUTABLE = "public, max-age=31536000, immutable"
LIBRARY_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}


def test_every_static_file_is_served_a_bundle_part_or_explicitly_internal():
    """A file added to chalicelib/static must be listed (LIBRARY_FILES, INTERNAL_FILES or a
    bundle's part) before the API serves or ships it knowingly."""
    present = {path.name for path in STATIC_DIR.iterdir() if path.is_file()}
    unlisted = present - LIBRARY_FILES - INTERNAL_FILES - PARTS
    assert not unlisted, f"neither served nor internal (chalicelib/library.py): {sorted(unlisted)}"
    assert not LIBRARY_FILES & INTERNAL_FILES
    assert LIBRARY_FILES | INTERNAL_FILES | PARTS <= present, "listed but missing"
    assert not (set(BUNDLES) | set(HASHED_ONLY)) & present, "a bundle's name is not a file"
    assert not set(BUNDLES) & set(HASHED_ONLY)
    assert all(part.startswith("_") or part in LIBRARY_FILES for part in PARTS)
    assert not [p for p in STATIC_DIR.iterdir() if p.is_dir()], "static/ holds files only"


def redirect_of(client: Any, path: str, headers: dict[str, str] | None = None) -> str:
    """The path a stable URL's 307 leads to, its exact headers checked."""
    response = client.http.get(path, headers=headers or {})
    assert response.status_code == 307, path
    assert response.body == b""
    location = response.headers["Location"]
    assert response.headers == {"Location": location, "Cache-Control": "public, max-age=300",
                                "Content-Type": "text/plain; charset=utf-8", **LIBRARY_HEADERS}
    return urljoin(path, location)


@pytest.mark.parametrize("name", sorted(PLAIN_NAMES))
def test_a_plain_name_redirects_to_its_hashed_name_served_immutable(client, name):
    target = redirect_of(client, f"/lib/{name}")
    stem, suffix = name.rsplit(".", 1)
    match = re.fullmatch(rf"/lib/{re.escape(stem)}\.([0-9a-f]{{12}})\.{suffix}", target)
    assert match, target
    response = client.http.get(target)
    assert response.status_code == 200
    body = response.body
    assert body.decode() == library.source(name)
    # The name carries the SHA-256 of the exact bytes served.
    assert match[1] == hashlib.sha256(body).hexdigest()[:12]
    kind = {"js": "text/javascript", "css": "text/css"}[suffix]
    assert response.headers == {"Content-Type": f"{kind}; charset=utf-8", "Cache-Control": IMMUTABLE,
                                "ETag": f'"{match[1]}"', **LIBRARY_HEADERS}


def test_the_query_is_left_to_the_script_not_carried_into_the_shared_url(client):
    # The widget reads ?render=&onload=&hl= from the URL the page wrote (its
    # currentScript.src, unchanged by a redirect): every page shares one cached file.
    assert redirect_of(client, "/lib/captcha.js?render=explicit&onload=ready") == \
        f"/lib/{library.hashed_name('captcha.js')}"


@pytest.mark.parametrize("path", sorted(COMPAT_SCRIPTS))
def test_compat_scripts_redirect_to_their_bundles_hashed_name(client, path):
    target = redirect_of(client, path + "?onload=ready&render=explicit")
    name = COMPAT_SCRIPTS[path]
    assert target == f"/lib/{library.hashed_name(name)}"
    response = client.http.get(target)
    assert response.status_code == 200
    parts = [(STATIC_DIR / part).read_text(encoding="utf-8") for part in HASHED_ONLY[name]]
    assert response.body.decode() == library.with_hashed_references("\n;\n".join(parts))
    assert response.headers["Cache-Control"] == IMMUTABLE
    # The bundle has no plain name under /lib/: its stable URL is the vendor's path.
    assert json.loads(client.http.get(f"/lib/{name}").body) == NOT_FOUND


def test_a_matching_if_none_match_answers_304_without_a_body(client):
    target = redirect_of(client, "/lib/worker.js")
    etag = client.http.get(target).headers["ETag"]
    for header in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        response = client.http.get(target, headers={"If-None-Match": header})
        assert (response.status_code, response.body) == (304, b""), header
        assert response.headers == {"Cache-Control": IMMUTABLE, "ETag": etag, **LIBRARY_HEADERS}
    assert client.http.get(target, headers={"If-None-Match": '"other"'}).status_code == 200
    # A stable name always redirects: the redirect is what expires, never the file.
    redirect_of(client, "/lib/worker.js", {"If-None-Match": etag})


def test_a_hash_that_is_not_the_current_one_is_not_found(client):
    captcha, worker = library.content_hash("captcha.js"), library.content_hash("worker.js")
    others = [f"captcha.{worker}.js",          # another file's hash
              "captcha.000000000000.js", f"captcha.{captcha.upper()}.js", f"captcha.{captcha[:10]}.js",
              f"captcha.{captcha}0.js", f"captcha.{captcha}.css", f"captcha.{captcha}.js.map",
              f"captcha.{captcha}", f"_miner.{captcha}.js", f"link.{captcha}.html",
              f"nope.{captcha}.js", f"{captcha}.js", f"captcha.js.{captcha}"]
    for name in others:
        response = client.http.get(f"/lib/{name}")
        assert (response.status_code, json.loads(response.body)) == (200, NOT_FOUND), name


def test_anything_else_under_lib_is_not_found(client):
    others = [*sorted(INTERNAL_FILES), *sorted(p for p in PARTS if p.startswith("_")), "demo.html",
              "demo.js", "openapi.json", "config.py", "..%2Fapp.py", ".hidden", "WORKPROOF.JS",
              "workproof.js.bak", "recaptcha.js", "turnstile.js"]
    for name in others:
        response = client.http.get(f"/lib/{name}")
        assert (response.status_code, json.loads(response.body)) == (200, NOT_FOUND), name


@pytest.fixture()
def fresh_library() -> Iterator[None]:
    """Hashes recomputed (as in a new container) before and after the test."""
    def clear() -> None:
        library.source.cache_clear()
        library.content_hash.cache_clear()
        pages._template.cache_clear()

    clear()
    yield
    clear()


def test_new_bytes_get_a_new_name_and_the_old_name_is_gone(client, monkeypatch, fresh_library):
    before = {name: library.hashed_name(name) for name in ("captcha.js", "workproof.js", "worker.js")}
    real_read = library.read.__wrapped__

    def read(path: Path) -> str:
        text = real_read(path)
        return text + "\n// changed\n" if path.name == "worker.js" else text

    monkeypatch.setattr(library, "read", read)
    library.source.cache_clear()
    library.content_hash.cache_clear()
    after = {name: library.hashed_name(name) for name in before}
    # The worker changed, and so did every bundle that names it (the miner loads it by hash).
    assert all(after[name] != before[name] for name in before)
    assert redirect_of(client, "/lib/worker.js") == f"/lib/{after['worker.js']}"
    assert client.http.get(f"/lib/{after['worker.js']}").body.decode().endswith("// changed\n")
    for name in before:
        response = client.http.get(f"/lib/{before[name]}")
        assert json.loads(response.body) == NOT_FOUND, name
    assert f"lib/{after['worker.js']}" in library.source("captcha.js")


def test_a_part_changed_changes_only_its_bundles(monkeypatch, fresh_library):
    before = {name: library.content_hash(name) for name in sorted(PLAIN_NAMES)}
    real_read = library.read.__wrapped__
    monkeypatch.setattr(library, "read", lambda path: real_read(path) + (
        "\n// changed\n" if path.name == "_coinhive.js" else ""))
    library.source.cache_clear()
    library.content_hash.cache_clear()
    changed = {name for name in before if library.content_hash(name) != before[name]}
    assert changed == {"coinhive.min.js", "authedmine.min.js"}


def test_bundles_and_pages_refer_to_library_files_by_their_hashed_names(client, fresh_library):
    """A whole visit loads immutable URLs only: every /lib/ URL the served scripts
    and pages name serves its file at once (no redirect)."""
    texts = {name: library.source(name) or "" for name in sorted(PLAIN_NAMES | set(HASHED_ONLY))}
    texts["link.html"] = pages.render_link_page("example.com", 1, "Code", "K" * 32, "", None)[0]
    texts["dashboard.html"] = pages.dashboard_page("", local=False).body
    texts["link-disabled.html"] = pages.fill(pages._template("link-disabled.html"),
                                             {"api": "", "host": "x"})
    named = 0
    for name, text in texts.items():
        assert "{{lib/" not in text, name
        for path in re.findall(r"""["'](/lib/[^"'?#]+)["']""", text):
            named += 1
            response = client.http.get(path)
            assert response.status_code == 200, (name, path)
            assert response.headers["Cache-Control"] == IMMUTABLE, (name, path)
    assert named >= 19  # the worker in 7 bundles, the link pages' 3 + 1, the dashboard's 8


def test_openapi_is_served_at_its_own_path(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body)["openapi"].startswith("3.")
