"""`idempotency_key`: a retried request answers its first result.

The record of a key is written in the same transaction as the operation it
guards, so of two requests with one key only one can move anything. A
retry with the same key and parameters finds the record and answers as the
first did (a success is rebuilt from the parameters and the stored state;
a refusal is stored as its error code); the same key with other parameters
is `bad_request`. Records expire after their time to live.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import ApiError, BadRequest, InternalError, contract_codes
from chalicelib.store.models import Idempotency
from chalicelib.store.transactions import (
    ConditionFailed,
    Transaction,
    decode,
    serialize,
    write_one,
)

MAX_KEY_CHARS = 64
DAY = 24 * 3600


def fingerprint(**params: object) -> str:
    raw = json.dumps(params, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class IdempotencyKey:
    """One request's key: where its record lives and what it must match."""

    site_key: str
    scope: str
    key: str
    print_: str
    ttl_seconds: int
    now: int

    @property
    def pk(self) -> str:
        return Idempotency.pk_for(self.site_key, self.scope, self.key)

    def _free(self) -> Any:
        return Idempotency.pk.does_not_exist() | (Idempotency.expires <= self.now)

    def stage(self, tx: Transaction) -> None:
        """Add the key's record to the operation's transaction (label "idem")."""
        tx.save("idem", Idempotency(self.pk, fingerprint=self.print_,
                                    expires=self.now + self.ttl_seconds), self._free())

    def replay(self, failed: ConditionFailed) -> bool:
        """True if the key was used before by the same request (a success to
        rebuild); raises its stored refusal, or BadRequest for other parameters."""
        if "idem" not in failed.labels:
            return False
        self._check(failed.item("idem", Idempotency))
        return True

    def _check(self, stored: Idempotency | None) -> None:
        if stored is None or stored.fingerprint != self.print_:
            raise BadRequest("idempotency_key reused with other parameters")
        code = json.loads(stored.answer or "{}").get("error")
        if code:
            raise _error(code)

    def remember(self, error: ApiError) -> ApiError:
        """Store a refusal as this key's answer (unless the key was taken meanwhile)."""
        if isinstance(error, InternalError):
            return error  # outcome unknown: nothing to remember
        item = Idempotency(self.pk, fingerprint=self.print_,
                           answer=json.dumps({"error": error.code}),
                           expires=self.now + self.ttl_seconds).serialize()
        held, stored = write_one("PutItem", Idempotency,
                                 {"Item": item, **serialize(Idempotency, self._free())})
        if not held:
            self._check(decode(Idempotency, stored))
        return error


def _error(code: str) -> ApiError:
    cls = contract_codes().get(code)
    return cls() if cls else InternalError()


def key_for(site_key: str, scope: str, key: str | None, ttl_seconds: int,
            **params: object) -> IdempotencyKey | None:
    """The request's IdempotencyKey, or None when it sent none."""
    if not key:
        return None
    if len(key) > MAX_KEY_CHARS:
        raise BadRequest("idempotency_key over 64 characters")
    return IdempotencyKey(site_key, scope, key, fingerprint(**params), ttl_seconds,
                          int(time.time()))
