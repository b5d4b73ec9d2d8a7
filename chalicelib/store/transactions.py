"""Conditional writes that know their own: transactions and single writes.

Every money-like write here is conditional, and every failed condition
returns the item as it was (`ReturnValuesOnConditionCheckFailure=ALL_OLD`),
so callers choose the next step (a variant, a contract error, "that was my
own write") without a read. Conflicts, throttles and lost answers are
retried within the request's deadline: transactions with the same
ClientRequestToken (DynamoDB answers a replay of a committed transaction
with success), single writes with a request id written into the item.

The TransactItems are built here, in the order they were staged, so each
cancellation reason (DynamoDB answers them in the order sent) maps to its
label by position; both kinds of write go through the SDK client's public
methods.
"""
from __future__ import annotations

import contextvars
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action, Update
from pynamodb.models import Model

from chalicelib import observe
from chalicelib.errors import InternalError, dynamo_error_code
from chalicelib.store import deadline
from chalicelib.store.models import connection

RETRYABLE = frozenset({
    "TransactionConflict",
    "TransactionConflictException",
    "ThrottlingError",
    "ThrottlingException",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "RequestLimitExceeded",
    "ServiceUnavailable",
})
THROTTLES = frozenset({"ThrottlingError", "ThrottlingException", "RequestLimitExceeded",
                       "ProvisionedThroughputExceeded",
                       "ProvisionedThroughputExceededException"})
# Independent writes of one stream batch run this many at a time (within the
# SDK's pool of 10 connections): one by one, ~5 ms each on DynamoDB, a
# consumer keeps up with only ~200 changed users/s per shard.
CONCURRENT_WRITES = 8
# The SDK client's method for each single write.
_WRITE_METHODS = {"PutItem": "put_item", "UpdateItem": "update_item", "DeleteItem": "delete_item"}

# How many retries the last commit/write of this thread needed (vardiff
# under contention reads it; so do the metrics).
_seen = threading.local()


_M = TypeVar("_M", bound=Model)


def new_request_id() -> str:
    """A request's id: written with its writes, so a retry knows its own."""
    return secrets.token_hex(8)


def last_retries() -> int:
    return getattr(_seen, "retries", 0)


