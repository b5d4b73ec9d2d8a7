"""pytest plugin: record every DynamoDB action the test session sends.

Register it for the whole suite (tests/conftest.py):

    pytest_plugins = ["tests.fixtures", "tests.deploy.botocore_recorder"]

It wraps `botocore.client.BaseClient._make_api_call` (pynamodb and boto3 both
go through it; moto answers below it, so mocked calls are recorded too) and
keeps, for each DynamoDB call, the IAM actions it needs on which table or
index. IAM authorises a transaction item by item and a batch table by table,
so:
  TransactWriteItems -> PutItem / UpdateItem / DeleteItem / ConditionCheckItem
                        on each item's table
  TransactGetItems   -> GetItem on each item's table
  BatchWriteItem     -> BatchWriteItem on each table of RequestItems
  BatchGetItem       -> BatchGetItem on each table of RequestItems
  Query / Scan with IndexName -> the action on `table/NAME/index/INDEX`

Each call is classified by who made it:
  "lambda"   a deployed function's code, with the function it runs in:
             "streams" when chalicelib/streams.py is on the call stack (the
             stream consumer, fed by tests/streams.py drain() as Lambda's
             event source mappings feed it when deployed), else "api" when
             app.py is (every request the tests drive through the app);
  "operator" no app.py, but the admin command, table creation or the local
             server's own set-up is: run with the operator's credentials;
  "library"  chalicelib code called directly by a test or fixture (unit
             tests; fixtures creating sites or crediting users): reported by
             test_iam_policy.py, not asserted, since admin-only functions
             (create_site, set_payout, ...) are called this way too;
  "test"     a test or fixture talking to DynamoDB directly.
tests/deploy/test_iam_policy.py (moved to the end of the run) asserts that
every "lambda" action is granted by its function's policy (FUNCTION_POLICIES:
.chalice/policy-prod.json for the API, policy-prod-streams.json for the
consumer); a `pytest_sessionfinish` hook re-checks what was recorded after
that test and fails the session if anything is not granted.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_FILE = str(ROOT / "app.py")
CHALICELIB = str(ROOT / "chalicelib") + os.sep
STREAMS_FILE = str(ROOT / "chalicelib" / "streams.py")
OPERATOR_DIR = str(ROOT / "ops") + os.sep
TESTS_DIR = str(ROOT / "tests") + os.sep

# Each deployed function and its policy file (`.chalice/policy-<stage><suffix>.json`,
# set per function in .chalice/config.json).
FUNCTION_POLICIES = {"api": "", "streams": "-streams"}

_TRANSACT_WRITE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem"}


@dataclass(frozen=True)
class Action:
    action: str        # e.g. "dynamodb:UpdateItem"
    table: str         # the table name as sent
    index: str | None  # the index name, for Query/Scan on an index
    origin: str        # "lambda" | "operator" | "library" | "test"
    operation: str     # the API operation that carried it
    caller: str        # "file:line" of the innermost project frame
    function: str = ""  # for "lambda": the deployed function (FUNCTION_POLICIES)


@dataclass
class Recorder:
    actions: dict[Action, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_upto: int = 0

    def add(self, action: Action) -> None:
        with self.lock:
            self.actions[action] = self.actions.get(action, 0) + 1

    def of_origin(self, origin: str) -> list[Action]:
        with self.lock:
            return [a for a in self.actions if a.origin == origin]

    def of_function(self, function: str) -> list[Action]:
        return [a for a in self.of_origin("lambda") if a.function == function]


RECORDER = Recorder()


def _classify() -> tuple[str, str, str]:
    """(origin, innermost project frame, function) of the current DynamoDB call."""
    frame = sys._getframe(2)
    innermost = ""
    saw_app = saw_streams = saw_operator = False
    inner_kind = ""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == STREAMS_FILE:
            saw_streams = True
        elif filename == APP_FILE:
            saw_app = True
        elif filename.startswith(OPERATOR_DIR):
            saw_operator = True
        if not inner_kind and (filename == APP_FILE or filename.startswith(CHALICELIB)
                               or filename.startswith(TESTS_DIR)):
            innermost = f"{os.path.relpath(filename, ROOT)}:{frame.f_lineno}"
            inner_kind = "test" if filename.startswith(TESTS_DIR) else "library"
        frame = frame.f_back
    # The consumer runs in its own function whoever hands it the batch
    # (Lambda when deployed, drain() in tests, make run's stream pump).
    if saw_streams:
        return "lambda", innermost, "streams"
    if saw_app:
        return "lambda", innermost, "api"
    if saw_operator:
        return "operator", innermost, ""
    return (inner_kind or "test"), innermost, ""


def expand(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(IAM action, table, index) triples one DynamoDB call needs."""
    if operation == "TransactWriteItems":
        for item in params.get("TransactItems", []):
            for kind, action in _TRANSACT_WRITE.items():
                if kind in item:
                    yield f"dynamodb:{action}", item[kind]["TableName"], None
    elif operation == "TransactGetItems":
        for item in params.get("TransactItems", []):
            yield "dynamodb:GetItem", item["Get"]["TableName"], None
    elif operation in ("BatchWriteItem", "BatchGetItem"):
        for table in params.get("RequestItems", {}):
            yield f"dynamodb:{operation}", table, None
    elif "TableName" in params:
        yield f"dynamodb:{operation}", params["TableName"], params.get("IndexName")
    else:  # ListTables, ExecuteStatement, ...: account-level or unparsed
        yield f"dynamodb:{operation}", "*", None


