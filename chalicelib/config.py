"""Every environment variable the project reads, with its default, in one place.

Explicit arguments beat environment: modules take values as parameters and
only the entry points (app.py, admin, local) read from here.
"""
from __future__ import annotations

import os

# Table names (each stage gets its own; CloudFormation passes them by Ref).
ENV_SITES_TABLE = "WORKPROOF_SITES_TABLE"
ENV_LEDGER_TABLE = "WORKPROOF_LEDGER_TABLE"
ENV_TOKENS_TABLE = "WORKPROOF_TOKENS_TABLE"
ENV_GUARDS_TABLE = "WORKPROOF_GUARDS_TABLE"
ENV_STATS_TABLE = "WORKPROOF_STATS_TABLE"
ENV_LINKS_TABLE = "WORKPROOF_LINKS_TABLE"

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
# "kid:base64key[,kid:base64key...]" (first = current), or as the ARN of a
# Secrets Manager secret holding the same string (deployed).
ENV_SIGNING_KEYS = "WORKPROOF_SIGNING_KEYS"
ENV_SIGNING_SECRET_ARN = "WORKPROOF_SIGNING_SECRET_ARN"
# A file holding the same string, for `chalice local` (the dev stage points it
# at the key `make run` / `make store` generate). A relative path is taken from
# the project's root (the folder holding app.py), wherever chalice runs from.
ENV_SIGNING_KEY_FILE = "WORKPROOF_SIGNING_KEY_FILE"
# Minimum work per submit (k x D), in hashes.
ENV_MIN_WORK = "WORKPROOF_MIN_WORK"
# Seconds a job stays valid.
ENV_JOB_TTL = "WORKPROOF_JOB_TTL"

DEFAULT_TABLE_PREFIX = "workproof-dev"
DEFAULT_MIN_WORK = 65536
DEFAULT_JOB_TTL = 600


def table_name(env_var: str, suffix: str) -> str:
    """The table name for one concern: env override, else `workproof-dev-<suffix>`."""
    return os.environ.get(env_var) or f"{DEFAULT_TABLE_PREFIX}-{suffix}"


def rest_status_codes() -> bool:
    return os.environ.get(ENV_ERROR_STATUS, "200").strip().lower() == "rest"


def public_url() -> str:
    return os.environ.get(ENV_PUBLIC_URL, "").rstrip("/")


def min_work() -> int:
    return int(os.environ.get(ENV_MIN_WORK) or DEFAULT_MIN_WORK)


def job_ttl() -> int:
    return int(os.environ.get(ENV_JOB_TTL) or DEFAULT_JOB_TTL)
