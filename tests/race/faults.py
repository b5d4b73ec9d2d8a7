"""A seeded fault injector beneath the AWS SDK (botocore's `before-send` event).

A chosen share of DynamoDB requests fails the way the network and DynamoDB
fail: throttling, `InternalServerError`, `TransactionConflict`, a connection
reset before the request is sent, and a read timeout raised after the
request really reached the store and its write landed (the answer lost).
botocore's own retries, the app's retries and its idempotency all see
these as they would in production.
"""
from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any

import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

KINDS = ("throttle", "internal", "conflict", "reset", "lost_answer")


class _Raw:
    """The raw body botocore reads from a response."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self.body

    def read(self, *_args: Any, **_kwargs: Any) -> bytes:
        body, self.body = self.body, b""
        return body


def _error(request: Any, status: int, code: str, message: str,
           extra: dict[str, Any] | None = None) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                       "message": message, **(extra or {})}).encode()
    return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0",
                                             "x-amzn-RequestId": "injected"}, _Raw(body))


class FaultInjector:
    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.enabled = True

    def _choose(self) -> str | None:
        with self.lock:
            if not self.enabled or self.rng.random() >= self.rate:
                return None
            return self.rng.choice(KINDS)

    def __call__(self, request: Any, **_kwargs: Any) -> AWSResponse | None:
        kind = self._choose()
        if kind is None:
            return None
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        with self.lock:
            self.injected[kind] += 1
        if kind == "throttle":
            return _error(request, 400, "ThrottlingException", "Rate of requests exceeds")
        if kind == "internal":
            return _error(request, 500, "InternalServerError", "Internal server error")
        if kind == "conflict":
            if operation == "TransactWriteItems":
                items = json.loads(request.body)["TransactItems"]
                reasons = [{"Code": "TransactionConflict",
                            "Message": "Transaction is ongoing for the item"}] + \
                    [{"Code": "None"}] * (len(items) - 1)
                return _error(request, 400, "TransactionCanceledException",
                              "Transaction cancelled", {"CancellationReasons": reasons})
            return _error(request, 400, "TransactionConflictException",
                          "Transaction is ongoing for the item")
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        # lost_answer: the request reaches the store (its write lands), the answer does not.
        body = request.body if isinstance(request.body, bytes) else (request.body or b"")
        requests.post(request.url, data=body, headers={
            k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()},
            timeout=30)
        raise ReadTimeoutError(endpoint_url=request.url)

    def install(self, clients: list[Any]) -> None:
        for client in clients:
            client.meta.events.register_first("before-send.dynamodb", self)

    def uninstall(self, clients: list[Any]) -> None:
        for client in clients:
            client.meta.events.unregister("before-send.dynamodb", self)