def install() -> None:
    """Wrap botocore's single call path (idempotent)."""
    from botocore.client import BaseClient

    if getattr(BaseClient._make_api_call, "_workproof_recorder", False):
        return
    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            if self.meta.service_model.service_name == "dynamodb":
                origin, caller, function = _classify()
                for action, table, index in expand(operation_name, api_params or {}):
                    RECORDER.add(Action(action, table, index, origin, operation_name, caller,
                                        function))
        except Exception:  # recording must never change what the code under test sees
            pass
        return original(self, operation_name, api_params)

    _make_api_call._workproof_recorder = True  # type: ignore[attr-defined]
    _make_api_call._workproof_original = original  # type: ignore[attr-defined]
    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


# --- checking against the policy -------------------------------------------

def _suffix_of(table: str) -> str | None:
    """The models.TABLES suffix a table name stands for (e.g. ...-ledger -> ledger)."""
    from chalicelib.store import models

    for spec in models.TABLES:
        if table == spec.model.Meta.table_name or table == os.environ.get(spec.env_var) \
                or table.endswith(f"-{spec.suffix}"):
            return spec.suffix
    return None


def resource_arn(table: str, index: str | None, stage: str = "prod",
                 region: str = "us-east-1", account: str = "123456789012") -> str | None:
    """The ARN the deployed stage's request would touch, or None if unknown."""
    suffix = _suffix_of(table)
    if suffix is None:
        return None
    arn = f"arn:aws:dynamodb:{region}:{account}:table/workproof-{stage}-{suffix}"
    return f"{arn}/index/{index}" if index else arn


def ungranted(actions: list[Action], policy: dict[str, Any], stage: str = "prod") -> list[str]:
    """Human-readable list of the actions `policy` does not allow."""
    from tests.deploy.iam import allowed

    problems = []
    for act in sorted(set(actions), key=lambda a: (a.table, a.action, a.index or "")):
        arn = resource_arn(act.table, act.index, stage)
        if arn is None:
            problems.append(f"{act.action} on unknown table {act.table!r} ({act.caller})")
        elif not allowed(policy, act.action, arn):
            problems.append(f"{act.action} on {arn} (via {act.operation} at {act.caller})")
    return problems


def policy_file(stage: str = "prod", function: str = "api") -> Path:
    return ROOT / ".chalice" / f"policy-{stage}{FUNCTION_POLICIES[function]}.json"


def load_policy(stage: str = "prod", function: str = "api") -> dict[str, Any]:
    import json

    with open(policy_file(stage, function)) as f:
        return json.load(f)


def ungranted_by_function(actions: list[Action], stage: str = "prod") -> list[str]:
    """`ungranted()` of each "lambda" action against its own function's policy."""
    problems = []
    for function in FUNCTION_POLICIES:
        mine = [a for a in actions if a.origin == "lambda" and a.function == function]
        policy_name = policy_file(stage, function).name
        problems += [f"{policy_name}: {p}"
                     for p in ungranted(mine, load_policy(stage, function), stage)]
    return problems


# --- pytest hooks -----------------------------------------------------------

LAST_MARK = "iam_last"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{LAST_MARK}: run after every other test (IAM check)")
    install()
    config._workproof_iam_recorder = RECORDER  # type: ignore[attr-defined]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(LAST_MARK)]
    if last:
        items[:] = [item for item in items if not item.get_closest_marker(LAST_MARK)] + last


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any Lambda action recorded at all is not in its function's policy."""
    lambda_actions = RECORDER.of_origin("lambda")
    if not lambda_actions:
        return
    problems = ungranted_by_function(lambda_actions, "prod")
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["IAM: DynamoDB actions the code sent that its function's policy does not grant:"]
        lines += [f"  {p}" for p in problems]
        if reporter is not None:
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line, red=True)
        else:
            print("\n".join(lines), file=sys.stderr)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
