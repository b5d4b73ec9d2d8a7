"""One TransactWriteItems with labelled items, retried safely.

Conflicts and throttles are retried with the same ClientRequestToken (so a
retry of a transaction that did commit is a no-op on DynamoDB); a failed
condition is reported by label, so callers map it to a contract error.
"""
from __future__ import annotations

import random
import secrets
import time
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.errors import InternalError
from chalicelib.models import connection

_RETRYABLE = {
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "InternalServerError",
    "RequestLimitExceeded",
}
# pynamodb sends the items grouped in this order.
_KIND_ORDER = ("condition_check", "delete", "save", "update")


class ConditionFailed(Exception):
    """The transaction was cancelled: these labels' conditions failed."""

    def __init__(self, labels: set[str]) -> None:
        super().__init__(", ".join(sorted(labels)))
        self.labels = labels


class Transaction:
    def __init__(self, client_request_token: str | None = None) -> None:
        self.token = client_request_token or secrets.token_hex(16)
        self._ops: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = []

    def condition_check(self, label: str, model_cls: Any, hash_key: Any, condition: Any,
                        range_key: Any = None) -> None:
        self._ops.append(("condition_check", label, (model_cls, hash_key),
                          {"range_key": range_key, "condition": condition}))

    def delete(self, label: str, model: Any, condition: Any = None) -> None:
        self._ops.append(("delete", label, (model,), {"condition": condition}))

    def save(self, label: str, model: Any, condition: Any = None) -> None:
        self._ops.append(("save", label, (model,), {"condition": condition}))

    def update(self, label: str, model: Any, actions: list[Any], condition: Any = None) -> None:
        self._ops.append(("update", label, (model, actions), {"condition": condition}))

    def labels_in_wire_order(self) -> list[str]:
        return [label for kind in _KIND_ORDER for k, label, _a, _kw in self._ops if k == kind]

    def commit(self, attempts: int = 6) -> None:
        for attempt in range(attempts):
            try:
                with TransactWrite(connection=connection(), client_request_token=self.token) as tx:
                    for kind, _label, args, kwargs in self._ops:
                        getattr(tx, kind)(*args, **kwargs)
                return
            except TransactWriteError as exc:
                reasons = [r.code if r else "None" for r in (exc.cancellation_reasons or [])]
                labels = self.labels_in_wire_order()
                failed = {labels[i] for i, code in enumerate(reasons)
                          if code == "ConditionalCheckFailed" and i < len(labels)}
                if failed:
                    raise ConditionFailed(failed) from None
                retryable = exc.cause_response_code in _RETRYABLE or any(
                    code in _RETRYABLE for code in reasons)
                if not retryable or attempt == attempts - 1:
                    raise InternalError(f"transaction failed: {exc.cause_response_code} {reasons}") from None
                time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
