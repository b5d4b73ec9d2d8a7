"""A packaged function run as Lambda runs it, for the deploy rehearsal.

`LambdaProcess` starts a clean interpreter (`python -I -S -B`) whose path
holds, in Lambda's order, the unpacked deployment.zip (/var/task), the
unpacked layer's python/ (/opt/python) and the runtime's boto3 (a folder of
links, tests/deploy/test_package.py's `_runtime_dir`), with exactly the
environment given, imports the handler module once (a cold start) and then
answers one event per line on stdin with one JSON line on stdout (`invoke`).

Every AWS call the function's code makes goes through botocore's single
call path; the child wraps it and appends one JSON line per call to a file
(`recorded`): the service, the operation and the names it touched (tables,
indexes, items of a transaction or batch, the secret). Nothing is
hand-listed: what the rehearsal checks against the role is what was sent.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

CHILD = r'''
import json, sys
task, layer, runtime, handler, record_file = sys.argv[1:6]
sys.path[:0] = [task, layer, runtime]  # /var/task, /opt/python, the runtime's

from botocore.client import BaseClient

_original = BaseClient._make_api_call

def _names(params):
    """What IAM authorises a call on: the names in its parameters."""
    out = {}
    for key in ("TableName", "IndexName", "SecretId", "QueueUrl", "StreamArn"):
        if key in params:
            out[key] = params[key]
    if "TransactItems" in params:
        out["TransactItems"] = [{kind: {"TableName": body["TableName"]}}
                                for item in params["TransactItems"] for kind, body in item.items()]
    if "RequestItems" in params:
        out["RequestItems"] = {table: {} for table in params["RequestItems"]}
    return out

def _make_api_call(self, operation, params):
    with open(record_file, "a") as f:
        f.write(json.dumps({"service": self.meta.service_model.service_name,
                            "operation": operation, "params": _names(params or {})}) + "\n")
    return _original(self, operation, params)

BaseClient._make_api_call = _make_api_call

module_name, _, attribute = handler.rpartition(".")
module = __import__(module_name)  # Lambda's init: the handler's module, once
function = getattr(module, attribute)

class Context:
    aws_request_id = "rehearsal"
    function_name = "rehearsal"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rehearsal"
    def get_remaining_time_in_millis(self):
        return 30000

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    try:
        answer = {"result": function(json.loads(line), Context())}
    except Exception as error:  # Lambda reports the error; so does this
        answer = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(answer, default=str), flush=True)
'''


class LambdaProcess:
    """One function's execution environment (one cold start, then warm invocations)."""

    def __init__(self, task: Path, layer: Path, runtime: Path, handler: str,
                 environment: dict[str, str], record_file: Path) -> None:
        self.record_file = record_file
        record_file.touch()
        self.stderr_file = record_file.with_suffix(".stderr")
        self.log: list[str] = []  # what the function printed (Lambda sends it to CloudWatch Logs)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", "-c", CHILD, str(task), str(layer), str(runtime),
             handler, str(record_file)],
            env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr_file.open("w"), text=True)
        self.ready = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the function's process ended: {self.stderr()}")
            if line.startswith('{"ready"') or line.startswith('{"result"') or line.startswith('{"error"'):
                return dict(json.loads(line))
            self.log.append(line.rstrip("\n"))  # the app's and Powertools' log lines

    def log_tail(self, lines: int = 8) -> str:
        return "\n".join(self.log[-lines:])

    def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's return value; RuntimeError if it raised."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        answer = self._answer()
        if "error" in answer:
            raise RuntimeError(f"the handler raised {answer['error']}")
        return answer["result"]

    def recorded(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.record_file.read_text().splitlines()]

    def stderr(self) -> str:
        self.close()
        return self.stderr_file.read_text()[-4000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
