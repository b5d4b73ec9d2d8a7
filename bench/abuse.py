"""`make bench-abuse`: what each attack costs the operator, and what honest visitors see.

A discrete-event simulation in simulated time that drives the real code:
the front door (`front_door.check` / `front_door.after`, what the app's
middleware runs before any view), job issuing and submits
(`mining.issue_job`, `mining.submit`: signatures, the site's levels and
ceiling, per-source sizing, guards, credits), token verification
(`tokens.verify`, the site's backend), and the stream consumer
(`streams.handle_event`: stats, rate buckets, the sites' pressure), on the
embedded store, with DynamoDB's billing rules recorded per call
(bench/dynamo_cost.py). Only the nonces' SHA-256 is skipped: a client's
solve time is its job's work divided by its hash rate.

In front of the app: the deployed stack's WAF rate rules, modelled from the
template's own parameters (deploy/merge-template.json: per source IP, a
sliding window), and prices from bench/bill.py. The Lambda function is a
pool of warm containers, each with its own buckets, source rates and site
cache; each request lands on one of them at random, as on Lambda.

Honest traffic beside every attack: 200 captcha visitors and 50 miners a
minute (half at phone speed, half at desktop speed; a miner stays five
minutes), each from its own address, each backing off on `busy` as the
widget and the miner do (Retry-After plus jitter). Attackers, on one site:
  job-flood  one source, 1,000 requests/s of /pow/job, no work
  cpu        one source, one CPU core (16.7 MH/s) mining minimum-work shares:
             a fresh job for every share, so no chain's vardiff slows it
  gpu        one source, one GPU (21.5 GH/s), the same way
  many       10,000 sources, each a CPU core at its per-source limit
Attackers wait out Retry-After (sending more earns them nothing); what an
attacker who ignores it costs is the job-flood row.
"""
from __future__ import annotations

import argparse
import base64
import heapq
import os
import random
import secrets
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bill  # noqa: E402
from bench.hotkeys import SimClock  # noqa: E402

CPU_RATE = 16.7e6     # one core's SHA-256 (the issue's figure)
GPU_RATE = 21.5e9     # RTX 4090, public hashcat figures
# Browser solver rates (hashes/s, both workers of headless Chromium on this
# 2-core machine): `make bench-captcha` measured 3.4-5.6 MH/s per worker at
# ×1; a mid phone (×4) is a quarter of that.
DESKTOP_RATE = 9e6
PHONE_RATE = DESKTOP_RATE / 4
CAPTCHA_HASHES = 1       # the widget's data-hashes: the site's minimum work decides
MINER_SECONDS = 300
GIVE_UP_SECONDS = 120    # an honest visitor who waited this long has failed
CONTAINERS = 4
SERVED_MS, REFUSED_MS = 25, 3   # billed Lambda duration of a served / refused request
HOUR = 3600
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


@dataclass
class Container:
    """One warm Lambda container's memory."""

    limits: Any
    rates: Any
    site_cache: dict[str, Any] = field(default_factory=dict)


class Waf:
    """AWS WAF rate-based rules per source IP over a sliding window (the template's)."""

    def __init__(self, params: dict[str, Any], enabled: bool) -> None:
        self.enabled = enabled
        self.window = float(params["WafWindowSeconds"])
        self.pow_limit = float(params["WafPowRateLimit"])
        self.other_limit = float(params["WafRateLimit"])
        self.seen: dict[tuple[str, bool], deque[float]] = defaultdict(deque)

    def blocks(self, source: str, path: str, now: float) -> bool:
        if not self.enabled:
            return False
        is_pow = path.startswith("/pow/")
        times = self.seen[(source, is_pow)]
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)  # blocked requests count too
        return len(times) > (self.pow_limit if is_pow else self.other_limit)


