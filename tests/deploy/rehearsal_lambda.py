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
indexes, items of a transaction or batch, the secret), and the error code
if AWS refused it, why. `Api` keeps the calls each request made. Nothing is
hand-listed: `Function` checks what was sent against the function's role
(from the created stack's template) after every invocation, each DynamoDB
transaction item by item and each batch table by table, as IAM authorises
them (tests/deploy/botocore_recorder.py's `expand`, tests/deploy/iam.py).
"""
from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.deploy import rehearsal_stack as rs
from tests.deploy.botocore_recorder import expand
from tests.deploy.iam import allowed
from tests.deploy.rehearsal_events import VIEWER, answer_body, api_event, url_event

CHILD = r'''
import json, re, sys
task, layer, runtime, handler, record_file = sys.argv[1:6]
sys.path[:0] = [task, layer, runtime]  # /var/task, /opt/python, the runtime's

from botocore.client import BaseClient
from botocore.exceptions import ClientError

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
    call = {"service": self.meta.service_model.service_name, "operation": operation,
            "params": _names(params or {})}
    try:
        return _original(self, operation, params)
    except ClientError as error:  # what AWS refused, and why (AccessDenied...)
        refused = error.response.get("Error", {})
        text = f"{refused.get('Code', '')} {refused.get('Message', '')}".strip()
        xml = re.search(r"<Code>(.*?)</Code>\s*<Message>(.*?)</Message>", text, re.S)  # moto's IAM answer
        call["refused"] = f"{xml[1]}: {xml[2]}" if xml else text
        raise
    finally:
        with open(record_file, "a") as f:
            f.write(json.dumps(call) + "\n")

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


def _resource(service: str, action: str, names: tuple[str, str | None], stack: rs.Stack) -> str:
    """The ARN a recorded call's action touches, in moto's account and region."""
    name, index = names
    if service == "dynamodb" and name != "*":
        arn = f"arn:aws:dynamodb:{rs.REGION}:{rs.ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn
    if action == "secretsmanager:GetSecretValue":
        return name if name.startswith("arn:") else stack.secret_arn
    return "*"


def recorded_calls(process: LambdaProcess, stack: rs.Stack) -> list[tuple[str, str]]:
    """(IAM action, resource) of every AWS call the process made, transactions item by item."""
    calls = set()
    for call in process.recorded():
        service, operation, params = call["service"], call["operation"], call["params"]
        if service == "dynamodb":
            for action, table, index in expand(operation, params):
                calls.add((action, _resource(service, action, (table, index), stack)))
        else:
            action = f"{service}:{operation}"
            calls.add((action, _resource(service, action, (params.get("SecretId", "*"), None), stack)))
    return sorted(calls)


class Function:
    """A function's process whose every invocation is followed by the check of the
    AWS calls it made so far against its role: a missing permission fails at the
    first request that needs it, as it would in production."""

    def __init__(self, stack: rs.Stack, logical: str, process: LambdaProcess) -> None:
        self.stack, self.logical, self.process = stack, logical, process

    def invoke(self, event: dict[str, Any]) -> Any:
        result = self.process.invoke(event)
        self.calls()
        return result

    def calls(self) -> list[tuple[str, str]]:
        calls = recorded_calls(self.process, self.stack)
        policy = self.stack.role_policy(self.logical)
        problems = [f"{self.logical}: {action} on {resource}" for action, resource in calls
                    if not allowed(policy, action, resource)]
        assert not problems, "not allowed by the function's role:\n" + "\n".join(problems)
        return calls

    def operations(self) -> list[str]:
        """The API operations sent, as sent (a transaction is one)."""
        return sorted({f"{c['service']}:{c['operation']}" for c in self.process.recorded()})


_REQUEST_IDS = itertools.count(1)


class Api(Function):
    """The API function, fed API Gateway proxy events (the REST door). Each request's
    answer and the AWS calls it made are kept (`last_response`, `last_calls`); a
    refused answer is reported before the calls are checked, with the function's
    log and what AWS refused."""
    last_response: dict[str, Any]
    last_calls: list[dict[str, Any]]

    def event(self, method: str, path: str, params: dict[str, Any], request_id: str) -> dict[str, Any]:
        return api_event(method, path, params, request_id)

    def __call__(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        body = self._request(method, path, params)
        self.calls()
        return body

    def _request(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        before = len(self.process.recorded())
        self.last_response = self.process.invoke(self.event(method, path, params,
                                                            f"rehearsal-{next(_REQUEST_IDS)}"))
        self.last_calls = self.process.recorded()[before:]
        return answer_body(self.last_response)

    def explain(self) -> str:
        """The function's last log lines and what AWS refused it in the last request."""
        refused = "".join(f"\n  {c['service']}:{c['operation']} {json.dumps(c['params'])}: {c['refused']}"
                          for c in self.last_calls if "refused" in c)
        return f"the function's log:\n{self.process.log_tail(2)}\nwhat AWS refused:{refused or ' nothing'}"

    def expect(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        body = self._request(method, path, params)
        assert body.get("success") is True, f"{method} {path}: {body}\n{self.explain()}"
        self.calls()
        return body


_SAME: Any = object()


class UrlApi(Api):
    """A function behind the default door (the API's, or the verify function's),
    fed function URL events as its distribution sends them: the origin header (`origin`; None: absent, a direct
    hit), the viewer function's address (`viewer`), any other viewer headers."""

    def __init__(self, stack: rs.Stack, logical: str, process: LambdaProcess, origin: str | None,
                 viewer: str | None = VIEWER, headers: dict[str, str] | None = None) -> None:
        super().__init__(stack, logical, process)
        self.origin, self.viewer, self.headers = origin, viewer, headers or {}

    def event(self, method: str, path: str, params: dict[str, Any], request_id: str) -> dict[str, Any]:
        return url_event(method, path, params, request_id, url_host=self.stack.url_hosts[self.logical],
                         origin=self.origin, viewer=self.viewer, headers=self.headers)

    def sent(self, origin: str | None = _SAME, viewer: str | None = _SAME,
             headers: dict[str, str] | None = _SAME) -> UrlApi:
        """The same function, its requests sent with other headers."""
        other = copy.copy(self)
        other.origin = self.origin if origin is _SAME else origin
        other.viewer = self.viewer if viewer is _SAME else viewer
        other.headers = self.headers if headers is _SAME else (headers or {})
        return other
