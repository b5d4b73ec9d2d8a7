"""The simulation: simulated time, the edge (WAF, stage throttles), a pool of
warm Lambda containers running the real app code, and each party's bill.

One request goes as a deployed one does through the template's front door
(its FrontDoor parameter): WAF (bench/abuse/edge.py: the door's web ACL),
then on the REST door API Gateway's throttle, then an idle container picked
at random (bench/abuse/pool.py: none idle, Lambda throttles it; on the
cloudfront door the verification paths go to the verify function's own
pool, edge_door.VERIFY_PATHS), where the app's middleware order is followed (`front_door.check`, the view,
`front_door.after`; chalicelib/http.py `serve`). Every DynamoDB call a request makes is priced by
bench/dynamo_cost.py and charged to the request's party; the stream consumer
drains each table at the template's batching window (bench/abuse/consumer.py)
and its cost is shared by the parties in proportion to what they wrote there.
"""
from __future__ import annotations

import heapq
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import bill, edge_door
from bench.abuse.consumer import Consumer
from bench.abuse.edge import StageThrottle, Waf
from bench.abuse.pool import Container, Pool
from bench.hotkeys import SimClock

SERVED_MS, REFUSED_MS = 25, 3   # billed Lambda duration of a served / refused request
# Containers when the template reserves no concurrency (ApiReservedConcurrency = 0, its
# default): what `make deploy` reserves on a standard account (bench/bill.py).
UNRESERVED_CONTAINERS = bill.DEPLOY_RESERVATION[bill.RESERVED[bill.API_FUNCTION]]
UNRESERVED_VERIFY_CONTAINERS = bill.DEPLOY_RESERVATION[bill.RESERVED[bill.VERIFY_FUNCTION]]
BACKEND = "192.0.2.1"  # the site's backend, verifying its visitors' tokens


@dataclass
class Book:
    """What one party's requests cost and got."""

    waf: int = 0
    gateway: int = 0
    invocations: int = 0
    lambda_ms: float = 0.0
    wru: float = 0.0
    rru: float = 0.0
    refused: int = 0
    waf_blocked: int = 0
    throttled: int = 0
    refused_with_calls: int = 0
    lambda_throttled: int = 0
    accepted_shares: int = 0
    accepted_hashes: int = 0
    log_bytes: float = 0.0  # CloudWatch Logs, as the app writes them (bench/abuse/logbytes.py)


@dataclass(frozen=True)
class Answer:
    """A request's outcome: `value` (the view's answer) if ok; else the wait
    (`retry_after` > 0, busy or throttled) or the error code."""

    value: Any = None
    retry_after: int = 0
    error: str = ""
    by: str = ""  # what refused it: a WAF rule, "throttle", "lambda", "front door", "app"
    unreadable: bool = False  # not a contract answer (Lambda throttled): retried as network trouble

    @property
    def ok(self) -> bool:
        return not self.error and not self.retry_after and not self.unreadable


