"""`make fuzz`: Schemathesis against /openapi.json of a real `make run` stack.

Starts the stack on free ports (its state in a temporary folder), supplies
the demo site's secret (and its site key) for the generated requests, and
runs every phase of Schemathesis with its server-error, schema, content-type
and header checks plus the contract's own (tests/fuzz/contract_checks.py:
every body is JSON with a boolean `success`, failures are `{success, error}`
with a contract code, never `internal_error`). Then counts the requests the
server logged and fails unless there were at least FUZZ_MIN_REQUESTS.

Every request comes from one source, so the stack runs with its per-source
limits raised (`WORKPROOF_SOURCE_LIMITS`, FUZZ_SOURCE_LIMITS: default 1000,
the largest factor, its buckets still in the path): the fuzzer reaches the
app's answers, not the front door's `busy` (whose shape the document also
describes, and tests/deploy/test_openapi.py checks).

    .venv/bin/python -m tests.fuzz.schema_fuzz        (FUZZ_EXAMPLES per operation, default 600)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.fixtures import ROOT, start_stack, stop_stack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "600"))
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "10000"))
SEED = os.environ.get("FUZZ_SEED", "20260901")
SOURCE_LIMITS = os.environ.get("FUZZ_SOURCE_LIMITS", "1000")
CHECKS = ",".join(["not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance",
                   "contract_json_body"])
# A request the app answered (ops/request_log.py: `12:00:00  GET /path  ...`), or one
# the server refused itself (the standard library's line: `] "TRACE /path HTTP/1.1" 200`).
LOGGED_REQUEST = re.compile(r'^\d\d:\d\d:\d\d  [A-Z]+ /|\] "[A-Z]+ \S+ HTTP/1\.[01]" \d{3} ',
                            re.MULTILINE)


def config_text(secret: str, site_key: str) -> str:
    # TOML strings: the secret and key are [A-Za-z0-9] only.
    return f"""
hooks = "tests.fuzz.contract_checks"

[parameters]
"query.secret" = "{secret}"
"body.secret" = "{secret}"
"query.site" = "{site_key}"
"body.site" = "{site_key}"

[generation]
database = "none"
"""


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="workproof-fuzz-") as tmp:
        process, server = start_stack(Path(tmp), {"WORKPROOF_IDLE_TIMEOUT": "30",
                                                  "WORKPROOF_SOURCE_LIMITS": SOURCE_LIMITS})
        try:
            config = Path(tmp) / "schemathesis.toml"
            config.write_text(config_text(server.secret, server.site_key))
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
                       "run", f"{server.base_url}/openapi.json", "--checks", CHECKS,
                       "--max-examples", str(EXAMPLES), "--seed", SEED, "--continue-on-failure",
                       "--request-timeout", "30", "--no-color"]
            print("+", " ".join(command[:1] + command[3:]), flush=True)
            result = subprocess.run(command, cwd=ROOT, env=env)
        finally:
            stop_stack(process)
        log = (Path(tmp) / "server.log").read_text(encoding="utf-8", errors="replace")
    requests_served = len(LOGGED_REQUEST.findall(log))
    tracebacks = log.count("Traceback")
    print(f"make fuzz: schemathesis exit {result.returncode}; {requests_served} requests served; "
          f"{tracebacks} tracebacks in the server log (WORKPROOF_SOURCE_LIMITS={SOURCE_LIMITS})")
    if result.returncode != 0 or tracebacks:
        return 1
    if requests_served < MIN_REQUESTS:
        print(f"make fuzz: fewer than {MIN_REQUESTS} requests: raise FUZZ_EXAMPLES", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
