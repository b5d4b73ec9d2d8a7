"""Who calls in the deploy rehearsal (tests/deploy/test_rehearsal.py): IAM
identities in moto carrying the packaged roles' policies, and how moto's
enforcement is made to check what IAM would.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.deploy.rehearsal_stack import client

# moto checks DynamoDB's requests against the Resource "*" (it names no
# table) and a transaction as an action of its own, which IAM has not: IAM
# checks each item's PutItem/UpdateItem/... on its table. So the identity
# moto enforces carries the role's statements with their actions as written
# and Resource "*", plus the two transaction operations; which table and
# index each action touched is checked against the role's own statements
# from the recorded calls (test_rehearsal.py). Secrets Manager's requests
# are checked against the secret's ARN (`secrets_by_arn`), so its statements
# keep their resources, with moto's only wildcard (`*` for IAM's `?`): the
# API reads two secrets, each under its own grant.
MOTO_ONLY_ACTIONS = ["dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"]
ADMIN_POLICY = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _moto_resource(statement: dict[str, Any]) -> Any:
    actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
    if all(action.startswith("secretsmanager:") for action in actions):
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        return [resource.replace("?", "*") for resource in resources]
    return "*"


@contextmanager
def secrets_by_arn() -> Iterator[None]:
    """moto's Secrets Manager checks each request against the Resource "*"; IAM against
    the secret's ARN: while this holds, moto's server (in this process) does too."""
    from moto.secretsmanager.responses import SecretsManagerResponse

    def resource(response: Any) -> str:
        secret_id = response._get_param("SecretId")
        secrets = response.backend.secrets
        return str(secrets[secret_id].arn) if secret_id and secret_id in secrets else "*"

    SecretsManagerResponse._determine_resource = resource  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del SecretsManagerResponse._determine_resource  # type: ignore[attr-defined]


def moto_shaped(policy: dict[str, Any]) -> dict[str, Any]:
    statements = [dict(st, Resource=_moto_resource(st)) for st in policy["Statement"]]
    statements.append({"Sid": "MotoTransactions", "Effect": "Allow", "Action": MOTO_ONLY_ACTIONS,
                       "Resource": "*"})
    return {"Version": policy["Version"], "Statement": statements}


def identity(endpoint: str, name: str, policy: dict[str, Any]) -> dict[str, str]:
    """Access keys of a new IAM user carrying exactly `policy`."""
    iam = client("iam", endpoint)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def enforce_iam(endpoint: str, count: str = "0") -> str:
    """moto checks every request from now on ("0"), or not ("inf"); the previous setting.

    (The server runs in this process: the setting is this process's, and
    in-process mocks of other tests would see it; restore it.)"""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count.encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return str(json.load(response)["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])
