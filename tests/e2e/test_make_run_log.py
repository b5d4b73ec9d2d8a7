"""`make run`'s log: one readable line per request, no secret; bad settings stop it at once."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.fixtures import ROOT, LiveServer, _free_port

pytestmark = pytest.mark.e2e


def _log(server: LiveServer) -> str:
    return (Path(server.state_dir) / "server.log").read_text(errors="replace")


def _new_lines(server: LiveServer, since: int, count: int, timeout: float = 10.0) -> list[str]:
    """The log's app request lines written after offset `since`, once there are `count`."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in _log(server)[since:].splitlines()
                 if re.match(r"\d\d:\d\d:\d\d  [A-Z]+ /", line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_each_request_is_one_readable_line_without_its_secret(live_server: LiveServer) -> None:
    base, secret = live_server.base_url, live_server.secret
    since = len(_log(live_server))
    name = "log-reader-unknown"
    answer = requests.get(f"{base}/user/balance", params={"secret": secret, "name": name},
                          timeout=30).json()
    assert answer == {"success": False, "error": "unknown_user"}
    token = "LogTokenAbCdEfGhIjKlMnOpQrStUvWx"
    answer = requests.post(f"{base}/token/verify", data={"secret": secret, "token": token,
                                                         "hashes": "1"}, timeout=30).json()
    assert answer == {"success": False, "error": "invalid_token"}

    balance, verify = _new_lines(live_server, since, 2)
    site = live_server.site_key
    source = r"source=[0-9a-f]{8}"
    assert re.fullmatch(rf"\d\d:\d\d:\d\d  GET /user/balance  site={site}  {source}  unknown_user  "
                        r"[0-9.]+ ms", balance), balance
    assert re.fullmatch(rf"\d\d:\d\d:\d\d  POST /token/verify  site={site}  {source}  invalid_token  "
                        r"token_hint=LogT\.\.\.\(32\)  [0-9.]+ ms", verify), verify
    log = _log(live_server).split("Workproof API on", 1)[1]  # after the start banner
    assert secret not in log and token not in log and name not in log
    assert '"_aws"' not in log and "pynamo" not in log  # no EMF lines, no settings banner unless asked
    # The standard access line is not printed for what the app logged.
    written = _log(live_server)[since:]
    assert '"GET /user/balance' not in written and '"POST /token/verify' not in written


def test_make_run_refuses_a_bad_setting_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "WORKPROOF_SIGNING_KEYS"}
    env.update({"WORKPROOF_PORT": str(_free_port()), "WORKPROOF_STORE_PORT": str(_free_port()),
                "WORKPROOF_STATE_DIR": str(tmp_path / "state"), "WORKPROOF_MIN_WORK": "64k"})
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert errors == ["error: WORKPROOF_MIN_WORK=64k: not a positive integer"]
    assert "Workproof" not in done.stdout  # nothing was started
    assert not (tmp_path / "state").exists()