class StageThrottle:
    """API Gateway's stage throttles: a token bucket per method (the template's
    PowRateLimit/PowBurstLimit on /pow/*, ApiRateLimit/ApiBurstLimit on the others),
    shared by every client. A throttled request answers 429 with Retry-After: 1.
    The buckets are the app's own (chalicelib/limits.py), keyed by path."""

    def __init__(self, params: dict[str, Any]) -> None:
        from chalicelib.limits import Rule, SourceLimits

        self.buckets = SourceLimits({
            "pow": Rule(float(params["PowBurstLimit"]), float(params["PowRateLimit"]), 0),
            "other": Rule(float(params["ApiBurstLimit"]), float(params["ApiRateLimit"]), 0)})

    def throttles(self, path: str, now: float) -> bool:
        return self.buckets.admit("pow" if path.startswith("/pow/") else "other", path, now) > 0


@dataclass
class Book:
    """What one party's requests cost and got."""

    waf: int = 0
    gateway: int = 0
    invocations: int = 0
    lambda_ms: float = 0.0
    refused: int = 0
    throttled: int = 0
    refused_with_calls: int = 0
    accepted_shares: int = 0
    accepted_hashes: int = 0


class Simulation:
    def __init__(self, seconds: float, seed: int, waf_on: bool, min_work: int,
                 overrides: dict[str, Any]) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        import app  # noqa: F401 - the settings, the keys, the front door configured
        from bench.cost import _clients
        from bench.dynamo_cost import Recorder
        from chalicelib import front_door, ledger, limits, mining, pow, pressure, sites, stats
        from chalicelib import streams as streams_module
        from chalicelib.store import deadline

        self.rng = random.Random(seed)
        self.seconds, self.min_work = seconds, min_work
        self.clock = SimClock()
        for module in (deadline, mining, ledger, sites, streams_module, stats):
            module.time = self.clock  # type: ignore[attr-defined]
        mining.random = self.rng  # type: ignore[attr-defined]
        front_door.clock = self.clock.monotonic
        front_door.configure(1.0)
        pow.check_share = mining.check_share = lambda *_a, **_k: None  # CPU only, skipped
        self.containers = [Container(limits.SourceLimits(), pressure.SourceRates())
                           for _ in range(CONTAINERS)]
        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        self.site, _secret = sites.create_site("sim")
        self.recorder = Recorder(_clients(), self.backend, second=lambda: self.clock.now)
        self.calls = 0
        params = bill.parameters(bill.load_template(), overrides)
        self.waf = Waf(params, waf_on)
        self.throttle = StageThrottle(params)
        self.books: dict[str, Book] = defaultdict(Book)
        self.consumer_invocations = 0
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.solves: dict[str, list[float]] = defaultdict(list)
        self.visitors: list[Visitor] = []
        self.outcomes: dict[str, int] = defaultdict(int)

    # --- the store's hooks -----------------------------------------------------
    def _count_call(self, model: Any = None, **_: Any) -> None:
        # Writes only: a refused request may read the (cached) site record.
        if model is not None and model.name in WRITES:
            self.calls += 1

    def __enter__(self) -> Simulation:
        self.recorder.__enter__()
        for client in self.recorder.clients:
            client.meta.events.register("before-call.dynamodb", self._count_call)
        return self

    def __exit__(self, *exc: Any) -> None:
        for client in self.recorder.clients:
            client.meta.events.unregister("before-call.dynamodb", self._count_call)
        self.recorder.__exit__(*exc)

    # --- time ------------------------------------------------------------------
    def at(self, when: float, action: Callable[[], None]) -> None:
        if when < self.seconds:
            self._seq += 1
            heapq.heappush(self.events, (when, self._seq, action))

    def run(self) -> None:
        next_drain = 1.0
        while self.events:
            when, _seq, action = heapq.heappop(self.events)
            while when >= next_drain:
                self.clock.now = next_drain
                self.drain()
                next_drain += 1.0
            self.clock.now = when
            action()
        self.clock.now = self.seconds
        self.drain()

    def drain(self) -> None:
        """The stream consumer, once a second, batches of 100 per table."""
        from chalicelib import streams
        from chalicelib.store import deadline
        from tests.streams import pending_records

        deadline.clear()
        for event in pending_records():
            self.consumer_invocations += 1
            streams.handle_event(event, self.min_work)

    # --- one request ---------------------------------------------------------------
    def request(self, party: str, source: str, path: str,
                call: Callable[[], Any]) -> tuple[Any, int]:
        """(answer, 0), or (None, retry_after) if refused busy, or (code, -1) if refused otherwise."""
        from chalicelib import front_door, sites
        from chalicelib.errors import ApiError, Busy
        from chalicelib.store import deadline

        book = self.books[party]
        now = self.clock.now
        if self.waf.enabled:
            book.waf += 1
            if self.waf.blocks(source, path, now):
                book.refused += 1
                return None, int(self.waf.window)
        if self.throttle.throttles(path, now):
            book.throttled += 1  # REST APIs do not bill a throttled request
            return None, 1
        book.gateway += 1
        book.invocations += 1
        container = self.rng.choice(self.containers)
        front_door.LIMITS, front_door.RATES = container.limits, container.rates
        sites._cache = container.site_cache
        context = {"resourcePath": path, "identity": {"sourceIp": source}}
        calls_before = self.calls
        _route, wait = front_door.check(context)
        if wait:
            book.lambda_ms += REFUSED_MS
            book.refused += 1
            book.refused_with_calls += self.calls != calls_before
            return None, wait
        book.lambda_ms += SERVED_MS
        deadline.start()
        try:
            answer = call()
        except Busy as error:
            front_door.after(context, "busy")
            book.refused += 1
            book.refused_with_calls += self.calls != calls_before
            return None, error.retry_after
        except ApiError as error:
            front_door.after(context, error.code)
            self.outcomes[f"{party} {error.code}"] += 1
            return error.code, -1
        front_door.after(context, "success")
        if isinstance(answer, dict) and "hashes" in answer and "total" in answer:
            book.accepted_shares += 1
            book.accepted_hashes += int(answer["hashes"])
        return answer, 0

    def job(self, party: str, source: str, **account: Any) -> tuple[Any, int]:
        from chalicelib import mining
        from chalicelib.params import merge

        params = merge([("site", self.site.site_key), *((k, str(v)) for k, v in account.items())],
                       [])
        return self.request(party, source, "/pow/job", lambda: mining.issue_job(
            params, None, int(self.clock.time()), self.min_work, 600, source))

    def submit(self, party: str, source: str, job: dict[str, Any]) -> tuple[Any, int]:
        from chalicelib import mining
        from chalicelib.params import merge

        params = merge([("job", job["job"]), ("nonce", ",".join(["0"] * job["count"]))], [])
        return self.request(party, source, "/pow/submit", lambda: mining.submit(
            params, None, int(self.clock.time()), self.min_work, 600, source))

    def verify(self, token: str) -> None:
        from chalicelib import tokens

        self.request("backend", "192.0.2.1", "/token/verify", lambda: tokens.verify(
            self.site.site_key, token, 1, int(self.clock.time()), request_id=secrets.token_hex(8)))

    def backoff(self, retry_after: int) -> float:
        """What the widget and the miner wait on `busy`: Retry-After plus up to 20 % jitter."""
        return retry_after * (1 + 0.2 * self.rng.random())


