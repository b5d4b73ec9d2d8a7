"""TransactWriteItems in the embedded store: an undo log, and ClientRequestToken.

moto 5.2.5 deep-copies every table a transaction touches, to roll back if it
is cancelled: ~50 ms and megabytes of garbage per transaction on a
1,000-item table, growing with the table. `transact_write_items` below is
moto's own logic (same checks, same cancellation reasons and codes) with an
undo log instead: each item the transaction is about to write is saved
(one item, not its table) and put back if the transaction is cancelled;
its stream records are held back until it commits.

moto also ignores `ClientRequestToken`. As on DynamoDB, a transaction that
succeeded with a token makes any request with that token, for
`TOKEN_SECONDS` after it completed, answer success without writing again
if its items are the same, and fail with IdempotentParameterMismatchException
if they are not. A cancelled transaction does not use up its token: a retry
runs again.
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ops import store_streams
from ops.moto_fence import require_tested_moto

TOKEN_SECONDS = 600
# moto's own DynamoDBBackend.transact_write_items, kept by install() (the tests compare).
moto_transact_write_items: Callable[..., None] | None = None
# Seconds on a monotonic clock; tests move it.
clock: Callable[[], float] = time.monotonic


class UndoLog:
    """The items a transaction is about to write, as they were; `rollback` restores them."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        # (table, hash key, range key, item before or None, the range partition existed)
        self.saved: list[tuple[Any, Any, Any, Any, bool]] = []

    def save(self, table_name: str, key: dict[str, Any]) -> None:
        table = self.backend.get_table(table_name)
        hash_key, range_key = self.backend.get_keys_value(table, key)
        partition_existed = hash_key in table.items
        current = table.get_item(hash_key, range_key)
        # UpdateItem changes the item in place: keep a copy of this one item.
        self.saved.append((table, hash_key, range_key, copy.deepcopy(current), partition_existed))

    def rollback(self) -> None:
        for table, hash_key, range_key, before, partition_existed in reversed(self.saved):
            if range_key is None:
                if before is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = before
                continue
            partition = table.items[hash_key]
            if before is None:
                partition.pop(range_key, None)
                if not partition and not partition_existed:
                    del table.items[hash_key]
            else:
                partition[range_key] = before
        self.saved.clear()


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's DynamoDBBackend.transact_write_items, rolled back by an undo log."""
    from moto.dynamodb.exceptions import (
        TooManyTransactionsException,
        TransactionCanceledException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = UndoLog(backend)
    with store_streams.held_records() as held:
        try:
            errors = _apply(backend, transact_items, undo)
        except BaseException:
            undo.rollback()
            raise
        if any(code is not None for code, _, _ in errors):
            undo.rollback()
            raise TransactionCanceledException(errors)
    store_streams.release(held)


def _apply(backend: Any, transact_items: list[dict[str, Any]],
           undo: UndoLog) -> list[tuple[Any, Any, Any]]:
    """Every operation in order; the (code, message, item) of each, as moto reports them."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TransactWriteSingleOpException,
    )

    targets: set[tuple[str, str]] = set()
    errors: list[tuple[Any, Any, Any]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        try:
            _apply_one(backend, item, targets, undo)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), getattr(exc, "original_item", None)))
        except Exception as exc:
            errors.append((type(exc).__name__, str(exc), None))
    return errors


_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


def _item_key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]  # type: ignore[no-any-return]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _apply_one(backend: Any, item: dict[str, Any], targets: set[tuple[str, str]], undo: UndoLog) -> None:
    """One operation of a transaction: its condition checked, its write done and undoable."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed, MultipleTransactionsException

    op_type, op = next(iter(item.items()))
    if op_type not in _OPERATIONS:
        raise ValueError("Unsupported transaction operation")
    table_name = op["TableName"]
    key = _item_key(backend, op_type, op)
    target = (str(table_name), str(dict(sorted(key.items()))))
    if target in targets:
        raise MultipleTransactionsException()
    targets.add(target)
    condition = op.get("ConditionExpression")
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    current = backend.get_item(table_name, key)
    if condition is not None and not get_filter_expression(condition, names, values).expr(current):
        wants_item = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current
        original = current.to_json()["Attributes"] if wants_item else None
        failure = ConditionalCheckFailed(item=original)
        failure.original_item = original  # type: ignore[attr-defined]  # for the cancellation reason
        raise failure
    if op_type == "ConditionCheck":
        return
    undo.save(table_name, key)  # get_item above checked the table and key
    write = dict(condition_expression=condition, expression_attribute_names=names,
                 expression_attribute_values=values)
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **write)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **write)
    else:
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **write)


class RequestTokens:
    """ClientRequestTokens of committed transactions: token -> (fingerprint, completed at)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def fingerprint_of(self, token: str) -> str | None:
        now = clock()
        while self._seen:  # oldest first: drop the expired
            oldest = next(iter(self._seen.values()))
            if now - oldest[1] < TOKEN_SECONDS:
                break
            self._seen.popitem(last=False)
        seen = self._seen.get(token)
        return seen[0] if seen else None

    def remember(self, token: str, fingerprint: str) -> None:
        self._seen[token] = (fingerprint, clock())
        self._seen.move_to_end(token)


def _fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body.get("TransactItems"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def install() -> None:
    """Patch this process's moto: the undo log, and ClientRequestToken."""
    require_tested_moto()
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    global moto_transact_write_items
    if getattr(DynamoDBBackend.transact_write_items, "workproof", False):
        return
    moto_transact_write_items = DynamoDBBackend.transact_write_items
    moto_handler = DynamoHandler.transact_write_items

    def handler(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return moto_handler(self)
        backend = self.dynamodb_backend
        tokens = backend.__dict__.setdefault("workproof_request_tokens", RequestTokens())
        fingerprint = _fingerprint(self.body)
        seen = tokens.fingerprint_of(token)
        if seen is not None and seen != fingerprint:
            raise DynamodbException(
                "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.")
        if seen is not None:
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        answer = moto_handler(self)
        tokens.remember(token, fingerprint)
        return answer

    def backend_method(self: Any, transact_items: list[dict[str, Any]]) -> None:
        transact_write_items(self, transact_items)

    backend_method.workproof = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = backend_method  # type: ignore[method-assign]
    DynamoHandler.transact_write_items = handler  # type: ignore[method-assign]
