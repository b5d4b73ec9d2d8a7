"""The deploy rehearsal, offline (issue 22, item 6): the packaged stack created in
moto, its packaged functions run as Lambda runs them, under their roles.

1. `out/cloudformation.json` (package.sh's offline SAM transform of
   `out/sam.json`) is created as a stack in moto's CloudFormation running as
   a server on loopback (tests/deploy/rehearsal_stack.py), the functions' and
   layer's zips uploaded to moto's S3. What moto cannot create is taken out,
   each with the test that checks it instead (`rehearsal_stack.UNCREATABLE`;
   all are linted by cfn-lint in make package): the WAF web ACL and its
   association (test_limits.py, test_waf_routes.py), the API Gateway stage and
   deployment (moto ignores the REST API's OpenAPI body; test_template.py's
   stage and gateway-response tests), the 15 alarms, the dashboard, the budget
   and the alarm e-mail subscription (test_monitoring.py), the signing-key
   and origin secrets and the API function's URL (test_template.py,
   test_edge_door.py; created beside the stack from their properties), the
   CloudFront distribution and its viewer function (test_edge_door.py).
2. The packaged deployment.zip and layer (unpacked; not the source tree) run
   in clean interpreters (`python -I -S -B`, the runtime's boto3 on the path;
   tests/deploy/rehearsal_lambda.py), one per function, each with exactly the
   environment the created stack gives it (moto's `get_function_configuration`)
   and against the stack's tables, fed function URL events as the default
   door's distribution sends them (the origin secret's value read from
   Secrets Manager as the operator, the viewer function's headers, Host the
   created URL's domain), API Gateway proxy events (the REST door) and the
   DynamoDB Streams records of the stack's mappings, shaped like AWS's samples
   (tests/deploy/rehearsal_events.py): a captcha solved and verified (and its
   replay refused, through both doors), a user's share credited, the stream
   consumer run, the ranks it wrote read, a withdrawal
   (tests/deploy/rehearsal_scenario.py). Then the door itself
   (tests/deploy/rehearsal_door.py): direct hits on the function URL
   refused `forbidden` with no DynamoDB call, the viewer's address honoured
   only with the origin secret. The site is created first by the
   operator's command (`chalicelib.admin --stage prod create-site`, as make
   deploy does).
   The prod stage is declared arm64 and this machine is x86_64: the rehearsal
   runs the `packaged_x86` build, the same files but for ada-url's and cffi's
   C extensions (tests/deploy/test_package.py checks both builds).
3. moto enforces IAM on every request: each function's process holds the keys
   of an identity carrying its role's policy from the template
   (tests/deploy/rehearsal_iam.py; Secrets Manager's calls are checked
   against the secret's ARN: the API reads two secrets under two grants).
   moto names no table in its check and takes a transaction as one action,
   so every AWS call each function made is also recorded in its process and
   each (action, table/index/secret) checked against its role's own
   statements (tests/deploy/iam.py): transactions item by item, as IAM does.
4. `test_a_broken_stack_fails_the_rehearsal` breaks the template on purpose.
   The MinWork case is also what tests/deploy/test_defaults.py catches
   without running anything.
"""
from __future__ import annotations

import copy
import json
import os
import platform
import re
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import rehearsal_door as door
from tests.deploy import rehearsal_iam as ri
from tests.deploy import rehearsal_stack as rs
from tests.deploy.conftest import Packaged
from tests.deploy.rehearsal_lambda import Api, Function, LambdaProcess, UrlApi
from tests.deploy.rehearsal_scenario import Run, scenario
from tests.deploy.test_package import _runtime_dir

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {"APIHandler": "app.app", "Streams": "app.stream_consumer", "Verify": "app.verify_handler"}


def _unpack(packaged: Packaged, workdir: Path) -> tuple[Path, Path, Path]:
    task, opt = workdir / "task", workdir / "opt"
    with zipfile.ZipFile(packaged.out / "deployment.zip") as zf:
        zf.extractall(task)
    with zipfile.ZipFile(packaged.out / "powertools-layer.zip") as zf:
        zf.extractall(opt)
    return task, opt / "python", _runtime_dir(workdir / "runtime")


