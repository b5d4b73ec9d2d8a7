"""Honest clients: captcha visitors and miners, as the widget and the miner behave.

A job of k puzzles at difficulty D takes a client k draws of a geometric
number of hashes with mean D (as exponential draws: D is large), divided by
the client's hash rate: a gamma(k, D) draw / rate. A visitor succeeds only
when the site's backend verifies its token (POST /token/verify): a verify
refused by WAF, a throttle, the front door or the token check is a failure.
An answer the widget cannot read (Lambda throttled the request) is retried
as network trouble, 1 s, 2 s, 4 s ... (bench/abuse/pool.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.abuse.pool import reconnect_seconds
from bench.abuse.sim import Answer, Simulation

# Browser solver rates (hashes/s, both workers of headless Chromium on this
# 2-core machine): `make bench-captcha` measured 3.4-5.6 MH/s per worker at
# ×1; a mid phone (×4) is a quarter of that.
DESKTOP_RATE = 9e6
PHONE_RATE = DESKTOP_RATE / 4
CAPTCHA_HASHES = 1       # the widget's data-hashes: the site's minimum work decides
MINER_SECONDS = 300
GIVE_UP_SECONDS = 120    # an honest visitor who waited this long has failed


def solve_seconds(sim: Simulation, job: dict[str, Any], rate: float) -> float:
    """A random solve time of `job` at `rate` hashes/s (k puzzles, each geometric with mean D)."""
    return sim.rng.gammavariate(int(job["count"]), float(job["difficulty"])) / rate


def work_of(job: dict[str, Any]) -> int:
    return int(job["difficulty"]) * int(job["count"])


@dataclass
class Visit:
    """One captcha: what it was asked and how it ended."""

    kind: str               # phone | desktop | a scenario's group (office ...)
    started: float
    works: list[int] = field(default_factory=list)
    busy_waits: list[float] = field(default_factory=list)
    seconds: float | None = None   # click to verified token
    outcome: str = ""        # "" while under way, "verified", or why it failed


def retry_wait(sim: Simulation, answer: Answer, reconnects: int) -> float:
    """The widget's wait before it sends a refused request again: Retry-After on
    `busy`, its network-trouble backoff on an answer it cannot read."""
    if answer.unreadable:
        return reconnect_seconds(reconnects, sim.rng)
    return sim.backoff(answer.retry_after)


class Visitor:
    """A captcha visitor: click, job, solve, submit, then the site's backend verifies."""

    def __init__(self, sim: Simulation, address: str, rate: float, kind: str,
                 visits: list[Visit]) -> None:
        self.sim, self.address, self.rate, self.kind = sim, address, rate, kind
        self.visits = visits
        self.visit: Visit | None = None
        self.reconnects = 0  # unreadable answers in a row

    def start(self) -> None:
        self.visit = Visit(self.kind, self.sim.clock.now)
        self.visits.append(self.visit)
        self.ask()

    def _end(self, outcome: str) -> None:
        assert self.visit is not None
        self.visit.outcome = outcome

    def _late(self) -> bool:
        assert self.visit is not None
        if self.sim.clock.now - self.visit.started > GIVE_UP_SECONDS:
            self._end("gave up")
            return True
        return False

    def _retry(self, answer: Answer, again: Callable[[], None]) -> None:
        assert self.visit is not None
        wait = retry_wait(self.sim, answer, self.reconnects)
        self.reconnects = self.reconnects + 1 if answer.unreadable else 0
        self.visit.busy_waits.append(wait)
        self.sim.at(self.sim.clock.now + wait, again)

    def ask(self) -> None:
        if self._late():
            return
        answer = self.sim.job("visitor", self.address, token="", hashes=CAPTCHA_HASHES)
        if answer.retry_after or answer.unreadable:
            self._retry(answer, self.ask)
        elif answer.ok:
            assert self.visit is not None
            job = answer.value
            self.visit.works.append(work_of(job))
            self.sim.at(self.sim.clock.now + solve_seconds(self.sim, job, self.rate),
                        lambda: self.send(job))
        else:
            self._end(f"job refused {answer.error}")

    def send(self, job: dict[str, Any]) -> None:
        if self._late():
            return
        answer = self.sim.submit("visitor", self.address, job["job"], job["count"])
        if answer.retry_after or answer.unreadable:
            self._retry(answer, lambda: self.send(job))
        elif answer.ok:
            verified = self.sim.verify(job["token"])
            assert self.visit is not None
            if verified.ok:
                self.visit.seconds = self.sim.clock.now - self.visit.started
                self._end("verified")
            else:
                self._end(f"verify refused {verified.error or verified.by}")
        else:
            self._end(f"submit refused {answer.error}")