class Simulation:
    def __init__(self, seconds: float, seed: int, waf_on: bool, min_work: int,
                 overrides: dict[str, Any]) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        import app  # noqa: F401 - the settings, the keys, the front door configured
        from bench.cost import _clients
        from bench.dynamo_cost import Recorder
        from chalicelib import front_door, ledger, mining, pow, sites, stats
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
        template = bill.load_template()
        self.params = bill.parameters(template, overrides)
        reserved = int(float(self.params.get(bill.RESERVED[bill.API_FUNCTION]) or 0))
        self.pool = Pool(reserved or UNRESERVED_CONTAINERS, self.rng, seed)
        self.door = edge_door.door(self.params)
        # The cloudfront door's verify function: its own containers and reservation
        # (random streams of its own, so the API pool's draws stay those of a run without it).
        verify_reserved = int(float(self.params.get(bill.RESERVED[bill.VERIFY_FUNCTION]) or 0))
        self.verify_pool = Pool(verify_reserved or UNRESERVED_VERIFY_CONTAINERS,
                                random.Random(seed + 1), seed + 2) if self.door == edge_door.EDGE else None
        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        self.site, _secret = sites.create_site("sim")
        self.recorder = Recorder(_clients(), self.backend, second=lambda: self.clock.now)
        self.waf = Waf(template, self.params, waf_on, self.rng)
        # execute-api is off on the cloudfront door: no stage throttle in front of Lambda.
        self.throttle = StageThrottle(template, self.params) if self.door == edge_door.REST else None
        self.books: dict[str, Book] = defaultdict(Book)
        self.consumer = Consumer(self.recorder)
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.writes = 0
        self._last_ok = False
        self.outcomes: dict[str, int] = defaultdict(int)
        self.tickers: list[Callable[[float], None]] = []  # run at each whole second

    # --- the store's hooks -----------------------------------------------------
    def _count_call(self, model: Any = None, **_: Any) -> None:
        # Writes only: a refused request may read the (cached) site record.
        if model is not None and model.name in ("PutItem", "UpdateItem", "DeleteItem",
                                                "TransactWriteItems", "BatchWriteItem"):
            self.writes += 1

    def __enter__(self) -> Simulation:
        self.recorder.__enter__()
        for client in self.recorder.clients:
            client.meta.events.register("before-call.dynamodb", self._count_call)
            client.meta.events.register("before-parameter-build.dynamodb", self.consumer.count)
        return self

    def __exit__(self, *exc: Any) -> None:
        for client in self.recorder.clients:
            client.meta.events.unregister("before-call.dynamodb", self._count_call)
            client.meta.events.unregister("before-parameter-build.dynamodb", self.consumer.count)
        self.recorder.__exit__(*exc)

    # --- time ------------------------------------------------------------------
    def at(self, when: float, action: Callable[[], None]) -> None:
        if when < self.seconds:
            self._seq += 1
            heapq.heappush(self.events, (when, self._seq, action))

    def run(self) -> None:
        next_second = 1.0
        while self.events:
            when, _seq, action = heapq.heappop(self.events)
            while when >= next_second:
                self._second(next_second)
                next_second += 1.0
            self.clock.now = when
            action()
        while next_second <= self.seconds:
            self._second(next_second)
            next_second += 1.0

    def _second(self, now: float) -> None:
        self.clock.now = now
        self.waf.evaluate(now)
        self.drain()
        for tick in self.tickers:
            tick(now)

    def drain(self) -> None:
        """The stream consumer: each table whose batching window has passed."""
        from chalicelib.store import deadline

        deadline.clear()
        self.consumer.drain(self.clock.now, self.min_work)

    # --- one request ---------------------------------------------------------------
    def request(self, party: str, address: str, path: str, call: Callable[[], Any],
                method: str = "POST", resource: str | None = None) -> Answer:
        """One request from `address` (as API Gateway reports it) to `path`
        (`resource`: API Gateway's resource path, if not `path` itself)."""
        book = self.books[party]
        now = self.clock.now
        if self.waf.enabled:
            book.waf += 1
            rule = self.waf.blocks(address, path, method, now)
            if rule:
                book.waf_blocked += 1
                return Answer(retry_after=int(self.params["WafWindowSeconds"]), by=rule)
        resource = resource or path
        if self.throttle is not None:
            if self.throttle.throttles(resource, method, now):
                book.throttled += 1  # REST APIs do not bill a throttled request
                return Answer(retry_after=1, by="throttle")
            book.gateway += 1  # billed whether Lambda then runs it or not
        pool = self.pool_for(path)
        container = pool.acquire(now)
        if container is None:
            book.lambda_throttled += 1
            if self.door == edge_door.EDGE and path.startswith("/pow/"):
                # CloudFront adds CORS and Retry-After: 1 to Lambda's 429 (EdgePowCorsPolicy):
                # the widget reads it as busy.
                return Answer(retry_after=1, by="lambda")
            return Answer(by="lambda", unreadable=True)
        book.invocations += 1
        before = (self.recorder.cost.wru, self.recorder.cost.rru, self.writes, book.lambda_ms)
        self.consumer.party = party
        try:
            return self._invoke(book, container, address, resource, call)
        finally:
            self.consumer.party = ""
            book.wru += self.recorder.cost.wru - before[0]
            book.rru += self.recorder.cost.rru - before[1]
            if self.writes != before[2] and not self._last_ok:
                book.refused_with_calls += 1
            pool.hold(container, now, book.lambda_ms - before[3])

    def pool_for(self, path: str) -> Pool:
        """The function a request reaches: CloudFront routes the verification paths
        to the verify function; everything else (and everything on the REST door)
        runs in the API function."""
        if self.verify_pool is not None and path in edge_door.VERIFY_PATHS:
            return self.verify_pool
        return self.pool

    def _invoke(self, book: Book, container: Container, address: str, resource: str,
                call: Callable[[], Any]) -> Answer:
        """The app's middleware and view in `container`."""
        from bench.abuse.logbytes import invocation_bytes
        from chalicelib import front_door, recent_sources, sites
        from chalicelib.errors import ApiError, Busy
        from chalicelib.store import deadline

        sample = float(self.params.get("LogSample", 1.0))

        def logged(result: str) -> None:
            book.log_bytes += invocation_bytes(resource, result, sample)

        front_door.LIMITS, front_door.RATES = container.limits, container.rates
        sites._cache = container.site_cache
        recent_sources._cache = container.recent_cache
        if hasattr(front_door, "_credited"):
            if container.credited is None:
                container.credited = type(front_door._credited)()
            front_door._credited = container.credited
        context = {"resourcePath": resource, "identity": {"sourceIp": address}}
        self._last_ok = False
        _route, wait = front_door.check(context)
        if wait:
            book.lambda_ms += REFUSED_MS
            book.refused += 1
            logged("busy")
            return Answer(retry_after=wait, by="front door")
        book.lambda_ms += SERVED_MS
        deadline.start()
        try:
            value = call()
        except Busy as error:
            front_door.after(context, "busy")
            book.refused += 1
            logged("busy")
            return Answer(retry_after=error.retry_after, by="app")
        except ApiError as error:
            wait = front_door.after(context, error.code)
            book.refused += 1
            if wait:  # junk past its source's allowance: answered busy
                logged("busy")
                return Answer(retry_after=wait, by="front door")
            logged(error.code)
            return Answer(error=error.code, by="app")
        front_door.after(context, "success")
        logged("success")
        self._last_ok = True
        if isinstance(value, dict) and "hashes" in value and "total" in value:
            book.accepted_shares += 1
            book.accepted_hashes += int(value["hashes"])
        return Answer(value=value)

    # --- the app's routes ----------------------------------------------------------
    def job(self, party: str, address: str, site_key: str | None = None, **account: Any) -> Answer:
        from chalicelib import mining
        from chalicelib.params import merge

        site = site_key or self.site.site_key
        params = merge([("site", site), *((k, str(v)) for k, v in account.items())], [])
        return self.request(party, address, "/pow/job", lambda: mining.issue_job(
            params, None, int(self.clock.time()), self.min_work, 600, address))

    def submit(self, party: str, address: str, job_text: str, count: int) -> Answer:
        from chalicelib import mining
        from chalicelib.params import merge

        params = merge([("job", job_text), ("nonce", ",".join(["0"] * count))], [])
        return self.request(party, address, "/pow/submit", lambda: mining.submit(
            params, None, int(self.clock.time()), self.min_work, 600, address))

    def verify(self, token: str) -> Answer:
        """The site's backend verifies a visitor's token (POST /token/verify)."""
        from chalicelib import tokens

        return self.request("backend", BACKEND, "/token/verify", lambda: tokens.verify(
            self.site.site_key, token, 1, int(self.clock.time()), request_id=secrets.token_hex(8)))

    def junk_path(self, party: str, address: str, path: str) -> Answer:
        """A GET to a path the API does not serve (API Gateway's catch-all resource)."""
        from chalicelib.errors import NotFound

        def not_found() -> Any:
            raise NotFound()
        depth = path.count("/")
        resource = "".join(f"/{{p{i}}}" for i in range(depth))
        return self.request(party, address, path, not_found, method="GET", resource=resource)

    def backoff(self, retry_after: int) -> float:
        """What the widget and the miner wait on `busy`: Retry-After plus up to 20 % jitter."""
        return retry_after * (1 + 0.2 * self.rng.random())

    def level(self) -> int:
        """The site's level in force now, read from its record as /pow/job reads it."""
        from chalicelib import pressure, sites

        site = sites.get_site(self.site.site_key, consistent=True)
        assert site is not None
        levels = site.levels or pressure.default_levels(self.min_work)
        return pressure.level_now(site.pressure, levels, int(self.clock.time()))