def _create_site(endpoint: str, operator: dict[str, str]) -> dict[str, str]:
    """The operator's command, as make deploy's first-site step runs it."""
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": rs.REGION,
           "AWS_ACCESS_KEY_ID": operator["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": operator["aws_secret_access_key"],
           "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", "--stage", "prod", "create-site",
                           "rehearsal"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _start(stack: rs.Stack, function: str, environment: dict[str, str], keys: dict[str, str],
           paths: tuple[Path, Path, Path], workdir: Path) -> LambdaProcess:
    """The function's process: the stack's environment for it, its role's keys, and
    what Lambda's runtime sets (region, name, task root); endpoints point at moto."""
    env = {k: str(v) for k, v in environment.items()}  # moto keeps Numbers as numbers
    env.update({"AWS_REGION": rs.REGION, "AWS_DEFAULT_REGION": rs.REGION,
                "AWS_LAMBDA_FUNCTION_NAME": stack.physical[function],
                "LAMBDA_TASK_ROOT": str(paths[0]), "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
                "AWS_ENDPOINT_URL": stack.endpoint, "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    return LambdaProcess(*paths, FUNCTIONS[function], env, workdir / f"{function}.calls")


def rehearse(packaged: Packaged, workdir: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Run:
    """Create the stack (the template edited by `edit`), run the scenario, check every call."""
    from moto.server import ThreadedMotoServer

    template = copy.deepcopy(packaged.cfn)
    if edit is not None:
        edit(template)
    paths = _unpack(packaged, workdir)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=rs.free_port(), verbose=False)
    server.start()
    try:
        with ri.secrets_by_arn():
            return _rehearse_on(f"http://127.0.0.1:{server._port}", template, packaged.out, paths, workdir)
    finally:
        server.stop()


def _rehearse_on(endpoint: str, template: dict[str, Any], out: Path, paths: tuple[Path, Path, Path],
                 workdir: Path) -> Run:
    run, processes, previous = Run(), [], None
    try:
        rs.reset(endpoint)
        with warnings.catch_warnings():  # moto: "Tried to parse ... not supported" (taken out)
            warnings.simplefilter("ignore")
            run.stack = stack = rs.create_stack(template, out, endpoint)
        operator = ri.identity(endpoint, "rehearsal-operator", ri.ADMIN_POLICY)
        keys = {fn: ri.identity(endpoint, f"rehearsal-{fn}", ri.moto_shaped(stack.role_policy(fn)))
                for fn in FUNCTIONS}
        environments = {fn: stack.environment(fn) for fn in FUNCTIONS}
        previous = ri.enforce_iam(endpoint, "0")
        site = _create_site(endpoint, operator)
        processes = [_start(stack, fn, environments[fn], keys[fn], paths, workdir) for fn in FUNCTIONS]
        # The distribution's origin header: the secret's value, resolved as the operator.
        origin = rs.client("secretsmanager", endpoint, **operator).get_secret_value(
            SecretId=stack.origin_secret_arn)["SecretString"]
        url = UrlApi(stack, "APIHandler", processes[0], origin=origin)
        verify = UrlApi(stack, "Verify", processes[2], origin=origin)
        rest, consumer = Api(stack, "APIHandler", processes[0]), Function(stack, "Streams", processes[1])
        scenario(url, verify, rest, consumer, site, operator, run)
        run.door = {"direct hits": door.direct_hits(url, site), "viewer": door.viewer_address(url, site)}
        run.calls = {function.logical: function.calls() for function in (url, consumer, verify)}
        run.operations = {function.logical: function.operations() for function in (url, consumer, verify)}
        return run
    finally:
        for process in processes:
            process.close()
        if previous is not None:
            ri.enforce_iam(endpoint, previous)
        rs.reset(endpoint)


@pytest.fixture(scope="module")
def packaged_here(request: pytest.FixtureRequest) -> Packaged:
    """The build this machine can run: the prod stage declares arm64, so on an x86_64
    machine `packaged_x86` (the same files but for ada-url's and cffi's builds)."""
    arm = platform.machine() in ("aarch64", "arm64")
    return request.getfixturevalue("packaged" if arm else "packaged_x86")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rehearsal(packaged_here: Packaged, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return rehearse(packaged_here, tmp_path_factory.mktemp("rehearsal"))


def test_the_packaged_stack_solves_verifies_credits_consumes_and_withdraws(rehearsal: Run) -> None:
    assert rehearsal.answers["siteverify"]["success"] is True
    # One verified token, the share and the user's credit counted, alice's rank entries written.
    assert rehearsal.consumed["verifies"] == 1 and rehearsal.consumed["stats"] >= 2, rehearsal.consumed
    assert rehearsal.consumed["ranks"] >= 1, rehearsal.consumed


def test_moto_could_not_create_only_what_is_listed_and_checked_elsewhere(rehearsal: Run) -> None:
    from moto.cloudformation.parsing import get_model_map

    assert rehearsal.stack is not None
    removed_types = set(rehearsal.stack.removed.values())
    assert removed_types <= set(rs.UNCREATABLE), removed_types - set(rs.UNCREATABLE)
    # Everything left is a type moto's CloudFormation creates (nothing silently skipped).
    left = {r["Type"] for r in rehearsal.stack.template["Resources"].values()}
    assert left <= set(get_model_map()), left - set(get_model_map())
    assert {"APIHandler", "Streams", "Verify", "ApiHandlerRole", "StreamsRole", "VerifyRole", "GuardsStreamMapping",
            "LedgerStreamMapping", "TokensStreamMapping"} <= set(rehearsal.stack.physical)
    print("taken out of the stack moto created:\n" + "\n".join(
        f"  {logical} ({kind})" for logical, kind in sorted(rehearsal.stack.removed.items())))


def test_every_call_each_function_made_is_allowed_by_its_role(rehearsal: Run) -> None:
    """(Asserted by the rehearsal itself; here the calls are listed.)"""
    assert rehearsal.stack is not None
    for function, calls in rehearsal.calls.items():
        assert calls, f"no AWS call recorded for {function}"
        print(f"AWS operations the {function} function sent: {', '.join(rehearsal.operations[function])}")
        print("IAM actions they need, each allowed by its role:\n" +
              "\n".join(f"  {a} {r}" for a, r in calls))
    # The two secrets the API reads, each by the ARN its environment names.
    read = {resource for action, resource in rehearsal.calls["APIHandler"]
            if action == "secretsmanager:GetSecretValue"}
    assert read == {rehearsal.stack.secret_arn, rehearsal.stack.origin_secret_arn}, read
    # The verify function checks CloudFront's origin header with its own role's grant.
    read = {resource for action, resource in rehearsal.calls["Verify"]
            if action == "secretsmanager:GetSecretValue"}
    assert rehearsal.stack.origin_secret_arn in read, read
    assert ":secret:workproof-prod/origin-header-" in rehearsal.stack.origin_secret_arn
    # The money paths are transactions: IAM (and this check) sees their items, moto only the call.
    assert "dynamodb:TransactWriteItems" in rehearsal.operations["APIHandler"]


def test_the_function_url_refuses_direct_hits_before_any_dynamodb_call(rehearsal: Run) -> None:
    """(Each answer and the absence of DynamoDB calls are asserted by the rehearsal.)"""
    hits = rehearsal.door["direct hits"]
    assert hits == {what: [door.FORBIDDEN] * 3 for what in ("no origin header", "a wrong origin header")}


def test_the_viewer_address_counts_only_with_the_origin_secret(rehearsal: Run) -> None:
    viewer = rehearsal.door["viewer"]
    print(f"job requests from {door.FLOODER} until busy: {len(viewer['flood'])}")
    assert viewer["flood"][-1] == door.BUSY and viewer["x-forwarded-for"] == door.BUSY
    assert viewer["neighbour"]["success"] is True
    assert viewer["without the secret"] == {
        what: [door.FORBIDDEN] * (2 + len(door.FRESH)) for what in ("no origin header", "a wrong origin header")}


def test_each_check_named_instead_of_moto_exists() -> None:
    """The tests UNCREATABLE names as checking what moto cannot create are there."""
    for reason in rs.UNCREATABLE.values():
        for module, test in re.findall(r"(test_\w+\.py)(?:::(test_\w+))?", reason):
            source = (ROOT / "tests" / "deploy" / module).read_text()
            assert not test or f"def {test}(" in source, f"{module}::{test} does not exist"


def _drop_action(role: str, action: str, resource_suffix: str) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        for st in template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
            if action in st["Action"] and any(r.endswith(resource_suffix) for r in resources):
                st["Action"] = [a for a in st["Action"] if a != action]
        template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] = [
            st for st in template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"][
                "Statement"] if st["Action"]]
    return edit


def _drop_variable(function: str, name: str) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        del template["Resources"][function]["Properties"]["Environment"]["Variables"][name]
    return edit


def _set_default(parameter: str, value: int) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        template["Parameters"][parameter]["Default"] = value
    return edit


# Template edit -> what the failure must say (each of a tuple). (IAM has no dynamodb:TransactWriteItems
# action to take away: a transaction needs each item's own action on its table.)
BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str | tuple[str, ...]]] = {
    # moto's own IAM check refuses the call (the function answers internal_error): it checks
    # Secrets Manager's calls against the secret's ARN here (rehearsal_stack.secrets_by_arn).
    "api-role-without-GetSecretValue": (
        _drop_action("ApiHandlerRole", "secretsmanager:GetSecretValue", "signing-key-??????"),
        ("not authorized to perform: secretsmanager:GetSecretValue",
         '{"SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-prod/signing-key-')),
    # Inside a transaction moto checks only TransactWriteItems: the recorded check catches it.
    "api-role-without-PutItem-on-guards": (
        _drop_action("ApiHandlerRole", "dynamodb:PutItem", "table/workproof-prod-guards"),
        "dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/workproof-prod-guards"),
    # Without the origin secret the function URL door is closed: CloudFront's requests too.
    # (Its log line is one of a sample, like a flood's: the answer is what is checked.)
    "api-without-WORKPROOF_ORIGIN_SECRET_ARN": (_drop_variable("APIHandler", "WORKPROOF_ORIGIN_SECRET_ARN"),
                                               ("POST /pow/job: {'success': False, 'error': 'forbidden'}",
                                                "what AWS refused: nothing")),
    # The origin secret unreadable: every function URL request internal_error, AWS's refusal shown.
    "api-role-without-the-OriginSecret-grant": (
        _drop_action("ApiHandlerRole", "secretsmanager:GetSecretValue", "origin-header-??????"),
        ("POST /pow/job: {'success': False, 'error': 'internal_error'}",
         'secretsmanager:GetSecretValue {"SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:'
         'workproof-prod/origin-header-', "AccessDenied: User: arn:aws:iam::123456789012:user/"
         "rehearsal-APIHandler is not authorized to perform: secretsmanager:GetSecretValue")),
    # The verify function is the door's only way to /siteverify: without the secret, refused.
    "verify-without-WORKPROOF_ORIGIN_SECRET_ARN": (_drop_variable("Verify", "WORKPROOF_ORIGIN_SECRET_ARN"),
                                                  "POST /siteverify: {'success': False, 'error': 'forbidden'}"),
    "api-without-WORKPROOF_GUARDS_TABLE": (_drop_variable("APIHandler", "WORKPROOF_GUARDS_TABLE"),
                                          "ResourceNotFound"),
    # What issue 22 found: 65,536 in the template, 2^22 documented (tests/deploy/test_defaults.py).
    "MinWork-default-65536": (_set_default("MinWork", 65536), "not the documented 4194304"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_stack_fails_the_rehearsal(breakage: str, packaged_here: Packaged, tmp_path: Path,
                                            rehearsal: Run) -> None:
    """Each breakage fails the rehearsal for its own reason (after the unbroken one
    passed: `rehearsal`)."""
    edit, reasons = BREAKAGES[breakage]
    with pytest.raises(AssertionError) as failed:
        rehearse(packaged_here, tmp_path, edit)
    print(f"{breakage}: {failed.value}")
    for reason in (reasons,) if isinstance(reasons, str) else reasons:
        assert reason in str(failed.value), str(failed.value)
