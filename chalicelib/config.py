"""Every setting the app reads, parsed and checked once, at cold start.

`Settings.from_environ(os.environ)` is the only place a `WORKPROOF_*`
variable is read: app.py builds the settings when it is imported (a bad
value fails the function's init, or `make run`'s start, with one line
naming the variable) and installs them with `use`; code outside app.py
reads them through `settings()`. Table names and the default region live
here and nowhere else.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chalicelib.secret_refs import MIN_SIGNING_KEY_BYTES, SigningKeys, is_secret_id, parse_signing_keys

# Table names (each stage gets its own; CloudFormation passes them by Ref).
ENV_SITES_TABLE = "WORKPROOF_SITES_TABLE"
ENV_LEDGER_TABLE = "WORKPROOF_LEDGER_TABLE"
ENV_TOKENS_TABLE = "WORKPROOF_TOKENS_TABLE"
ENV_GUARDS_TABLE = "WORKPROOF_GUARDS_TABLE"
ENV_STATS_TABLE = "WORKPROOF_STATS_TABLE"
ENV_LINKS_TABLE = "WORKPROOF_LINKS_TABLE"
# Table suffix (as in `workproof-dev-<suffix>`) -> the variable that overrides its name.
TABLE_ENV: Mapping[str, str] = {
    "sites": ENV_SITES_TABLE,
    "ledger": ENV_LEDGER_TABLE,
    "tokens": ENV_TOKENS_TABLE,
    "guards": ENV_GUARDS_TABLE,
    "stats": ENV_STATS_TABLE,
    "links": ENV_LINKS_TABLE,
}

# DynamoDB endpoint: the AWS SDK's own variable (unset = real AWS).
ENV_DYNAMODB_ENDPOINT = "AWS_ENDPOINT_URL_DYNAMODB"
ENV_REGION = "AWS_DEFAULT_REGION"

# Public base URL of the API, used to build shortlink URLs. Empty = derive
# from the request (Host header and the API Gateway stage).
ENV_PUBLIC_URL = "WORKPROOF_PUBLIC_URL"
# "rest" = REST-style HTTP status codes on errors; default "200" (Coinhive's
# PHP client drops the body of a non-2xx answer).
ENV_ERROR_STATUS = "WORKPROOF_ERROR_STATUS"

# Proof-of-work signing keys: either given directly (local runs) as
# "kid:base64key[,kid:base64key...]" (first = current), or as the ARN (or
# name) of a Secrets Manager secret holding the same string (deployed; read
# on first use, off the cold-start path).
ENV_SIGNING_KEYS = "WORKPROOF_SIGNING_KEYS"
ENV_SIGNING_SECRET_ARN = "WORKPROOF_SIGNING_SECRET_ARN"
# A file holding the same string, for `chalice local` (the dev stage points it
# at the key `make run` / `make store` generate). A relative path is taken from
# the project's root (the folder holding app.py), wherever chalice runs from.
ENV_SIGNING_KEY_FILE = "WORKPROOF_SIGNING_KEY_FILE"
# The secret (ARN or name) whose string CloudFront sends as `x-workproof-origin`
# (chalicelib/lambda_app.py); unset = every function URL request refused.
ENV_ORIGIN_SECRET_ARN = "WORKPROOF_ORIGIN_SECRET_ARN"
# Minimum work per submit (k x D), in hashes.
ENV_MIN_WORK = "WORKPROOF_MIN_WORK"
# Seconds a job stays valid.
ENV_JOB_TTL = "WORKPROOF_JOB_TTL"
# Per-source request limits (chalicelib/limits.py): "off", or a factor on
# every bucket's capacity and rate (default 1; raise it behind a large NAT).
ENV_SOURCE_LIMITS = "WORKPROOF_SOURCE_LIMITS"
# Part of the successful reads whose request line is logged (0 to 1; failures,
# writes and metrics always are): CloudWatch Logs bills every byte ingested.
ENV_LOG_SAMPLE = "WORKPROOF_LOG_SAMPLE"

DEFAULT_TABLE_PREFIX = "workproof-dev"
DEFAULT_REGION = "us-east-1"
# 2^22: the largest power of two at which the captcha on a mid phone (CPU
# ×4) stays within 3 s p95 (`make bench-captcha`, docs/abuse-and-costs.md); a site under
# pressure steps up from it (chalicelib/pressure.py).
DEFAULT_MIN_WORK = 4_194_304
DEFAULT_JOB_TTL = 600
DEFAULT_ERROR_STATUS = "200"
DEFAULT_SOURCE_LIMITS = "on"
DEFAULT_LOG_SAMPLE = "0.1"
# One job holds at most this much work (pow.MAX_JOB_WORK), so no minimum above it.
MAX_MIN_WORK = 2**32
JOB_TTL_RANGE = (60, 86400)

# The deployed stack's settings, each with its one default: variable ->
# (the template parameter that sets it, its default as a string). The
# template's parameter defaults, both functions' environments and
# `chalice deploy`'s prod stage are checked against this by
# tests/deploy/test_defaults.py; bench/bill.py and docs/abuse-and-costs.md's cost
# figures use the same numbers.
DEPLOYED_SETTINGS: Mapping[str, tuple[str, str]] = {
    ENV_PUBLIC_URL: ("PublicUrl", ""),
    ENV_ERROR_STATUS: ("ErrorStatus", DEFAULT_ERROR_STATUS),
    ENV_MIN_WORK: ("MinWork", str(DEFAULT_MIN_WORK)),
    ENV_JOB_TTL: ("JobTtl", str(DEFAULT_JOB_TTL)),
    ENV_SOURCE_LIMITS: ("SourceLimits", DEFAULT_SOURCE_LIMITS),
    ENV_LOG_SAMPLE: ("LogSample", DEFAULT_LOG_SAMPLE),
}
# Settings the stack sets to a resource it creates (by Ref): variable -> the
# resource's logical id. Unset, the origin secret's "" closes its door.
DEPLOYED_RESOURCES: Mapping[str, str] = {
    ENV_SIGNING_SECRET_ARN: "SigningKeySecret",
    ENV_ORIGIN_SECRET_ARN: "EdgeOriginSecret",
}
# Settings only a local run uses (a deployed stack reads its keys from
# Secrets Manager and reaches DynamoDB at its regional endpoint).
LOCAL_ONLY_SETTINGS = frozenset({ENV_SIGNING_KEYS, ENV_SIGNING_KEY_FILE, ENV_DYNAMODB_ENDPOINT})

_FRACTION = re.compile(r"[01](\.[0-9]{1,6})?|\.[0-9]{1,6}")
_DIGITS = re.compile(r"[1-9][0-9]{0,99}")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
# us-east-1, us-gov-west-1, eusc-de-east-1, ...
_REGION = re.compile(r"[a-z]{2,4}(-[a-z0-9]+)+-[0-9]{1,2}")


class SettingsError(ValueError):
    """A setting with a bad value; its message is one line naming the variable."""


def _shown(value: str) -> str:
    """A value as it can appear in a one-line message (escaped, cut short)."""
    text = value if value.isprintable() else value.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(name: str, value: str, problem: str) -> SettingsError:
    return SettingsError(f"{name}={_shown(value)}: {problem}")


def stage_prefix(stage: str | None) -> str:
    """Table name prefix of a stage: `workproof-<stage>`; no stage = the default."""
    return f"workproof-{stage}" if stage else DEFAULT_TABLE_PREFIX


def table_names(environ: Mapping[str, str], stage: str | None = None, *,
                prefix: str | None = None) -> dict[str, str]:
    """Suffix -> table name: its `WORKPROOF_*_TABLE` variable, else `<prefix>-<suffix>`.

    The prefix is `prefix` if given, else the stage's (`stage_prefix`).
    """
    names = {}
    for suffix, variable in TABLE_ENV.items():
        value = environ.get(variable, "")
        if value and not _TABLE_NAME.fullmatch(value):
            raise _bad(variable, value, "not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)")
        names[suffix] = value or f"{prefix or stage_prefix(stage)}-{suffix}"
    return names


def region(environ: Mapping[str, str]) -> str:
    """The AWS region the tables live in (the SDK's variable, else the default)."""
    value = environ.get(ENV_REGION, "")
    if value and not _REGION.fullmatch(value):
        raise _bad(ENV_REGION, value, "not an AWS region name (like us-east-1)")
    return value or DEFAULT_REGION


def _whole_number(environ: Mapping[str, str], name: str, default: int, low: int, high: int,
                  problem: str, above: str | None = None) -> int:
    value = environ.get(name, "")
    if not value:
        return default
    # ASCII digits only: int() would also take " 5", "+5", "5_0" and "٥".
    if not _DIGITS.fullmatch(value) or int(value) < low:
        raise _bad(name, value, problem)
    if int(value) > high:
        raise _bad(name, value, above or problem)
    return int(value)


def _signing_keys(environ: Mapping[str, str]) -> SigningKeys:
    spec = environ.get(ENV_SIGNING_KEYS, "")
    if not spec:
        return ()
    try:
        return parse_signing_keys(spec)
    except ValueError:
        # Never the value: it is the key.
        raise SettingsError(f"{ENV_SIGNING_KEYS}: not kid:base64key[,kid:base64key...] with keys of "
                            f"{MIN_SIGNING_KEY_BYTES} bytes or more (value not shown)") from None


def _secret_id(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if value and not is_secret_id(value):
        raise _bad(name, value, "not a Secrets Manager secret ARN or name")
    return value


def _public_url(environ: Mapping[str, str]) -> str:
    value = environ.get(ENV_PUBLIC_URL, "")
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        usable = (parts.scheme in ("http", "https") and bool(parts.hostname)
                  and not (parts.username or parts.password or parts.query or parts.fragment)
                  and value.isascii() and value.isprintable() and " " not in value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        usable = False
    if not usable:
        raise _bad(ENV_PUBLIC_URL, value, "not an http(s) URL like https://api.example.com/base")
    return value.rstrip("/")


def _rest_status(environ: Mapping[str, str]) -> bool:
    value = environ.get(ENV_ERROR_STATUS, "")
    if value not in ("", "200", "rest"):
        raise _bad(ENV_ERROR_STATUS, value, "not 200 or rest")
    return value == "rest"


def _source_limits(environ: Mapping[str, str]) -> float:
    value = environ.get(ENV_SOURCE_LIMITS, "").strip().lower()
    if value in ("", "on"):
        return 1.0
    if value == "off":
        return 0.0
    try:
        scale = float(value)
    except ValueError:
        scale = -1.0
    if not 0.01 <= scale <= 1000 or value.startswith(("+", "nan", "inf")):
        raise _bad(ENV_SOURCE_LIMITS, value, "not off, on, or a factor from 0.01 to 1000")
    return scale


def _log_sample(environ: Mapping[str, str]) -> float:
    value = environ.get(ENV_LOG_SAMPLE, "").strip() or DEFAULT_LOG_SAMPLE
    try:
        part = float(value) if _FRACTION.fullmatch(value) else -1.0
    except ValueError:
        part = -1.0
    if not 0.0 <= part <= 1.0:
        raise _bad(ENV_LOG_SAMPLE, value, "not a part from 0 to 1 (like 0.1)")
    return part


@dataclass(frozen=True)
class Settings:
    """The app's settings, checked: build with `Settings.from_environ(os.environ)`."""

    tables: Mapping[str, str]  # suffix -> table name
    region: str = DEFAULT_REGION
    public_url: str = ""  # "" = derived from each request
    rest_status: bool = False  # REST-style statuses on errors instead of 200
    # Parsed keys (first signs) or the secret that holds them; repr never shows a key.
    signing_keys: SigningKeys = field(default=(), repr=False)
    signing_secret_id: str = ""
    signing_key_file: str = ""  # `chalice local`: the file holding the keys, read on first use
    origin_secret_id: str = ""  # the function-URL door's secret; "" = that door closed
    min_work: int = DEFAULT_MIN_WORK
    job_ttl: int = DEFAULT_JOB_TTL
    source_limits: float = 1.0  # factor on the per-source buckets; 0 = off
    log_sample: float = float(DEFAULT_LOG_SAMPLE)  # part of successful reads logged

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Every variable read and checked; SettingsError on the first bad one."""
        return cls(
            tables=table_names(environ),
            region=region(environ),
            public_url=_public_url(environ),
            rest_status=_rest_status(environ),
            signing_keys=_signing_keys(environ),
            signing_secret_id=_secret_id(environ, ENV_SIGNING_SECRET_ARN),
            signing_key_file=environ.get(ENV_SIGNING_KEY_FILE, ""),
            origin_secret_id=_secret_id(environ, ENV_ORIGIN_SECRET_ARN),
            min_work=_whole_number(environ, ENV_MIN_WORK, DEFAULT_MIN_WORK, 1, MAX_MIN_WORK,
                                   "not a positive integer",
                                   f"more than {MAX_MIN_WORK} (the most one job holds)"),
            job_ttl=_whole_number(environ, ENV_JOB_TTL, DEFAULT_JOB_TTL, *JOB_TTL_RANGE,
                                  f"not a whole number of seconds from {JOB_TTL_RANGE[0]} "
                                  f"to {JOB_TTL_RANGE[1]}"),
            source_limits=_source_limits(environ),
            log_sample=_log_sample(environ),
        )


_installed: Settings | None = None


def settings() -> Settings:
    """The settings in force: those installed by `use`, else the environment's (built once)."""
    global _installed
    if _installed is None:
        _installed = Settings.from_environ(os.environ)
    return _installed


def use(chosen: Settings) -> None:
    """Run with `chosen` from now on: app.py at cold start, or a test as a function
    started with them would."""
    global _installed
    _installed = chosen


def metrics_disabled() -> bool:
    """Powertools' own switch, read when asked (`make run` sets it, ops/request_log.py):
    lines then carry no metrics."""
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() == "true"
