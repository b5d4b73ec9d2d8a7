"""`make store` + plain `chalice local`: the whole API, proof of work included, served
by the command `make store` prints for the ports it uses (no tracked file edited);
without a signing key, one clear log line and `not_configured`, never `internal_error`."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.devstack import CHALICE, chalice_local, make_store, project_copy, stock_chalice_local
from tests.fixtures import ROOT, Http
from tests.solver import solve

pytestmark = pytest.mark.e2e


def process_output(state) -> str:
    return next(state.parent.glob("store-*.log")).read_text()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    state = tmp_path_factory.mktemp("devstack") / "state"
    process, url, command = make_store(state)
    try:
        yield state, url, command
    finally:
        process.stop()
    assert "Snapshot of" in process.output(), "Ctrl-C / SIGTERM snapshots the store"


def test_the_printed_command_names_this_store_and_its_port(store):
    state, store_url, command = store
    # Another store port than the dev stage's: a generated project, not the tracked config.
    assert command[:3] == [str(CHALICE), "--project-dir", str(state / "chalice")]
    assert command[3] == "local" and command[4] == "--port"
    assert f"with:\n  {' '.join(command)}\n" in process_output(state)
    stage = json.loads((state / "chalice" / ".chalice" / "config.json").read_text())["stages"]["dev"]
    assert stage["environment_variables"]["AWS_ENDPOINT_URL_DYNAMODB"] == store_url
    assert stage["environment_variables"]["WORKPROOF_SIGNING_KEY_FILE"] == str(state / "signing.key")
    tracked = subprocess.run(["git", "status", "--porcelain", "--", ".chalice"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    assert tracked.stdout == ""


def test_make_store_then_chalice_local_mines_and_verifies_a_token(store):
    state, _store_url, command = store
    demo = json.loads((state / "demo.json").read_text())
    server, base = chalice_local(command, state.parent)
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
    # Quiet: the app's own lines only, no pynamodb settings banner, no EMF metric lines.
    output = server.output()
    assert "pynamo" not in output and '"_aws"' not in output, output
    assert "POST /pow/submit" in output


def test_metrics_lines_when_asked(store):
    state, _store_url, command = store
    demo = json.loads((state / "demo.json").read_text())
    server, base = chalice_local(command, state.parent, WORKPROOF_LOCAL_METRICS="1")
    try:
        assert Http(base, demo["secret"]).post("/token/verify", token="x" * 32, hashes=1) == {
            "success": False, "error": "invalid_token"}  # counted in the Verifies metric
    finally:
        server.stop()
    metrics = [json.loads(line) for line in server.output().splitlines() if '"_aws"' in line]
    assert metrics and metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Workproof"
    assert "pynamo" not in server.output()


def test_without_a_signing_key_one_clear_line_and_not_configured(store, tmp_path):
    state, store_url, _command = store
    demo = json.loads((state / "demo.json").read_text())
    keyless = project_copy(tmp_path / "keyless", store_url)  # no .workproof/signing.key here
    server, base = stock_chalice_local(keyless)
    try:
        answer = Http(base).post("/pow/job", site=demo["site_key"], anonymous=1)
        assert answer == {"success": False, "error": "not_configured"}
    finally:
        server.stop()
    lines = [line for line in server.output().splitlines() if "signing key" in line]
    assert len(lines) == 1, server.output()
    assert str(keyless / ".workproof" / "signing.key") in lines[0] and "make store" in lines[0]
    assert "Traceback" not in server.output()
