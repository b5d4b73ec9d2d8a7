"""/lib/ serves an explicit allowlist of library files (chalicelib/pages.py), nothing else."""
from __future__ import annotations

import json

from chalicelib.pages import INTERNAL_FILES, LIBRARY_FILES, STATIC_DIR


def test_every_static_file_is_either_served_or_explicitly_internal():
    """A file added to chalicelib/static must be listed in LIBRARY_FILES or INTERNAL_FILES."""
    present = {path.name for path in STATIC_DIR.iterdir() if path.is_file()}
    unlisted = present - LIBRARY_FILES - INTERNAL_FILES
    assert not unlisted, f"neither served nor internal (chalicelib/pages.py): {sorted(unlisted)}"
    assert not LIBRARY_FILES & INTERNAL_FILES
    assert LIBRARY_FILES | INTERNAL_FILES <= present, "listed but missing"
    assert not [p for p in STATIC_DIR.iterdir() if p.is_dir()], "static/ holds files only"


def test_library_files_are_served_with_their_types(client):
    for name in sorted(LIBRARY_FILES):
        response = client.http.get(f"/lib/{name}")
        assert response.status_code == 200, name
        assert response.body == (STATIC_DIR / name).read_bytes(), name
        kind = {"js": "text/javascript", "css": "text/css", "html": "text/html"}[name.rsplit(".", 1)[1]]
        assert response.headers["Content-Type"] == f"{kind}; charset=utf-8", name
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anything_else_under_lib_is_not_found(client):
    for name in [*sorted(INTERNAL_FILES), "demo.html", "demo.js", "openapi.json", "config.py",
                 "..%2Fapp.py", ".hidden", "WORKPROOF.JS", "workproof.js.bak"]:
        response = client.http.get(f"/lib/{name}")
        assert (response.status_code, json.loads(response.body)) == \
            (200, {"success": False, "error": "not_found"}), name


def test_openapi_is_served_at_its_own_path(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body)["openapi"].startswith("3.")
