"""Faults beneath the SDK: 10 % of DynamoDB calls fail, and nothing moves twice.

A seeded injector (tests/race/faults.py) makes one DynamoDB call in ten fail —
throttled, InternalServerError, TransactionConflict, connection reset, or a
read timeout after the write really landed — while threads mine shares,
withdraw and verify tokens on a few shared users. Every answer is the
operation's contract result or `internal_error`; a client that got
`internal_error` retries the same request (the same share; the same
`idempotency_key`) until it gets a result. Afterwards the ledger equals the
tally of results: no share lost or credited twice, no withdrawal applied
twice or lost, no token verified twice.
"""
from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from typing import Any

import pytest

from tests.race.faults import FaultInjector
from tests.race.threads import collecting, now, params

pytestmark = pytest.mark.race

THREADS = 8
OPS_PER_THREAD = 60
USERS = ["f0", "f1", "f2", "f3"]
MIN_WORK = 8
START_BALANCE = 2000





def _call(fn: Any, *args: Any) -> tuple[str, Any]:
    """What the view answers: ("success", body), (contract code, None) or internal_error."""
    from chalicelib.errors import ApiError
    from chalicelib.store import deadline

    deadline.start()
    try:
        return "success", fn(*args)
    except ApiError as error:
        return error.code, None
    except Exception:  # the view answers internal_error for anything else
        return "internal_error", None


def _until_answered(fn: Any, *args: Any, tries: int = 30) -> tuple[str, Any, bool]:
    """Retry the same request while it answers internal_error: (code, body, retried)."""
    retried = False
    for _ in range(tries):
        code, body = _call(fn, *args)
        if code != "internal_error":
            return code, body, retried
        retried = True
    raise AssertionError("still internal_error after 30 tries")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: Counter[str] = Counter({u: START_BALANCE for u in USERS})
        self.withdrawn: Counter[str] = Counter()
        self.verified: set[str] = set()
        self.answers: Counter[str] = Counter()


def _worker(secret: str, site_key: str, tokens: list[str], tally: Tally, seed: int) -> None:
    from chalicelib import api, mining

    rng = random.Random(seed)
    mine = tokens[seed::THREADS]
    for _ in range(OPS_PER_THREAD):
        kind = rng.choices(["share", "withdraw", "verify"], weights=[50, 35, 15])[0]
        if kind == "share":
            user = rng.choice(USERS)
            code, job, _ = _until_answered(mining.issue_job, params(site=site_key, user=user),
                                           None, now(), MIN_WORK, 600)
            assert code == "success", code
            nonce = ",".join(["0"] * job["count"])
            code, body, retried = _until_answered(
                mining.submit, params(job=job["job"], nonce=nonce), None, now(), MIN_WORK, 600)
            # After a lost answer, the guard is there: duplicate_share means "credited".
            assert code == "success" or (code == "duplicate_share" and retried), code
            with tally.lock:
                tally.total[user] += job["difficulty"] * job["count"]
        elif kind == "withdraw":
            user, amount = rng.choice(USERS), rng.choice([1, 7, 50])
            key = secrets.token_hex(8)
            code, _body, _ = _until_answered(api.user_withdraw, params(
                secret=secret, name=user, amount=amount, idempotency_key=key))
            assert code in ("success", "insufficent_funds"), code
            if code == "success":
                with tally.lock:
                    tally.withdrawn[user] += amount
            # The same key again answers the same, and moves nothing.
            again, _body, _ = _until_answered(api.user_withdraw, params(
                secret=secret, name=user, amount=amount, idempotency_key=key))
            assert again == code
        elif mine:
            token = mine.pop()
            key = secrets.token_hex(8)
            code, body, _ = _until_answered(api.token_verify, params(
                secret=secret, token=token, hashes=1, idempotency_key=key))
            assert code == "success", (token, code)
            with tally.lock:
                assert token not in tally.verified
                tally.verified.add(token)
        with tally.lock:
            tally.answers[kind] += 1


def test_ten_percent_of_dynamodb_calls_failing_lose_and_double_nothing(store: Any) -> None:
    from bench.cost import _clients
    from chalicelib import api, ledger, mining, sites

    info, secret = sites.create_site("faults")
    site_key = info.site_key
    for user in USERS:
        ledger.set_figures(info, user, START_BALANCE, 0)
    tokens = []
    for _ in range(THREADS * 4):
        job = mining.issue_job(params(site=site_key, token="", hashes=MIN_WORK), None, now(),
                               MIN_WORK, 600)
        mining.submit(params(job=job["job"], nonce=",".join(["0"] * job["count"])), None,
                      now(), MIN_WORK, 600)
        tokens.append(job["token"])
    injector = FaultInjector(rate=0.10, seed=20261130)
    clients = _clients()
    injector.install(clients)
    tally = Tally()
    failures: list[BaseException] = []
    try:
        threads = [threading.Thread(target=collecting(_worker, failures),
                                    args=(secret, site_key, tokens, tally, t))
                   for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        injector.uninstall(clients)
    if failures:
        raise failures[0]
    assert sum(tally.answers.values()) == THREADS * OPS_PER_THREAD
    assert set(injector.injected) == {"throttle", "internal", "conflict", "reset",
                                      "lost_answer"}, injector.injected
    for user in USERS:
        state = ledger.read_user(site_key, user)
        assert (state.total, state.withdrawn) == (tally.total[user], tally.withdrawn[user]), user
        assert state.balance >= 0
    for token in tokens:
        again = _call(api.token_verify, params(secret=secret, token=token, hashes=1))[0]
        # Verified exactly once: the ones the tally holds are spent, the rest still verify.
        assert again == ("invalid_token" if token in tally.verified else "success"), token
