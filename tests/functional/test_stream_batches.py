"""Batches as large as the tokens' and ledger's mappings deliver (BatchSize
1000, deploy/merge-template.json) are counted exactly once: delivered again,
or again grown (a retried batch may start at the same record and hold more).
"""
from __future__ import annotations

import time
from typing import Any

from tests.fixtures import Api
from tests.functional.store import aws  # noqa: F401 - aws: the shared store

VERIFIES = 1000


def _verify_record(site_key: str, i: int) -> dict[str, Any]:
    from chalicelib.store.models import Token

    pk = Token.token_pk(site_key, f"token-{i:04}")
    old = Token(pk, hashes=1024).serialize()
    new = Token(pk, hashes=1024, verified_by=f"req-{i}").serialize()
    return {"eventID": f"e-{i:04}", "eventName": "MODIFY",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/workproof-local-tokens/stream/x",
            "dynamodb": {"Keys": {"pk": {"S": pk}}, "OldImage": old, "NewImage": new,
                         "SequenceNumber": str(10_000 + i),
                         "ApproximateCreationDateTime": time.time()}}


def _verified(site_key: str) -> int:
    from chalicelib import stats

    now = int(time.time())
    hours = stats.hourly(site_key, "captchas_verified", stats.hour_of(now) - stats.HOUR, now)
    return sum(hours.values())


def test_a_batch_of_1000_verifies_counts_once_again_and_grown(api: Api) -> None:
    from chalicelib import stats

    site = api.site.site_key
    records = [_verify_record(site, i) for i in range(VERIFIES)]
    stats.apply_verifies(records[:400])
    assert _verified(site) == 400
    stats.apply_verifies(records)  # redelivered from the same record, grown
    assert _verified(site) == VERIFIES
    stats.apply_verifies(records)  # delivered again whole
    assert _verified(site) == VERIFIES
