"""`make store` + plain `chalice local`: the whole API, proof of work included,
through the dev stage of .chalice/config.json; without a signing key, one
clear log line and `not_configured`, never `internal_error`."""
from __future__ import annotations

import json

import pytest

from tests.e2e.devstack import chalice_local, make_store, project_copy
from tests.fixtures import Http
from tests.solver import solve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    base = tmp_path_factory.mktemp("devstack")
    # The project copy's .workproof is the store's state dir, as in a checkout.
    project = base / "project"
    process, url = make_store(project / ".workproof")
    try:
        yield project, url
    finally:
        process.stop()
    assert "Snapshot of" in process.output(), "Ctrl-C / SIGTERM snapshots the store"


def test_make_store_then_chalice_local_mines_and_verifies_a_token(store):
    project, store_url = store
    demo = json.loads((project / ".workproof" / "demo.json").read_text())
    server, base = chalice_local(project_copy(project, store_url))
    try:
        http = Http(base, demo["secret"])
        job = http.post("/pow/job", site=demo["site_key"], token="", hashes=65536)
        assert job["success"] is True, job
        done = http.post("/pow/submit", job=job["job"],
                         nonce=solve(job["job"], job["difficulty"], job["count"]))
        assert done["success"] is True and done["total"] >= 65536, done
        verified = http.post("/token/verify", token=job["token"], hashes=65536)
        assert verified["success"] is True and verified["hashes"] == done["total"]
        assert http.post("/token/verify", token=job["token"], hashes=65536) == {
            "success": False, "error": "invalid_token"}
        assert http.get("/user/balance", name="nobody") == {"success": False, "error": "unknown_user"}
    finally:
        server.stop()


def test_without_a_signing_key_one_clear_line_and_not_configured(store, tmp_path):
    project, store_url = store
    demo = json.loads((project / ".workproof" / "demo.json").read_text())
    keyless = project_copy(tmp_path / "keyless", store_url)  # no .workproof/signing.key here
    server, base = chalice_local(keyless)
    try:
        answer = Http(base).post("/pow/job", site=demo["site_key"], anonymous=1)
        assert answer == {"success": False, "error": "not_configured"}
    finally:
        server.stop()
    lines = [line for line in server.output().splitlines() if "signing key" in line]
    assert len(lines) == 1, server.output()
    assert str(keyless / ".workproof" / "signing.key") in lines[0] and "make store" in lines[0]
    assert "Traceback" not in server.output()
