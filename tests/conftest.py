"""Shared fixtures. The environment is set before anything imports the app."""
from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "WORKPROOF_SIGNING_KEYS": "test1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    # Every in-process request comes from one address (chalice.test's 127.0.0.1):
    # the per-source limits' own tests turn them on (tests/functional/test_front_door.py).
    "WORKPROOF_SOURCE_LIMITS": "off",
    # Tests solve in Python: the default minimum work (2^22) would take seconds
    # per job. Tests that care set their own.
    "WORKPROOF_MIN_WORK": "65536",
    # Every request's line (deployed, a sample of the successful reads'):
    # tests of the sampling set their own.
    "WORKPROOF_LOG_SAMPLE": "1",
})
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)



pytest_plugins = ["tests.fixtures", "tests.deploy.botocore_recorder"]
