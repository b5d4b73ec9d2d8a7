"""Settings: every variable read and checked once; a bad value is one line naming it."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import config, pow
from chalicelib.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")


def shown(value: str) -> str:
    """A value as messages show it: cut short past 80 characters."""
    return value if len(value) <= 80 else value[:77] + "..."


def message(**environ: str) -> str:
    with pytest.raises(SettingsError) as caught:
        Settings.from_environ(environ)
    return str(caught.value)


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_environ({})
    assert settings == Settings(
        tables={suffix: f"workproof-dev-{suffix}" for suffix in config.TABLE_ENV},
        region="us-east-1", public_url="", rest_status=False, signing_keys=(),
        signing_secret_id="", min_work=4_194_304, job_ttl=600, source_limits=1.0)


def test_an_empty_value_counts_as_unset() -> None:
    assert Settings.from_environ({name: "" for name in (
        *config.TABLE_ENV.values(), config.ENV_REGION, config.ENV_PUBLIC_URL,
        config.ENV_ERROR_STATUS, config.ENV_SIGNING_KEYS, config.ENV_SIGNING_SECRET_ARN,
        config.ENV_MIN_WORK, config.ENV_JOB_TTL)}) == Settings.from_environ({})


def test_every_good_value_is_taken() -> None:
    settings = Settings.from_environ({
        "WORKPROOF_LEDGER_TABLE": "prod.ledger_2", "AWS_DEFAULT_REGION": "eu-central-1",
        "WORKPROOF_PUBLIC_URL": "https://links.example.org/base/",
        "WORKPROOF_ERROR_STATUS": "rest", "WORKPROOF_SIGNING_KEYS": f"a:{KEY},raw-secret-of-20-chars",
        "WORKPROOF_SIGNING_SECRET_ARN": "workproof-prod/signing-key",
        "WORKPROOF_MIN_WORK": "131072", "WORKPROOF_JOB_TTL": "86400"})
    assert settings.tables["ledger"] == "prod.ledger_2"
    assert settings.tables["sites"] == "workproof-dev-sites"
    assert settings.region == "eu-central-1"
    assert settings.public_url == "https://links.example.org/base"
    assert settings.rest_status is True
    assert settings.signing_keys[0] == ("a", b"k" * 32)
    assert settings.signing_keys[1][1] == b"raw-secret-of-20-chars"
    assert settings.signing_secret_id == "workproof-prod/signing-key"
    assert (settings.min_work, settings.job_ttl) == (131072, 86400)
    assert Settings.from_environ({"WORKPROOF_ERROR_STATUS": "200"}).rest_status is False
    assert Settings.from_environ({"WORKPROOF_JOB_TTL": "60"}).job_ttl == 60
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-prod/signing-key-AbCdEf"
    assert Settings.from_environ({"WORKPROOF_SIGNING_SECRET_ARN": arn}).signing_secret_id == arn


@pytest.mark.parametrize("value", ["64k", "0", "-5", "+5", " 5", "5 ", "1e6", "5.0", "065536", "٥",
                                   "5_000", "1" * 101])
def test_min_work_must_be_a_positive_integer_in_ascii_digits(value: str) -> None:
    assert message(WORKPROOF_MIN_WORK=value) == \
        f"WORKPROOF_MIN_WORK={shown(value)}: not a positive integer"


def test_min_work_above_what_one_job_holds() -> None:
    assert config.MAX_MIN_WORK == pow.MAX_JOB_WORK
    assert Settings.from_environ({"WORKPROOF_MIN_WORK": str(2**32)}).min_work == 2**32
    assert message(WORKPROOF_MIN_WORK=str(2**32 + 1)) == \
        "WORKPROOF_MIN_WORK=4294967297: more than 4294967296 (the most one job holds)"


@pytest.mark.parametrize("value", ["59", "86401", "0", "ten", "600s", " 600", "0600"])
def test_job_ttl_is_60_to_86400_seconds(value: str) -> None:
    assert message(WORKPROOF_JOB_TTL=value) == \
        f"WORKPROOF_JOB_TTL={value}: not a whole number of seconds from 60 to 86400"


@pytest.mark.parametrize("value", ["rest-style", "REST", "404", " rest", "true"])
def test_error_status_is_200_or_rest_only(value: str) -> None:
    assert message(WORKPROOF_ERROR_STATUS=value) == f"WORKPROOF_ERROR_STATUS={value}: not 200 or rest"


@pytest.mark.parametrize("value", ["links.example.org", "ftp://example.org", "https://", "https:///x",
                                   "https://user:pw@example.org", "https://example.org/?a=1",
                                   "https://example.org/#top", "https://exa mple.org",
                                   "https://example.org:99999", "https://bücher.example"])
def test_public_url_is_an_http_url(value: str) -> None:
    assert message(WORKPROOF_PUBLIC_URL=value) == \
        f"WORKPROOF_PUBLIC_URL={value}: not an http(s) URL like https://api.example.com/base"


@pytest.mark.parametrize("variable", sorted(config.TABLE_ENV.values()))
@pytest.mark.parametrize("value", ["ab", "a" * 256, "my table", "table/1", "tâble"])
def test_table_names_follow_dynamodb_rules(variable: str, value: str) -> None:
    assert message(**{variable: value}) == \
        f"{variable}={shown(value)}: not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)"


@pytest.mark.parametrize("value", ["US-EAST-1", "us east 1", "useast1", "us-east", "local"])
def test_region_is_an_aws_region_name(value: str) -> None:
    assert message(AWS_DEFAULT_REGION=value) == \
        f"AWS_DEFAULT_REGION={value}: not an AWS region name (like us-east-1)"


@pytest.mark.parametrize("variable", ["WORKPROOF_SIGNING_SECRET_ARN", "WORKPROOF_ORIGIN_SECRET_ARN"])
@pytest.mark.parametrize("value", ["has space", "arn:aws:s3:::bucket/key", "x" * 513, "a,b"])
def test_a_secret_is_an_arn_or_a_secret_name(variable: str, value: str) -> None:
    assert message(**{variable: value}).startswith(f"{variable}=")
    assert message(**{variable: value}).endswith(": not a Secrets Manager secret ARN or name")


def test_the_origin_secret_is_named_or_the_door_is_closed() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:workproof-prod/origin-secret-AbCdEf"
    assert Settings.from_environ({"WORKPROOF_ORIGIN_SECRET_ARN": arn}).origin_secret_id == arn
    assert Settings.from_environ({"WORKPROOF_ORIGIN_SECRET_ARN": ""}).origin_secret_id == ""
    assert Settings.from_environ({}).origin_secret_id == ""


@pytest.mark.parametrize("value", ["k1:" + base64.urlsafe_b64encode(b"short").decode(),
                                   "tooshort", "k1:!!!not-base64!!!", ",", "k1:"])
def test_bad_signing_keys_are_named_but_never_shown(value: str) -> None:
    text = message(WORKPROOF_SIGNING_KEYS=value)
    assert text == ("WORKPROOF_SIGNING_KEYS: not kid:base64key[,kid:base64key...] with keys "
                    "of 16 bytes or more (value not shown)")


def test_settings_repr_never_shows_a_key() -> None:
    settings = Settings.from_environ({"WORKPROOF_SIGNING_KEYS": f"a:{KEY}"})
    assert KEY not in repr(settings) and "kkkk" not in repr(settings)


def test_a_value_with_control_characters_stays_on_one_line() -> None:
    text = message(WORKPROOF_MIN_WORK="64\nk")
    assert text == "WORKPROOF_MIN_WORK=64\\nk: not a positive integer"
    assert len(message(WORKPROOF_MIN_WORK="9x" * 100).split("=", 1)[1]) < 110


def test_table_names_come_from_one_place() -> None:
    assert config.table_names({}, "prod")["ledger"] == "workproof-prod-ledger"
    assert config.table_names({"WORKPROOF_LEDGER_TABLE": "mine"}, "prod")["ledger"] == "mine"
    assert config.table_names({}, prefix="custom")["stats"] == "custom-stats"


def test_nothing_but_config_reads_workproof_settings_from_the_environment() -> None:
    readers = []
    for path in sorted((ROOT / "chalicelib").rglob("*.py")) + [ROOT / "app.py"]:
        text = path.read_text()
        if path.name != "config.py" and ("os.environ" in text or "getenv" in text):
            readers.append(str(path.relative_to(ROOT)))
    # app.py hands the whole environment to config.Settings, once.
    assert readers == ["app.py"]
    assert (ROOT / "app.py").read_text().count("os.environ") == 1
    defaults = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "chalicelib").rglob("*.py"))
                if '"us-east-1"' in p.read_text()]
    assert defaults == ["chalicelib/config.py"]


def _import_app(**variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKPROOF_")}
    env.update(variables)
    return subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_importing_the_app_with_a_bad_value_fails_its_init() -> None:
    """What Lambda reports as the function's init error: the exception and its one line."""
    proc = _import_app(WORKPROOF_MIN_WORK="64k")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == \
        "chalicelib.config.SettingsError: WORKPROOF_MIN_WORK=64k: not a positive integer"
    assert _import_app(WORKPROOF_MIN_WORK="65536").returncode == 0