# --- honest clients ----------------------------------------------------------------

def work_of(job: dict[str, Any]) -> int:
    return int(job["difficulty"]) * int(job["count"])


class Visitor:
    """A captcha visitor: click, job, solve, submit, the site's backend verifies."""

    def __init__(self, sim: Simulation, source: str, rate: float, kind: str) -> None:
        self.sim, self.source, self.rate, self.kind = sim, source, rate, kind
        self.started = sim.clock.now
        self.over = False  # solved, failed or gave up

    def start(self) -> None:
        self.sim.visitors.append(self)
        self.ask()

    def _late(self) -> bool:
        if self.sim.clock.now - self.started > GIVE_UP_SECONDS:
            self.sim.outcomes[f"captcha gave up ({self.kind})"] += 1
            self.over = True
            return True
        return False

    def ask(self) -> None:
        if self._late():
            return
        answer, wait = self.sim.job("honest", self.source, token="", hashes=CAPTCHA_HASHES)
        if wait > 0:
            self.sim.at(self.sim.clock.now + self.sim.backoff(wait), self.ask)
        elif wait == 0:
            self.sim.at(self.sim.clock.now + work_of(answer) / self.rate,
                        lambda: self.send(answer))
        else:
            self.sim.outcomes[f"captcha refused {answer} ({self.kind})"] += 1
            self.over = True

    def send(self, job: dict[str, Any]) -> None:
        if self._late():
            return
        answer, wait = self.sim.submit("honest", self.source, job)
        if wait > 0:
            self.sim.at(self.sim.clock.now + self.sim.backoff(wait), lambda: self.send(job))
        elif wait == 0:
            self.sim.solves[self.kind].append(self.sim.clock.now - self.started)
            self.sim.verify(job["token"])
            self.over = True
        else:
            self.sim.outcomes[f"captcha refused {answer} ({self.kind})"] += 1
            self.over = True


