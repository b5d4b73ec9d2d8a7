"""`make deploy`: package, deploy the prod stack to a fresh (or existing)
AWS account, create the first site, print where everything is, smoke-test.

    python deploy/deploy_stack.py [--region R] [--alarm-email E] [--monthly-budget USD]
                            [--front-door cloudfront|rest] [--edge-plan FREE|PRO|BUSINESS|PREMIUM|NONE]
                            [--site-name NAME] [--yes]

Each step prints one line; each is the AWS CLI call the manual path in
deploy/README.md shows, made through boto3 (the same API, and a dependency
the repository already has). Variables: AWS_REGION / AWS_DEFAULT_REGION,
ALARM_EMAIL, MONTHLY_BUDGET, FRONT_DOOR, EDGE_PLAN, SITE_NAME; a missing one
is asked for when a person is at the terminal.

The front door: the cloudfront door (a CloudFront distribution on a flat-rate
plan, FREE unless EDGE_PLAN says otherwise) in us-east-1, where AWS creates a
CloudFront distribution's WAF web ACL; the REST door elsewhere, unless asked.
A paid plan is a purchase: it is created PENDING_APPROVAL and billed only once
approved, which this script leaves to a person (it says how).

1. who and where: the account (sts) and region;
2. the account's Lambda concurrency quota: reserve 70 + 10 + 10 concurrent
   executions (API, stream consumer, verify function: bench/bill.py
   DEPLOY_RESERVATION) only if that leaves AWS's minimum of 100 unreserved;
   a new account's small quota gets none;
3. what is there: a stack that failed its first create is deleted (it holds
   nothing); leftovers of an earlier stack (tables, a secret waiting out its
   recovery window) are reported with their recovery, and the secret is
   deleted for good on confirmation (it held only a key for jobs long expired);
4. `make package` (deploy/package.sh), the zips and the template to an
   artifact bucket of this account and region;
5. a change set (create or update) executed and waited for; on failure the
   stack's failed events, one line each;
6. a new stack's tables get their deletion protection once it exists
   (created without it, so a failed first create rolls back to nothing);
7. the first site if the stack has none: its secret written to
   .workproof/prod-first-site.json (mode 600), never printed;
8. the API URL (the distribution's on the cloudfront door), the dashboard URL,
   a paid plan's approval step, and `make smoke` against them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bill import DEPLOY_RESERVATION  # noqa: E402

STACK = "workproof-prod"
# AWS refuses a reservation that leaves fewer unreserved executions than this.
MIN_UNRESERVED = 100
TABLE_SUFFIXES = ("sites", "ledger", "tokens", "guards", "stats", "links")
SECRET_NAME = f"{STACK}/signing-key"
# The cloudfront door's origin header (deleted with the stack, so a secret of
# that name may be waiting out its recovery window too).
ORIGIN_SECRET_NAME = f"{STACK}/origin-header"
FRONT_DOORS = ("cloudfront", "rest")
EDGE_PLANS = ("FREE", "PRO", "BUSINESS", "PREMIUM", "NONE")
# AWS creates a CloudFront distribution's (CLOUDFRONT-scope) web ACL only here.
EDGE_REGION = "us-east-1"
FIRST_SITE_FILE = ROOT / ".workproof" / "prod-first-site.json"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(RuntimeError):
    """A step that cannot go on; its message says what to do."""


def say(text: str) -> None:
    print(f"deploy: {text}", flush=True)


def reservation(account_limit: int) -> dict[str, int]:
    """The reserved concurrency to ask for, given the account's quota."""
    wanted = sum(DEPLOY_RESERVATION.values())
    if account_limit - wanted >= MIN_UNRESERVED:
        return dict(DEPLOY_RESERVATION)
    return {name: 0 for name in DEPLOY_RESERVATION}


