"""Races at scale: ≥ 10,000 mixed operations from many threads, checked against a tally.

The embedded store (moto behind its lock, as `make run` serves it) runs in
this process; 16 threads call the same operations the API's views call
(`mining.issue_job` / `mining.submit`, `api.user_withdraw`,
`api.token_verify`, `api.user_reset`, `api.user_reset_all`) on a few
shared users and tokens, so every operation races others on the same
items. The test keeps its own tally of what each answer says happened and
checks the ledger against it: no double spend (withdrawn is exactly the
sum of successful withdrawals, balance never negative), no token verified
twice, no share credited twice, every user's figures equal to the tally.

Resets and reset-alls run between rounds (a barrier), so the tally knows
which credits they wipe; inside a round, credits, withdrawals, verifies and
replays race freely. Run it against an unlocked store
(WORKPROOF_STORE_UNLOCKED=1) to see it fail.
"""
from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from typing import Any

import pytest

from tests.race.threads import now, params, run_together

pytestmark = pytest.mark.race

THREADS = 16
ROUNDS = 6
OPS_PER_THREAD_PER_ROUND = 110  # 16 × 6 × 110 = 10,560 operations
USERS = [f"racer{i}" for i in range(6)]
MIN_WORK = 8  # D = 1: every nonce solves, so the threads spend no time hashing




class Tally:
    """What the answers say happened, per user, in the current epoch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: Counter[str] = Counter()
        self.withdrawn: Counter[str] = Counter()
        self.credited_jobs: set[str] = set()
        self.verified: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    def note(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] += 1


def _worker(secret: str, site_key: str, tally: Tally, tokens: list[str], seed: int,
            spare_jobs: dict[str, list[dict[str, Any]]]) -> None:
    from chalicelib import api, mining
    from chalicelib.errors import ApiError

    rng = random.Random(seed)
    replays: list[dict[str, Any]] = []
    for _ in range(OPS_PER_THREAD_PER_ROUND):
        kind = rng.choices(["share", "withdraw", "verify", "replay", "stale"],
                           weights=[45, 30, 10, 10, 5])[0]
        try:
            if kind in ("share", "stale"):
                user = rng.choice(USERS)
                if kind == "stale" and spare_jobs.get(user):
                    job = spare_jobs[user].pop()  # issued before a reset-all
                else:
                    kind = "share"
                    job = mining.issue_job(params(site=site_key, user=user), None,
                                           now(), MIN_WORK, 600)
                answer = mining.submit(params(job=job["job"], nonce=_nonce(job)), None,
                                       now(), MIN_WORK, 600)
                with tally.lock:
                    assert job["job"] not in tally.credited_jobs, "a job credited twice"
                    tally.credited_jobs.add(job["job"])
                    tally.total[user] += answer["hashes"]
                replays.append(job)
                tally.note(f"{kind}: success")
            elif kind == "withdraw":
                user, amount = rng.choice(USERS), rng.choice([1, 8, 64, 500])
                api.user_withdraw(params(secret=secret, name=user, amount=amount))
                with tally.lock:
                    tally.withdrawn[user] += amount
                tally.note("withdraw: success")
            elif kind == "verify":
                token = rng.choice(tokens)
                answer = api.token_verify(params(secret=secret, token=token, hashes=1))
                with tally.lock:
                    tally.verified[token] += 1
                tally.note("verify: success")
            elif replays:
                job = rng.choice(replays)
                mining.submit(params(job=job["job"], nonce=_nonce(job)), None, now(),
                              MIN_WORK, 600)
                raise AssertionError("a replayed share was credited again")
            else:
                tally.note("replay: nothing to replay yet")
        except ApiError as error:
            tally.note(f"{kind}: {error.code}")
            allowed = {"share": set(), "stale": {"invalid_job"},
                       "withdraw": {"insufficent_funds", "unknown_user"},
                       "verify": {"invalid_token"}, "replay": {"duplicate_share"}}[kind]
            assert error.code in allowed, (kind, error.code)



def _nonce(job: dict[str, Any]) -> str:
    assert job["difficulty"] == 1
    return ",".join(["0"] * job["count"])


def _new_tokens(site_key: str, count: int) -> list[str]:
    from chalicelib import mining

    names = []
    for _ in range(count):
        job = mining.issue_job(params(site=site_key, token="", hashes=MIN_WORK), None,
                               now(), MIN_WORK, 600)
        mining.submit(params(job=job["job"], nonce=_nonce(job)), None, now(), MIN_WORK, 600)
        names.append(job["token"])
    return names


def test_ten_thousand_mixed_operations_match_the_tally(store: Any) -> None:
    from chalicelib import api, ledger, mining, ranks, sites
    from tests.streams import drain

    info, secret = sites.create_site("scale")
    site_key = info.site_key
    tally = Tally()
    all_tokens: list[str] = []
    for round_ in range(ROUNDS):
        tokens = _new_tokens(site_key, 12)
        all_tokens += tokens
        # Jobs issued now, submitted after this round's reset-all: stale.
        spare: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if round_ % 2 == 1:
            for user in USERS:
                spare[user] = [mining.issue_job(params(site=site_key, user=user), None,
                                                now(), MIN_WORK, 600) for _ in range(4)]
            affected = api.user_reset_all(params(secret=secret))["affected"]
            assert affected == sum(1 for u in USERS if tally.total[u] > 0)
            tally.total.clear()
            tally.withdrawn.clear()
        elif round_ > 0:
            user = USERS[round_ % len(USERS)]
            api.user_reset(params(secret=secret, name=user))
            tally.total[user] = tally.withdrawn[user] = 0
        run_together(_worker, [(secret, site_key, tally, tokens, round_ * 100 + t, spare)
                               for t in range(THREADS)])
        site = sites.get_site(site_key)
        assert site is not None
        for user in USERS:
            state = ledger.read_user(site_key, user).in_epoch(site.epoch)
            assert (state.total, state.withdrawn) == (tally.total[user], tally.withdrawn[user]), \
                (round_, user)
            assert state.balance >= 0
    operations = sum(v for k, v in tally.outcomes.items() if not k.startswith("replay: nothing"))
    assert operations >= 10_000, tally.outcomes
    assert all(count == 1 for count in tally.verified.values()), "a token verified twice"
    # Every share kind happened, and every refusal kind the test provokes.
    for outcome in ("share: success", "withdraw: success", "withdraw: insufficent_funds",
                    "verify: success", "verify: invalid_token", "replay: duplicate_share",
                    "stale: invalid_job"):
        assert tally.outcomes[outcome] > 0, (outcome, tally.outcomes)
    # Once quiet, list and top agree with the ledger.
    drain()
    site = sites.get_site(site_key)
    assert site is not None
    listed = {u["name"]: u for u in ranks.list_users(site, 100, None)[0]}
    expected = {u for u in USERS if tally.total[u] > 0}
    assert set(listed) == expected
    for user in expected:
        assert (listed[user]["total"], listed[user]["withdrawn"]) == \
            (tally.total[user], tally.withdrawn[user])
    top = ranks.top(site, 10, "balance")
    balances = [u["balance"] for u in top]
    assert balances == sorted(balances, reverse=True)
