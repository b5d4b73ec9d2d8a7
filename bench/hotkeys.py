"""`make bench-hotkeys`: write and read units per partition key at 5,000 shares/s.

A discrete-event simulation that drives the real code — `mining.submit`
(job signature, epoch read, guard, credit, vardiff; only the SHA-256 check
of the nonces is skipped: it costs CPU, not DynamoDB) and the real stream
consumer (`streams.handle_event`, fed in batches of 100 once per simulated
second) — on the embedded store, with the billing rules of
bench/dynamo_cost.py. Time is simulated: each submit runs at its own
instant, and the code's retry pauses advance that instant.

Each partition key value takes at most 1,000 write units/s and 3,000 read
units/s; the store here throttles a write that would pass that within its
second (ThrottlingException, as DynamoDB does), so a hot key shows as
throttles, retries and the vardiff's answer, not as a silent pass.

Scenarios:
  users    5,000 user shares/s for one site over 50,000 users
  mix      5,000 shares/s: 40 % users, 30 % captcha tokens (+ verify), 20 %
           anonymous, 10 % link visits (100 links)
  busy     5,000 shares/s on only 10 accounts, for 30 simulated seconds
           (one account simulated: the 10 are independent copies)
"""
from __future__ import annotations

import argparse
import base64
import heapq
import os
import random
import secrets
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITE_LIMIT = 1000.0
READ_LIMIT = 3000.0
MIN_WORK = 65536


class SimClock:
    """time.time / time.monotonic / time.sleep for the code under simulation."""

    def __init__(self) -> None:
        self.now = 0.0
        self.base = 1_764_000_000

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.base + self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def perf_counter(self) -> float:
        return self.now


def _environment() -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WORKPROOF_SIGNING_KEYS": "sim:" + base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode(),
    })
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


class Throttler:
    """Refuses a write that would push its partition key past 1,000 WRU in its second."""

    def __init__(self, recorder: Any, clock: SimClock) -> None:
        self.recorder, self.clock = recorder, clock
        self.throttled = 0

    def __call__(self, model: Any, params: dict[str, Any], context: dict[str, Any],
                 **_: Any) -> None:
        from botocore.exceptions import ClientError

        from bench.dynamo_cost import item_size, write_units

        second = int(self.clock.now)
        hot = []
        transactional = model.name == "TransactWriteItems"
        for _kind, table, key in self.recorder._writes(model.name, params):
            value = str(next(iter(next(iter(key.values())).values())))
            used = self.recorder.per_key.get((table, value, second), 0)
            old = self.recorder._peek(table, key)
            units = write_units(item_size(old)) * (2 if transactional else 1)
            hot.append(used + units > WRITE_LIMIT)
        if not any(hot):
            return
        self.throttled += 1
        context.pop("workproof_cost", None)
        if transactional:
            reasons = [{"Code": "ThrottlingError" if h else "None"} for h in hot]
            raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                         "Message": "Throttled"},
                               "CancellationReasons": reasons}, model.name)
        raise ClientError({"Error": {"Code": "ThrottlingException",
                                     "Message": "Throughput exceeds the partition's"}},
                          model.name)


