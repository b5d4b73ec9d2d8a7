"""The deployed signing key: Secrets Manager value format, lazy read, IAM grant."""
from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from chalicelib import config, pow
from tests.deploy.iam import allowed

ROOT = Path(__file__).resolve().parents[2]
ALNUM = string.ascii_letters + string.digits


def generated() -> str:
    """What the template's GenerateSecretString produces: 64 letters and digits."""
    return "".join(secrets.choice(ALNUM) for _ in range(64))


@pytest.fixture
def secret_env() -> Iterator[tuple[object, str]]:
    with mock_aws():
        import boto3

        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="workproof-prod/signing-key",
                                   SecretString=generated())["ARN"]
        # What the deployed function's settings hold: the secret's ARN, no keys.
        settings = config.Settings.from_environ({config.ENV_SIGNING_SECRET_ARN: arn})
        assert settings.signing_keys == () and settings.signing_secret_id == arn
        before = config.settings()
        config.use(settings)
        try:
            yield client, arn
        finally:
            config.use(before)


def test_function_reads_the_generated_secret_once(secret_env) -> None:
    client, arn = secret_env
    keys = pow.signing_keys()
    assert len(keys) == 1 and len(keys[0][1]) >= 32
    # Cached for KEYS_CACHE_SECONDS: a rolled value is seen after that, no restart.
    client.put_secret_value(SecretId=arn, SecretString=generated())
    assert pow.signing_keys() == keys
    import time
    later = time.monotonic() + pow.KEYS_CACHE_SECONDS + 1
    assert pow.signing_keys(now=later) != keys


def test_rolled_value_signs_with_the_first_and_verifies_all(secret_env) -> None:
    client, arn = secret_env
    old = client.get_secret_value(SecretId=arn)["SecretString"]
    new = generated()
    client.put_secret_value(SecretId=arn, SecretString=f"{new},{old}")
    keys = pow.signing_keys()
    assert [k for _kid, k in keys] == [new.encode(), old.encode()]
    assert keys[0][0] != keys[1][0]  # distinct key ids


def test_policy_grants_reading_exactly_this_secret(secret_env) -> None:
    _client, arn = secret_env
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-prod/signing-key-")
    assert allowed(policy, "secretsmanager:GetSecretValue", arn)
    assert not allowed(policy, "secretsmanager:PutSecretValue", arn)
    assert not allowed(policy, "secretsmanager:GetSecretValue",
                       arn.replace("signing-key", "signing-key-other"))
    config_env = json.loads((ROOT / ".chalice" / "config.json").read_text())[
        "stages"]["prod"]["environment_variables"]
    # The chalice-deploy path names the secret; GetSecretValue accepts a name.
    assert config_env[config.ENV_SIGNING_SECRET_ARN] == "workproof-prod/signing-key"
