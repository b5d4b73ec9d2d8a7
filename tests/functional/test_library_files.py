"""/lib/ serves an explicit allowlist (chalicelib/pages.py): the bundles and LIBRARY_FILES."""
from __future__ import annotations

import json

from chalicelib.pages import (
    BUNDLES,
    COMPAT_SCRIPTS,
    INTERNAL_FILES,
    LIBRARY_FILES,
    STATIC_DIR,
    library_source,
)

PARTS = {part for parts in (*BUNDLES.values(), *COMPAT_SCRIPTS.values()) for part in parts}


def test_every_static_file_is_served_a_bundle_part_or_explicitly_internal():
    """A file added to chalicelib/static must be listed (LIBRARY_FILES, INTERNAL_FILES or a
    bundle's part) before the API serves or ships it knowingly."""
    present = {path.name for path in STATIC_DIR.iterdir() if path.is_file()}
    unlisted = present - LIBRARY_FILES - INTERNAL_FILES - PARTS
    assert not unlisted, f"neither served nor internal (chalicelib/pages.py): {sorted(unlisted)}"
    assert not LIBRARY_FILES & INTERNAL_FILES
    assert LIBRARY_FILES | INTERNAL_FILES | PARTS <= present, "listed but missing"
    assert not set(BUNDLES) & present, "a bundle's name is not a file"
    assert all(part.startswith("_") or part in LIBRARY_FILES for part in PARTS)
    assert not [p for p in STATIC_DIR.iterdir() if p.is_dir()], "static/ holds files only"


def test_library_files_and_bundles_are_served_with_their_types(client):
    for name in sorted(LIBRARY_FILES | set(BUNDLES)):
        response = client.http.get(f"/lib/{name}")
        assert response.status_code == 200, name
        assert response.body.decode() == library_source(name), name
        kind = {"js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
        assert response.headers["Content-Type"] == f"{kind}; charset=utf-8", name
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anything_else_under_lib_is_not_found(client):
    others = [*sorted(INTERNAL_FILES), *sorted(p for p in PARTS if p.startswith("_")), "demo.html",
              "demo.js", "openapi.json", "config.py", "..%2Fapp.py", ".hidden", "WORKPROOF.JS",
              "workproof.js.bak"]
    for name in others:
        response = client.http.get(f"/lib/{name}")
        assert (response.status_code, json.loads(response.body)) == \
            (200, {"success": False, "error": "not_found"}), name


def test_openapi_is_served_at_its_own_path(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body)["openapi"].startswith("3.")