class Miner:
    """A user mining for MINER_SECONDS: follows its chain, backs off on busy."""

    def __init__(self, sim: Simulation, source: str, rate: float, name: str) -> None:
        self.sim, self.source, self.rate, self.name = sim, source, rate, name
        self.until = sim.clock.now + MINER_SECONDS

    def start(self) -> None:
        answer, wait = self.sim.job("honest", self.source, user=self.name)
        if wait > 0:
            self.sim.at(self.sim.clock.now + self.sim.backoff(wait), self.start)
        elif wait == 0:
            self.mine(answer)

    def mine(self, job: dict[str, Any]) -> None:
        done = self.sim.clock.now + work_of(job) / self.rate
        if done < self.until:
            self.sim.at(done, lambda: self.send(job))

    def send(self, job: dict[str, Any]) -> None:
        answer, wait = self.sim.submit("honest", self.source, job)
        if wait > 0:
            self.sim.outcomes["miner busy"] += 1
            self.sim.at(self.sim.clock.now + self.sim.backoff(wait), lambda: self.send(job))
        elif wait == 0:
            self.sim.outcomes["miner accepted"] += 1
            self.mine(answer)
        else:
            self.sim.outcomes[f"miner refused {answer}"] += 1


def honest_traffic(sim: Simulation, per_minute_captchas: int, per_minute_miners: int) -> None:
    count = 0
    for minute in range(int(sim.seconds // 60) + 1):
        for i in range(per_minute_captchas + per_minute_miners):
            count += 1
            source = f"10.{count >> 16 & 255}.{count >> 8 & 255}.{count & 255}"
            phone = i % 2 == 0
            rate = PHONE_RATE if phone else DESKTOP_RATE
            when = minute * 60 + sim.rng.uniform(0, 60)
            if i < per_minute_captchas:
                client: Any = Visitor(sim, source, rate, "phone" if phone else "desktop")
            else:
                client = Miner(sim, source, rate, f"miner{count}")
            sim.at(when, _started(sim, client))


def _started(sim: Simulation, client: Any) -> Callable[[], None]:
    def start() -> None:
        client.started = sim.clock.now
        if isinstance(client, Miner):
            client.until = sim.clock.now + MINER_SECONDS
        client.start()
    return start


# --- attackers ------------------------------------------------------------------

class Worker:
    """An attacker's source mining minimum-work shares: a fresh job for every share."""

    def __init__(self, sim: Simulation, source: str, rate: float) -> None:
        self.sim, self.source, self.rate = sim, source, rate

    def ask(self) -> None:
        answer, wait = self.sim.job("attacker", self.source, anonymous=1)
        if wait > 0:
            self.sim.at(self.sim.clock.now + wait, self.ask)
        elif wait == 0:
            self.sim.at(self.sim.clock.now + work_of(answer) / self.rate,
                        lambda: self.send(answer))
        else:
            self.sim.at(self.sim.clock.now + 1.0, self.ask)

    def send(self, job: dict[str, Any]) -> None:
        _answer, wait = self.sim.submit("attacker", self.source, job)
        if wait > 0:
            self.sim.at(self.sim.clock.now + wait, lambda: self.send(job))
        else:
            self.ask()


def attack(sim: Simulation, name: str) -> None:
    if name == "job-flood":
        def flood(second: int) -> Callable[[], None]:
            def burst() -> None:
                for _ in range(1000):
                    sim.job("attacker", "192.0.2.66", anonymous=1)
                sim.at(second + 1, flood(second + 1))
            return burst
        sim.at(0.5, flood(0))
    elif name in ("cpu", "gpu"):
        worker = Worker(sim, "192.0.2.66", CPU_RATE if name == "cpu" else GPU_RATE)
        sim.at(0.5, worker.ask)
    elif name == "many":
        for i in range(sim.many_sources):  # type: ignore[attr-defined]
            worker = Worker(sim, f"172.{16 + (i >> 16)}.{i >> 8 & 255}.{i & 255}", CPU_RATE)
            sim.at(sim.rng.uniform(0.5, 2.0), worker.ask)


# --- the report -----------------------------------------------------------------

def costs_per_hour(sim: Simulation, party: str) -> dict[str, float]:
    book = sim.books[party]
    scale = HOUR / sim.seconds
    function = bill.function_settings()[bill.API_FUNCTION]
    gb_seconds = book.lambda_ms / 1000 * function.memory_gb
    layers = bill.layer_costs(book.gateway * scale, book.invocations * scale, gb_seconds * scale,
                              0.0, 0.0, book.waf * scale)
    return {name: value for name, value in layers.items() if name != "CloudWatch Logs"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_scenario(name: str, args: argparse.Namespace, waf_on: bool) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        from chalicelib.store import models
        from ops import tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        tables.create_tables("local")
        seconds = args.many_seconds if name == "many" else args.seconds
        sim = Simulation(seconds, args.seed, waf_on, args.min_work, args.overrides)
        sim.many_sources = args.many_sources  # type: ignore[attr-defined]
        honest_traffic(sim, 200, 50)
        if name != "none":
            attack(sim, name)
        with sim:
            sim.run()
        units = sim.recorder.cost
        scale = HOUR / sim.seconds
        dynamo = (units.wru * bill.DYNAMODB_WRU + units.rru * bill.DYNAMODB_RRU) * scale
        layers = defaultdict(float)
        for party in sim.books:
            for layer, value in costs_per_hour(sim, party).items():
                layers[layer] += value
        consumer = bill.function_settings()[bill.STREAMS_FUNCTION]
        layers["Lambda"] += sim.consumer_invocations * scale * (
            bill.LAMBDA_REQUEST + SERVED_MS * 4 / 1000 * consumer.memory_gb
            * bill.LAMBDA_GB_SECOND["x86"])
        layers["DynamoDB"] = dynamo
        attacker, honest = sim.books["attacker"], sim.books["honest"]
        captchas = {kind: sim.solves[kind] for kind in ("phone", "desktop")}
        # Visitors still working at the end count once they had 30 s: as not served.
        counted = [v for v in sim.visitors if v.over or sim.seconds - v.started > 30]
        started = len(counted)
        return {
            "name": name, "waf": waf_on, "seconds": sim.seconds, "layers": dict(layers),
            "total": sum(layers.values()),
            "honest_success": sum(len(v) for v in captchas.values()) / max(1, started),
            "p50": {k: percentile(v, 0.5) for k, v in captchas.items()},
            "p95": {k: percentile(v, 0.95) for k, v in captchas.items()},
            "miner_busy": sim.outcomes.get("miner busy", 0),
            "miner_accepted": sim.outcomes.get("miner accepted", 0),
            "honest_refused_codes": {k: v for k, v in sim.outcomes.items()
                                     if "refused" in k and not k.startswith("attacker")},
            "attacker_shares_h": attacker.accepted_shares * scale,
            "attacker_hashes_h": attacker.accepted_hashes * scale,
            "attacker_requests_h": (attacker.waf or attacker.gateway) * scale,
            "refused_with_calls": attacker.refused_with_calls + honest.refused_with_calls,
            "honest_captchas": started,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="all",
                        choices=("none", "job-flood", "cpu", "gpu", "many", "all"))
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--many-seconds", type=float, default=120.0)
    parser.add_argument("--many-sources", type=int, default=10_000)
    parser.add_argument("--min-work", type=int, default=0, help="0: the app's default")
    parser.add_argument("--waf", choices=("on", "off", "both"), default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter other than its default (e.g. PowRateLimit=1000)")
    args = parser.parse_args()
    args.overrides = dict(item.split("=", 1) for item in args.param)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
        "AWS_DEFAULT_REGION": "us-east-1", "WORKPROOF_SOURCE_LIMITS": "on",
        "WORKPROOF_SIGNING_KEYS": "sim:" + base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode(),
    })
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    from chalicelib import config

    args.min_work = args.min_work or config.DEFAULT_MIN_WORK
    names = ["none", "job-flood", "cpu", "gpu", "many"] if args.scenario == "all" \
        else [args.scenario]
    wafs = {"on": [True], "off": [False], "both": [True, False]}[args.waf]
    results = []
    for waf in wafs:
        for name in names:
            started = time.monotonic()
            results.append(run_scenario(name, args, waf))
            print(f"  {name} (WAF {'on' if waf else 'off'}): {time.monotonic() - started:.0f} s",
                  file=sys.stderr, flush=True)
    report(results, args)
    return 0


def _money(value: float) -> str:
    return f"${value:,.3f}" if value < 10 else f"${value:,.2f}"


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    changed = ", ".join(args.param) or "none"
    print(f"\nbench-abuse: template parameters changed: {changed}; minimum work "
          f"{args.min_work:,} hashes; desktop {DESKTOP_RATE / 1e6:g} "
          f"MH/s, phone {PHONE_RATE / 1e6:g} MH/s; {CONTAINERS} containers; honest traffic "
          f"200 captchas + 50 miners a minute; prices of {bill.PRICES_DATE} (bench/bill.py)\n")
    baseline = {r["waf"]: r for r in results if r["name"] == "none"}
    print("| scenario | WAF | sim s | WAF $/h | API GW $/h | Lambda $/h | DynamoDB $/h | total $/h "
          "| attacker's cost $/h | honest captchas ok | p50 / p95 phone s | p50 / p95 desktop s "
          "| miner submits busy | attacker shares/h | attacker hashes/h | refused with a DB write |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|")
    for r in results:
        base = baseline.get(r["waf"])
        extra = r["total"] - base["total"] if base and r is not base else 0.0
        layers = r["layers"]
        print(f"| {r['name']} | {'on' if r['waf'] else 'off'} | {r['seconds']:.0f} "
              f"| {_money(layers.get('WAF', 0))} | {_money(layers['API Gateway'])} "
              f"| {_money(layers['Lambda'])} | {_money(layers['DynamoDB'])} | {_money(r['total'])} "
              f"| {_money(extra) if r['name'] != 'none' else '—'} "
              f"| {100 * r['honest_success']:.1f} % of {r['honest_captchas']} "
              f"| {r['p50']['phone']:.2f} / {r['p95']['phone']:.2f} "
              f"| {r['p50']['desktop']:.2f} / {r['p95']['desktop']:.2f} "
              f"| {r['miner_busy']} of {r['miner_busy'] + r['miner_accepted']} "
              f"| {r['attacker_shares_h']:,.0f} | {r['attacker_hashes_h']:.3g} "
              f"| {r['refused_with_calls']} |")
    refusals = {r["name"]: r["honest_refused_codes"] for r in results if r["honest_refused_codes"]}
    print(f"\nhonest refusals other than busy (every busy carries Retry-After): "
          f"{refusals or 'none'}")
    if any(r["refused_with_calls"] for r in results):
        print("RESULT: a refused request wrote to DynamoDB")
    else:
        print("RESULT: no refused request wrote to DynamoDB")
    print("(p50/p95: seconds from the visitor's click to the token in the form)")


if __name__ == "__main__":
    sys.exit(main())