class ConditionFailed(Exception):
    """Conditions failed: their labels, and each failed item as it was (raw, {} = absent)."""

    def __init__(self, labels: set[str], old: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(", ".join(sorted(labels)))
        self.labels = labels
        self.old = old or {}

    def item(self, label: str, model_cls: type[_M]) -> _M | None:
        """The failed item of `label` as it was, decoded by its model (None = absent)."""
        return decode(model_cls, self.old.get(label))


def decode(model_cls: type[_M], raw: dict[str, Any] | None) -> _M | None:
    """A raw DynamoDB item (a returned old item, a stream image) as its model; None if empty."""
    return model_cls.from_raw_data(raw) if raw else None


def _error_code(exc: BaseException) -> str:
    """The DynamoDB error code of an exception, or its class name (never raises)."""
    return dynamo_error_code(exc) or type(exc).__name__


def _key(item: Model) -> dict[str, Any]:
    """The item's primary key, as DynamoDB takes it."""
    raw = item.serialize(null_check=False)
    return {attr.attr_name: raw[attr.attr_name] for attr in item.get_attributes().values()
            if attr.is_hash_key or attr.is_range_key}


class Transaction:
    """One TransactWriteItems: items staged under labels, committed once."""

    def __init__(self, client_request_token: str | None = None) -> None:
        self.token = client_request_token or secrets.token_hex(16)
        # (label, TransactItem), in the order staged: the order sent.
        self._items: list[tuple[str, dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._items)

    def _stage(self, label: str, kind: str, model_cls: type[Model], body: dict[str, Any],
               condition: Condition | None, actions: list[Action] | None = None,
               old_on_failure: bool = False) -> None:
        item = {"TableName": model_cls.Meta.table_name, **body,
                **serialize(model_cls, condition, actions)}
        if old_on_failure and condition is not None:
            item["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self._items.append((label, {kind: item}))

    def condition_check(self, label: str, model_cls: type[Model], hash_key: Any,
                        condition: Condition, range_key: Any = None) -> None:
        self._stage(label, "ConditionCheck", model_cls,
                    {"Key": _key(model_cls(hash_key, range_key))}, condition)

    def delete(self, label: str, model: Model, condition: Condition | None = None) -> None:
        self._stage(label, "Delete", type(model), {"Key": _key(model)}, condition)

    def save(self, label: str, model: Model, condition: Condition | None = None) -> None:
        """Put the whole item; a failed condition returns the item as it was."""
        self._stage(label, "Put", type(model), {"Item": model.serialize()}, condition,
                    old_on_failure=True)

    def update(self, label: str, model: Model, actions: list[Action],
               condition: Condition | None = None) -> None:
        """Update the item; a failed condition returns the item as it was."""
        self._stage(label, "Update", type(model), {"Key": _key(model)}, condition, actions,
                    old_on_failure=True)

    def labels(self) -> list[str]:
        """The labels in the order sent (the order of the cancellation reasons)."""
        return [label for label, _item in self._items]

    def _failed(self, exc: ClientError, codes: list[str]) -> dict[str, dict[str, Any]]:
        """Label -> failed item as it was, from a cancellation; each reason's code into `codes`."""
        labels = self.labels()
        failed: dict[str, dict[str, Any]] = {}
        for i, reason in enumerate(exc.response.get("CancellationReasons") or []):
            code = str(reason.get("Code") or "None") if isinstance(reason, dict) else "None"
            codes.append(code)
            if code == "ConditionalCheckFailed" and i < len(labels):
                failed[labels[i]] = dict(reason.get("Item") or {})
        return failed

    def commit(self) -> None:
        """Commit once, retrying transient failures with the same token until the deadline."""
        _seen.retries = attempt = 0
        request = {"TransactItems": [item for _label, item in self._items],
                   "ClientRequestToken": self.token, "ReturnConsumedCapacity": "TOTAL"}
        while True:
            codes: list[str] = []  # each item's cancellation reason
            # botocore's client, typed by pynamodb without its generated methods.
            client: Any = connection().client
            try:
                client.transact_write_items(**request)
                return
            except ClientError as exc:
                failed = self._failed(exc, codes)
                if failed:
                    raise ConditionFailed(set(failed), failed) from None
                code = _error_code(exc)
                if code not in RETRYABLE and not any(c in RETRYABLE for c in codes):
                    raise InternalError(f"transaction failed: {code} {codes}") from None
            except BotoCoreError as exc:  # connection reset, read timeout: maybe committed
                code = type(exc).__name__
            attempt += 1
            _seen.retries = attempt
            observe.dynamo_retry(throttled=code in THROTTLES or any(c in THROTTLES for c in codes))
            deadline.pause(attempt, f"transaction kept failing ({code})")


def write_one(operation: str, model_cls: Any, kwargs: dict[str, Any],
              ) -> tuple[bool, dict[str, Any]]:
    """One conditional PutItem/UpdateItem/DeleteItem (kwargs as botocore takes them).

    Returns (True, the returned attributes) when it held, else (False, the
    item as it was, {} = absent).
    Transient failures are retried until the deadline; a retry whose first
    attempt did land sees its own request id in the returned item.
    """
    _seen.retries = attempt = 0
    client = model_cls._get_connection().connection.client
    send = getattr(client, _WRITE_METHODS[operation])
    kwargs = {**kwargs, "TableName": model_cls.Meta.table_name,
              "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    while True:
        try:
            answer = send(**kwargs)
            return True, answer.get("Attributes") or {}
        except ClientError as exc:
            code = _error_code(exc)
            if code == "ConditionalCheckFailedException":
                item = exc.response.get("Item")
                return False, item if isinstance(item, dict) else {}
            if code not in RETRYABLE:
                raise InternalError(f"{operation} failed: {code}") from None
        except BotoCoreError as exc:
            code = type(exc).__name__
        attempt += 1
        _seen.retries = attempt
        observe.dynamo_retry(throttled=code in THROTTLES)
        deadline.pause(attempt, f"{operation} kept failing ({code})")


def serialize(model_cls: Any, condition: Any = None, actions: list[Any] | None = None,
              ) -> dict[str, Any]:
    """Condition and update expressions of a model's attributes, as botocore takes them."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    out: dict[str, Any] = {}
    if condition is not None:
        out["ConditionExpression"] = condition.serialize(names, values)
    if actions:
        out["UpdateExpression"] = Update(*actions).serialize(names, values)
    if names:
        out["ExpressionAttributeNames"] = {v: k for k, v in names.items()}
    if values:
        out["ExpressionAttributeValues"] = values
    return out


def write_each(model_cls: Any, writes: list[tuple[str, dict[str, Any]]]) -> None:
    """Conditional writes on distinct items of one model, `CONCURRENT_WRITES` at a
    time, each as `write_one` (whose condition failing is an answer, not an
    error). Raises the first failure once all have run: the caller's batch is
    then delivered again, and writes that held are idempotent."""
    if len(writes) <= 1:
        for operation, kwargs in writes:
            write_one(operation, model_cls, kwargs)
        return
    # The client is made here, once: pynamodb makes one in every thread that
    # finds none yet.
    model_cls._get_connection().connection.client  # noqa: B018
    with ThreadPoolExecutor(min(CONCURRENT_WRITES, len(writes))) as pool:
        # Each write runs in a copy of this context: the request's deadline and record.
        futures = [pool.submit(contextvars.copy_context().run, write_one, operation, model_cls,
                               kwargs) for operation, kwargs in writes]
    for future in futures:
        future.result()