class Miner:
    """A user mining for MINER_SECONDS: follows its chain, backs off on busy."""

    def __init__(self, sim: Simulation, address: str, rate: float, name: str,
                 seconds: float = MINER_SECONDS) -> None:
        self.sim, self.address, self.rate, self.name = sim, address, rate, name
        self.seconds = seconds
        self.until = 0.0
        self.reconnects = 0

    def _wait(self, answer: Answer) -> float:
        wait = retry_wait(self.sim, answer, self.reconnects)
        self.reconnects = self.reconnects + 1 if answer.unreadable else 0
        return self.sim.clock.now + wait

    def start(self) -> None:
        self.until = self.sim.clock.now + self.seconds
        self.ask()

    def ask(self) -> None:
        answer = self.sim.job("miner", self.address, user=self.name)
        if answer.retry_after or answer.unreadable:
            self.sim.at(self._wait(answer), self.ask)
        elif answer.ok:
            self.mine(answer.value)

    def mine(self, job: dict[str, Any]) -> None:
        done = self.sim.clock.now + solve_seconds(self.sim, job, self.rate)
        if done < self.until:
            self.sim.at(done, lambda: self.send(job))

    def send(self, job: dict[str, Any]) -> None:
        answer = self.sim.submit("miner", self.address, job["job"], job["count"])
        if answer.retry_after or answer.unreadable:
            self.sim.outcomes["miner busy"] += 1
            self.sim.at(self._wait(answer), lambda: self.send(job))
        elif answer.ok:
            self.sim.outcomes["miner accepted"] += 1
            self.mine(answer.value)
        else:
            self.sim.outcomes[f"miner refused {answer.error}"] += 1


def honest_traffic(sim: Simulation, visits: list[Visit], captchas_per_minute: int = 200,
                   miners_per_minute: int = 50, warm: bool = False) -> None:
    """Captcha visitors and new miners, each from its own address, half at phone
    speed; `warm`: the miners of the last MINER_SECONDS already mining at 0 s
    (the steady state's shares a minute from the first second)."""
    count = 0

    def address() -> str:
        nonlocal count
        count += 1
        return f"10.{count >> 16 & 255}.{count >> 8 & 255}.{count & 255}"

    if warm:
        for i in range(miners_per_minute * MINER_SECONDS // 60):
            rate = PHONE_RATE if i % 2 == 0 else DESKTOP_RATE
            miner = Miner(sim, address(), rate, f"miner{count}",
                          seconds=sim.rng.uniform(0, MINER_SECONDS))
            sim.at(sim.rng.uniform(0, 10), miner.start)
    for minute in range(int(sim.seconds // 60) + 1):
        for i in range(captchas_per_minute + miners_per_minute):
            phone = i % 2 == 0
            rate = PHONE_RATE if phone else DESKTOP_RATE
            when = minute * 60 + sim.rng.uniform(0, 60)
            client: Any
            if i < captchas_per_minute:
                client = Visitor(sim, address(), rate, "phone" if phone else "desktop", visits)
            else:
                client = Miner(sim, address(), rate, f"miner{count}")
            sim.at(when, client.start)
