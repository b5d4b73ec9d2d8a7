"""The ledger stream's consumer: rank entries written many at a time, each
idempotent, so a batch that partly failed is delivered again and ends exact.

`top` and `list` read rank entries the consumer writes off the request path
(chalicelib/ranks.py); the writes of one batch run concurrently
(transactions.write_each). Here the batches are taken from the embedded store's
streams and handed to the consumer by the test, as Lambda would.
"""
from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures import Api, credit
from tests.functional.store import aws  # noqa: F401 - aws: the shared store
from tests.streams import pending_records

USERS = 30


def _top(api: Api) -> list[tuple[str, int]]:
    api.settle = False  # the test delivers the records itself
    return [(u["name"], u["total"]) for u in api.get("/user/top", count=100)["users"]]


def _expected() -> list[tuple[str, int]]:
    return sorted(((f"user{i:02}", i + 1) for i in range(USERS)), key=lambda u: -u[1])


def test_one_batch_of_many_users_then_the_same_batch_again(api: Api) -> None:
    from chalicelib import streams

    pending_records()  # what the site's creation wrote
    for i in range(USERS):
        credit(api.site.site_key, f"user{i:02}", i + 1)
    (event,) = pending_records()
    assert streams.handle_event(event)["ranks"] == USERS
    assert _top(api) == _expected()
    # Delivered again (Lambda retries, at least once): nothing changes.
    streams.handle_event(event)
    assert _top(api) == _expected()


def test_a_batch_that_partly_failed_is_exact_once_delivered_again(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib import streams
    from chalicelib.errors import InternalError
    from chalicelib.store import transactions

    pending_records()
    for i in range(USERS):
        credit(api.site.site_key, f"user{i:02}", i + 1)
    (event,) = pending_records()
    real = transactions.write_one
    failing = {"user07", "user19"}

    def flaky(operation: str, model_cls: Any, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("Item", {}).get("n", {}).get("S") in failing:
            raise InternalError("PutItem failed: InternalServerError")
        return real(operation, model_cls, kwargs)

    monkeypatch.setattr(transactions, "write_one", flaky)
    with pytest.raises(InternalError):
        streams.handle_event(event)
    # Every other entry landed; the failed two are missing until the batch comes again.
    assert _top(api) == [u for u in _expected() if u[0] not in failing]
    monkeypatch.setattr(transactions, "write_one", real)
    streams.handle_event(event)
    assert _top(api) == _expected()


def test_an_older_batch_delivered_late_does_not_undo_a_newer_one(api: Api) -> None:
    from chalicelib import streams

    pending_records()
    credit(api.site.site_key, "alice", 5)
    (older,) = pending_records()
    credit(api.site.site_key, "alice", 7)
    (newer,) = pending_records()
    streams.handle_event(newer)
    streams.handle_event(older)
    assert _top(api) == [("alice", 12)]


def test_a_user_with_50_shares_in_one_batch_costs_one_rank_write(api: Api) -> None:
    """The ledger mapping gathers up to 30 s (deploy/merge-template.json): a
    miner's shares in one batch collapse to one rank entry write."""
    from chalicelib import streams
    from chalicelib.store import transactions

    pending_records()
    for _ in range(50):
        credit(api.site.site_key, "alice", 3)
    (event,) = pending_records(batch_size=1000)
    assert len(event["Records"]) == 51  # the 50 credits, and one more write of the first
    writes: list[str] = []
    real = transactions.write_one

    def counted(operation: str, model_cls: Any, kwargs: dict[str, Any]) -> Any:
        writes.append(operation)
        return real(operation, model_cls, kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transactions, "write_one", counted)
        assert streams.handle_event(event)["ranks"] == 1
    assert writes == ["PutItem"]
    assert _top(api) == [("alice", 150)]