class Simulation:
    def __init__(self, seconds: float, seed: int) -> None:
        from chalice.test import Client  # noqa: F401 - the app module loads cleanly
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        import app  # noqa: F401
        from bench.cost import _clients
        from bench.dynamo_cost import Recorder
        from chalicelib import ledger, mining, pow, sites
        from chalicelib.store import deadline

        self.rng = random.Random(seed)
        self.seconds = seconds
        self.clock = SimClock()
        for module in (deadline, mining, ledger):
            module.time = self.clock  # type: ignore[attr-defined]
        pow.check_share = mining.check_share = lambda *_a, **_k: None  # CPU only, skipped
        ledger.RESET_ALL_GRACE_SECONDS = 0.0
        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        info, self.secret = sites.create_site("sim")
        self.site = info
        self.recorder = Recorder(_clients(), self.backend, second=lambda: self.clock.now)
        self.throttler = Throttler(self.recorder, self.clock)
        self.outcomes: dict[str, int] = defaultdict(int)
        self.per_second: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.events: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self._backlog: list[dict[str, Any]] = []

    # --- the store's hooks -----------------------------------------------------
    def __enter__(self) -> Simulation:
        self.recorder.__enter__()
        for client in self.recorder.clients:
            client.meta.events.register_first("before-parameter-build.dynamodb",
                                              self.throttler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for client in self.recorder.clients:
            client.meta.events.unregister("before-parameter-build.dynamodb", self.throttler)
        self.recorder.__exit__(*exc)

    # --- load ------------------------------------------------------------------
    def schedule(self, at: float, chain: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self.events, (at, self._seq, chain))

    def new_job(self, **params: Any) -> dict[str, Any]:
        from chalicelib import mining
        from chalicelib.params import merge

        answer = mining.issue_job(merge([("site", self.site.site_key),
                                         *((k, str(v)) for k, v in params.items())], []),
                                  None, int(self.clock.time()), MIN_WORK, 600)
        return answer

    def submit(self, chain: dict[str, Any]) -> dict[str, Any] | None:
        from chalicelib import mining
        from chalicelib.errors import ApiError
        from chalicelib.params import merge
        from chalicelib.store import deadline

        job = chain["job"]
        params = merge([("job", job["job"]), ("nonce", ",".join(["0"] * job["count"]))], [])
        deadline.start()
        second = int(self.clock.now)
        try:
            answer = mining.submit(params, None, int(self.clock.time()), MIN_WORK, 600)
        except ApiError as error:
            self.outcomes[error.code] += 1
            self.per_second[second][error.code] += 1
            return None
        self.outcomes["success"] += 1
        self.per_second[second]["success"] += 1
        if chain.get("verify"):
            self.verify(answer, chain)
        return answer

    def verify(self, answer: dict[str, Any], chain: dict[str, Any]) -> None:
        from chalicelib import tokens

        name = chain["token"]
        tokens.verify(self.site.site_key, name, 1, int(self.clock.time()),
                      request_id=secrets.token_hex(8))

    def run(self) -> None:
        next_drain = 1.0
        while self.events and self.events[0][0] < self.seconds:
            at, _seq, chain = heapq.heappop(self.events)
            while at >= next_drain:
                self.clock.now = next_drain
                self.drain()
                next_drain += 1.0
            self.clock.now = at
            answer = self.submit(chain)
            if answer is None:  # refused: the miner asks for a new job
                chain["job"] = self.new_job(**chain["params"])
            else:
                chain["job"] = answer
            if chain.get("once"):
                continue
            work = chain["job"]["difficulty"] * chain["job"]["count"]
            self.schedule(self.clock.now + work / chain["rate"], chain)
        self.clock.now = self.seconds
        self.drain()

    def drain(self) -> None:
        """The stream consumer, batches of 100 per table; a failed batch comes back."""
        from chalicelib import streams
        from chalicelib.errors import ApiError
        from chalicelib.store import deadline
        from tests.streams import pending_records

        deadline.clear()
        self._backlog.extend(pending_records())
        retry = []
        for event in self._backlog:
            try:
                streams.handle_event(event)
            except ApiError:
                retry.append(event)
                self.outcomes["consumer batch retried"] += 1
        self._backlog = retry

    # --- report ------------------------------------------------------------------
    def report(self, title: str) -> bool:
        print(f"\n## {title}\n")
        seconds = max(1, int(self.seconds))
        outcome = ", ".join(f"{k} {v:,}" for k, v in sorted(self.outcomes.items()))
        print(f"{seconds} simulated s; outcomes: {outcome}; store throttles: "
              f"{self.throttler.throttled:,}\n")
        ok = True
        for label, book, limit in (("write units/s", self.recorder.per_key, WRITE_LIMIT),
                                   ("read units/s", self.recorder.per_key_read, READ_LIMIT)):
            peak: dict[tuple[str, str], float] = defaultdict(float)
            for (where, key, _second), units in book.items():
                peak[(where, key)] = max(peak[(where, key)], units)
            by_class: dict[str, tuple[float, str, int]] = {}
            for (where, key), units in peak.items():
                name = f"{where.split('-')[-1]}: {key_class(where, key)}"
                best = by_class.get(name, (0.0, "", 0))
                by_class[name] = (max(best[0], units), key if units >= best[0] else best[1],
                                  best[2] + 1)
            print(f"| key class ({label}) | keys | hottest key | peak in one second |")
            print("|---|---:|---|---:|")
            for name, (units, key, count) in sorted(by_class.items(), key=lambda x: -x[1][0]):
                flag = " **over**" if units > limit else ""
                ok &= units <= limit
                print(f"| {name} | {count:,} | `{key[:48]}` | {units:,.0f}{flag} |")
            print()
        return ok


def key_class(where: str, key: str) -> str:
    """A partition key value's shape, for grouping (`U#…`, `SITE#…#E#0#3` -> index shard)."""
    if where.endswith("links"):
        return "link"
    if key.startswith("SITE#") and "#E#" in key:
        return "index partition (site-epoch-shard)"
    prefix = key.split("#", 1)[0]
    known = {"U": "user item", "C": "reset-all counter shard", "R": "rank entry",
             "EPOCH": "epoch shard", "I": "idempotency record", "S": "consumer batch marker",
             "L": "link counters", "*": "all-sites hour", "SITE": "site record",
             "SECRET": "secret pointer"}
    if prefix in known:
        return known[prefix]
    if "#" in key:
        return "token"
    if len(key) == 32:
        return "site-hour stats"
    return "guard (job id)"


def populate_users(count: int, site_key: str) -> list[str]:
    from chalicelib.store.models import User

    names = [f"user{i:05d}" for i in range(count)]
    with User.batch_write() as batch:
        for name in names:
            batch.save(User(User.user_pk(site_key, name), name=name, epoch=0,
                            total=MIN_WORK * 10, withdrawn=0, balance=MIN_WORK * 10))
    return names


# A miner whose minimum-work job takes ~10 s: the vardiff's target, so its
# jobs stay at the minimum and it submits every ~10 s.
STEADY_RATE = MIN_WORK / 10.0


def steady_chain(sim: Simulation, params: dict[str, Any]) -> dict[str, Any]:
    return {"params": params, "rate": STEADY_RATE, "job": sim.new_job(**params)}


def first_submits(sim: Simulation, chains: int) -> list[float]:
    """When each of `chains` steady miners first submits, within the horizon only."""
    times = (sim.rng.uniform(0, 10.0) for _ in range(chains))
    return [t for t in times if t < sim.seconds]


def scenario_users(sim: Simulation, shares_per_second: int, users: int) -> None:
    from tests.streams import pending_records

    names = populate_users(users, sim.site.site_key)
    pending_records()  # population is history: not the simulated load
    # Every user mines at ~10 s per submit: users / 10 shares/s in total.
    starts = first_submits(sim, min(users, shares_per_second * 10))
    for name, at in zip(sim.rng.sample(names, len(starts)), starts, strict=True):
        sim.schedule(at, steady_chain(sim, {"user": name}))


def scenario_mix(sim: Simulation, shares_per_second: int, users: int) -> None:
    from chalicelib import links
    from tests.streams import pending_records

    names = populate_users(users, sim.site.site_key)
    codes = [links.create(sim.site.site_key, f"https://example.com/{i}", MIN_WORK).code
             for i in range(100)]
    pending_records()
    horizon = sim.seconds
    total = int(shares_per_second * horizon)
    for _ in range(int(total * 0.4)):
        chain = steady_chain(sim, {"user": sim.rng.choice(names)})
        chain["once"] = True
        sim.schedule(sim.rng.uniform(0, horizon), chain)
    for _ in range(int(total * 0.3)):
        job = sim.new_job(token="", hashes=MIN_WORK)
        chain = {"params": {"token": "", "hashes": MIN_WORK}, "job": job, "once": True,
                 "verify": True, "token": job["token"], "rate": 1.0}
        sim.schedule(sim.rng.uniform(0, horizon), chain)
    for _ in range(int(total * 0.2)):
        chain = steady_chain(sim, {"anonymous": 1})
        chain["once"] = True
        sim.schedule(sim.rng.uniform(0, horizon), chain)
    for _ in range(int(total * 0.1)):
        code = sim.rng.choice(codes)
        chain = {"params": {"link": code}, "job": sim.new_job(link=code), "once": True,
                 "rate": 1.0}
        sim.schedule(sim.rng.uniform(0, horizon), chain)


def scenario_busy(sim: Simulation, shares_per_second: int, accounts: int) -> None:
    """One of `accounts` equally busy accounts: shares_per_second / accounts on it."""
    from tests.streams import pending_records

    populate_users(1, sim.site.site_key)
    pending_records()
    per_account = shares_per_second // accounts
    for _ in range(per_account * 10):  # chains submitting every ~10 s
        sim.schedule(sim.rng.uniform(0, 10.0), steady_chain(sim, {"user": "user00000"}))


def busy_series(sim: Simulation) -> None:
    print("| second | accepted | refused (code) | user item WRU |")
    print("|---:|---:|---|---:|")
    for second in sorted(sim.per_second):
        row = sim.per_second[second]
        refused = ", ".join(f"{k} {v}" for k, v in row.items() if k != "success") or "—"
        units = sum(u for (where, key, s), u in sim.recorder.per_key.items()
                    if s == second and key.startswith("U#"))
        print(f"| {second} | {row.get('success', 0)} | {refused} | {units:,.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=("users", "mix", "busy", "all"), default="all")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--busy-seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=5000, help="shares per second")
    parser.add_argument("--users", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    _environment()
    from moto import mock_aws

    ok = True
    runs = [("users", f"{args.rate:,} user shares/s over {args.users:,} users", args.seconds),
            ("mix", f"{args.rate:,} shares/s mixed: users, captchas (+ verify), anonymous, "
                    "link visits", args.seconds),
            ("busy", f"{args.rate:,} shares/s on 10 accounts (one shown)", args.busy_seconds)]
    for name, title, seconds in runs:
        if args.scenario not in (name, "all"):
            continue
        with mock_aws():
            from chalicelib.store import models
            from ops import tables
            from ops.store import install_dynamodb_fixes

            install_dynamodb_fixes()
            models.bind()
            tables.create_tables("local")
            sim = Simulation(seconds, args.seed)
            if name == "users":
                scenario_users(sim, args.rate, args.users)
            elif name == "mix":
                scenario_mix(sim, args.rate, args.users)
            else:
                scenario_busy(sim, args.rate, 10)
            with sim:
                sim.run()
            passed = sim.report(title)
            if name == "busy":
                busy_series(sim)
            else:
                ok &= passed
    print("\nRESULT:", "no key over its limit" if ok else "a key went over its limit")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