def stack_state(cfn: Any) -> str | None:
    """The stack's status, or None if there is none."""
    try:
        stacks = cfn.describe_stacks(StackName=STACK)["Stacks"]
    except cfn.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def front_door(region: str, asked: str) -> str:
    """The door to deploy: the one asked for, else cloudfront where it can be made."""
    if asked and asked not in FRONT_DOORS:
        raise DeployError(f"FRONT_DOOR={asked}: one of {', '.join(FRONT_DOORS)}")
    if asked == "cloudfront" and region != EDGE_REGION:
        raise DeployError(f"the cloudfront door's WAF web ACL can only be created in {EDGE_REGION}: "
                          f"deploy there (REGION={EDGE_REGION}) or FRONT_DOOR=rest")
    return asked or ("cloudfront" if region == EDGE_REGION else "rest")


def _pending(secrets: Any, name: str) -> bool:
    try:
        return "DeletedDate" in secrets.describe_secret(SecretId=name)
    except secrets.exceptions.ResourceNotFoundException:
        return False


def leftovers(dynamodb: Any, secrets: Any) -> tuple[list[str], list[str]]:
    """(tables of this stack's names that exist, its secrets waiting out deletion)."""
    names = set(dynamodb.list_tables().get("TableNames", []))
    tables = [f"{STACK}-{s}" for s in TABLE_SUFFIXES if f"{STACK}-{s}" in names]
    return tables, [n for n in (SECRET_NAME, ORIGIN_SECRET_NAME) if _pending(secrets, n)]


def upload(s3: Any, bucket: str, path: Path) -> str:
    """`path` under its content hash in `bucket` (an unchanged file is not sent again)."""
    data = path.read_bytes()
    key = f"{STACK}/{hashlib.sha256(data).hexdigest()[:20]}-{path.name}"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return key


def with_artifacts(template: dict[str, Any], bucket: str, keys: dict[str, str]) -> dict[str, Any]:
    """The packaged template with its local code paths made S3 locations
    (what `aws cloudformation package` does)."""
    out = json.loads(json.dumps(template))
    for resource in out["Resources"].values():
        props = resource.get("Properties", {})
        for field in ("CodeUri", "ContentUri"):
            local = props.get(field)
            if isinstance(local, str) and not local.startswith("s3://"):
                name = Path(local).name
                if name not in keys:
                    raise DeployError(f"{field} {local}: not among the packaged files")
                props[field] = f"s3://{bucket}/{keys[name]}"
    return out


def parameters(values: dict[str, str | int]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]


def failed_events(cfn: Any) -> list[str]:
    events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
    return [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
            for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")][:10]


def run_change_set(cfn: Any, kind: str, template_url: str, values: dict[str, str | int]) -> None:
    """Create the change set, execute it and wait; DeployError with the failed events."""
    what = json.dumps([kind, template_url, values], sort_keys=True).encode()
    name = f"make-deploy-{hashlib.sha256(what).hexdigest()[:12]}"
    cfn.create_change_set(StackName=STACK, ChangeSetName=name, ChangeSetType=kind,
                          TemplateURL=template_url, Parameters=parameters(values),
                          Capabilities=CAPABILITIES)
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=STACK, ChangeSetName=name)
    except Exception:
        reason = cfn.describe_change_set(StackName=STACK, ChangeSetName=name).get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            say("the stack is up to date")
            return
        raise DeployError(f"change set refused: {reason}") from None
    cfn.execute_change_set(StackName=STACK, ChangeSetName=name)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=STACK, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    except Exception:
        lines = "\n  ".join(failed_events(cfn))
        raise DeployError(f"the stack did not {kind.lower()}:\n  {lines}\n"
                          "  see deploy/README.md, 'If the first deploy failed'") from None


