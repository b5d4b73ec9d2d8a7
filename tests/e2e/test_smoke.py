"""`make smoke` against the real `make run`, as an operator runs it after a deploy:
through the Makefile, with the interpreter's site-packages off (`-S`: the
standard library only), the stack's per-source limits on as deployed."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixtures import ROOT, LiveServer, start_stack, stop_stack

pytestmark = pytest.mark.e2e

CHECKS = ["captcha job", "captcha solved", "siteverify", "siteverify replay", "link/create",
          "link page", "link followed", "stats/payout", "stats/site", "busy"]
WRONG_SECRET = "W" * 32


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    process, server = start_stack(tmp_path_factory.mktemp("smoke"),
                                  {"WORKPROOF_SOURCE_LIMITS": "on"})
    try:
        yield server
    finally:
        stop_stack(process)


def make_smoke(server: LiveServer, secret: str) -> subprocess.CompletedProcess[str]:
    # A bare environment: no virtualenv on PATH, no AWS anything, no PYTHONPATH.
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(["make", "--no-print-directory", "smoke", f"URL={server.base_url}",
                           f"SECRET={secret}", f"SITE={server.site_key}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def checks_passed(stdout: str) -> list[str]:
    return [line.split(":", 1)[0].removeprefix("ok    ") for line in stdout.splitlines()
            if line.startswith("ok    ")]


def test_make_smoke_passes_against_make_run(stack: LiveServer) -> None:
    done = make_smoke(stack, stack.secret)
    assert (done.returncode, done.stderr) == (0, ""), done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert checks_passed(done.stdout) == CHECKS and len(lines) == len(CHECKS), done.stdout
    assert stack.secret not in done.stdout
    busy = lines[-1]
    assert "{'success': False, 'error': 'busy'}, Retry-After: " in busy, busy
    assert int(busy.split("Retry-After: ")[1].split(",")[0]) >= 1
    assert "65,536 hashes = difficulty 2,048 × 32 puzzles" in lines[0]  # conftest's minimum work


def test_make_smoke_fails_with_a_line_per_failure_on_a_wrong_secret(stack: LiveServer) -> None:
    done = make_smoke(stack, WRONG_SECRET)
    assert done.returncode != 0
    failures = [line for line in done.stderr.splitlines() if line.startswith("FAIL  ")]
    hint = " (is SECRET the secret of SITE?)"
    assert failures == [
        "FAIL  siteverify of the solved captcha: refused "
        "{'success': False, 'error-codes': ['invalid-input-secret']}" + hint,
        "FAIL  link/create: refused {'success': False, 'error': 'invalid_secret'}" + hint,
        "FAIL  stats/payout: refused {'success': False, 'error': 'invalid_secret'}" + hint,
    ], done.stderr
    # What needs no secret still passed: the public proof-of-work path and the busy answer.
    assert checks_passed(done.stdout) == ["captcha job", "captcha solved", "busy"], done.stdout
    assert WRONG_SECRET not in done.stdout + done.stderr