def outputs(cfn: Any) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def admin(*args: str) -> Any:
    """`python -m chalicelib.admin --stage prod ARGS` (this machine's credentials)."""
    done = subprocess.run([sys.executable, "-m", "chalicelib.admin", "--stage", "prod", *args],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DeployError(f"admin {args[0]}: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def first_site(name: str) -> tuple[str, Path | None]:
    """(a site key, the file holding the new site's secret or None if one existed)."""
    sites = admin("list-sites")["sites"]
    if sites:
        return str(sites[0]["site_key"]), None
    created = admin("create-site", name)
    FIRST_SITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIRST_SITE_FILE.touch(mode=0o600)
    FIRST_SITE_FILE.write_text(json.dumps(created, indent=2) + "\n")
    os.chmod(FIRST_SITE_FILE, 0o600)
    return str(created["site_key"]), FIRST_SITE_FILE


def ask(value: str, prompt: str) -> str:
    """`value`, or what the person at the terminal types (nothing without one)."""
    if value or not sys.stdin.isatty():
        return value
    return input(f"deploy: {prompt}: ").strip()


def confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return input(f"deploy: {question} [y/N] ").strip().lower() in ("y", "yes")


def clear_the_way(session: Any, yes: bool) -> str:
    """CREATE or UPDATE, after removing what a failed first create left."""
    cfn = session.client("cloudformation")
    state = stack_state(cfn)
    if state in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        say(f"the stack's first create failed earlier ({state}): deleting it (it holds nothing)")
        cfn.delete_stack(StackName=STACK)
        cfn.get_waiter("stack_delete_complete").wait(StackName=STACK)
        state = None
    if state is not None and state.endswith("_IN_PROGRESS"):
        raise DeployError(f"the stack is {state}: wait for it to finish, then run make deploy again")
    if state is not None:
        return "UPDATE"
    tables, pending = leftovers(session.client("dynamodb"), session.client("secretsmanager"))
    if tables:
        raise DeployError(f"no stack, but its tables exist ({', '.join(tables)}): an earlier "
                          "stack kept them. Keep their data: deploy/README.md 'If the first "
                          "deploy failed'; or remove them: make destroy")
    for name in pending:
        if not confirm(f"{name} waits out its recovery window (an earlier stack's "
                       "secret: its jobs expired long ago, its distribution is gone): "
                       "delete it for good?", yes):
            raise DeployError(f"{name} is scheduled for deletion: its name is taken "
                              "until then (make deploy YES=1 deletes it for good)")
        session.client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        say(f"{name}: deleted for good")
    return "CREATE"


def plan_note(found: dict[str, str], plan: str) -> str | None:
    """What a person must do about the flat-rate plan, if anything."""
    if found.get("EdgePlanStatus") != "PENDING_APPROVAL":
        return None
    return (f"the {plan} flat-rate plan waits for your approval and bills nothing until then "
            "(until approved, CloudFront bills pay-as-you-go): approve it in the CloudFront "
            "console (the distribution's pricing plan), or with the PricingPlanManager API's "
            f"ApprovePaidSubscription for {found.get('EdgePlanArn', 'the stack output EdgePlanArn')} "
            "(deploy/README.md 'The front door')")


def package_and_upload(session: Any, account: str, region: str) -> str:
    """deploy/package.sh, then the zips and the template in the artifact bucket:
    the template's S3 URL."""
    out = ROOT / "out"
    subprocess.run(["bash", str(ROOT / "deploy" / "package.sh"), str(out)], cwd=ROOT, check=True)
    s3 = session.client("s3")
    bucket = f"workproof-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        where = {} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **where)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        say(f"artifact bucket s3://{bucket} created")
    keys = {name: upload(s3, bucket, out / name)
            for name in ("deployment.zip", "powertools-layer.zip")}
    template = with_artifacts(json.loads((out / "sam.json").read_text()), bucket, keys)
    body = json.dumps(template).encode()
    key = f"{STACK}/{hashlib.sha256(body).hexdigest()[:20]}-template.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default=os.environ.get("AWS_REGION")
                        or os.environ.get("AWS_DEFAULT_REGION", ""))
    parser.add_argument("--alarm-email", default=os.environ.get("ALARM_EMAIL", ""))
    parser.add_argument("--monthly-budget", default=os.environ.get("MONTHLY_BUDGET", ""))
    parser.add_argument("--front-door", default=os.environ.get("FRONT_DOOR", ""))
    parser.add_argument("--edge-plan", default=os.environ.get("EDGE_PLAN") or "FREE",
                        choices=EDGE_PLANS)
    parser.add_argument("--site-name", default=os.environ.get("SITE_NAME", ""))
    parser.add_argument("--yes", action="store_true", default=os.environ.get("YES") == "1")
    args = parser.parse_args(argv)
    try:
        deploy(args)
    except DeployError as error:
        print(f"deploy: stopped: {error}", file=sys.stderr)
        return 1
    return 0


def deploy(args: argparse.Namespace) -> None:
    import boto3

    region = ask(args.region, "AWS region (e.g. eu-west-1)")
    if not region:
        raise DeployError("no region: make deploy REGION=eu-west-1 (or set AWS_REGION)")
    email = ask(args.alarm_email, "e-mail for alarms and the budget (empty: none)")
    budget = ask(args.monthly_budget, "monthly budget in USD (0: none)") or "0"
    session = boto3.Session(region_name=region)
    account = session.client("sts").get_caller_identity()["Account"]
    say(f"account {account}, region {region}, stack {STACK}")
    door = front_door(region, args.front_door)
    say(f"front door: {door}" + (f" (flat-rate plan {args.edge_plan})" if door == "cloudfront" else
                                  "" if args.front_door else
                                  f" (the cloudfront door needs {EDGE_REGION}: see deploy/README.md)"))
    limit = int(session.client("lambda").get_account_settings()["AccountLimit"]
                ["ConcurrentExecutions"])
    reserved = reservation(limit)
    say(f"Lambda concurrency quota {limit}: reserving "
        + (", ".join(f"{k}={v}" for k, v in reserved.items()) if any(reserved.values())
           else f"nothing (a reservation needs {sum(DEPLOY_RESERVATION.values())} + "
                f"{MIN_UNRESERVED} unreserved; ask AWS for a higher quota)"))
    kind = clear_the_way(session, args.yes)
    url = package_and_upload(session, account, region)
    values: dict[str, str | int] = {"AlarmEmail": email, "MonthlyBudget": budget, **reserved,
                                    "FrontDoor": door, "EdgePlan": args.edge_plan}
    cfn = session.client("cloudformation")
    if kind == "CREATE":
        values["ProtectTables"] = "false"
    say(f"{'creating' if kind == 'CREATE' else 'updating'} the stack (minutes)")
    run_change_set(cfn, kind, url, values)
    if kind == "CREATE":
        say("stack created: turning on the tables' deletion protection")
        run_change_set(cfn, "UPDATE", url, {**values, "ProtectTables": "true"})
    found = outputs(cfn)
    site_key, secret_file = first_site(args.site_name or "first-site")
    api = found.get("EdgeURL", found["EndpointURL"]).rstrip("/")
    say(f"API: {api}")
    note = plan_note(found, args.edge_plan)
    if note:
        say(note)
    say(f"dashboard: {found.get('DashboardURL', api + '/dashboard')}")
    if email:
        say(f"alarms notify {email} once the address confirms AWS's subscription mail")
    if secret_file is None:
        say(f"site {site_key} already existed: make smoke needs its secret (admin rotate-secret)")
        return
    say(f"first site {site_key}: its secret is in {secret_file} (mode 600), not shown here")
    secret = json.loads(secret_file.read_text())["secret"]
    smoke = subprocess.run([sys.executable, "-m", "ops.smoke", "--url", api, "--site", site_key],
                           cwd=ROOT, env={**os.environ, "WORKPROOF_SMOKE_SECRET": secret},
                           check=False)
    if smoke.returncode != 0:
        raise DeployError("the smoke test failed (above); the stack is up: see deploy/README.md "
                          "'Operating: where to look'")
    say("smoke test passed")


if __name__ == "__main__":
    sys.exit(main())
