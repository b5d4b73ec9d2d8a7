"""Attackers: miners of minimum-work shares, and floods that ignore Retry-After.

A `Worker` mines as fast as its hash rate and the limits let it: a fresh
job for every share (so no chain's vardiff slows it), each wait of
Retry-After served (sending more would earn it nothing). A `Flood` sends
requests at a rate, spread through each second as a Poisson process, and
never waits: Retry-After means nothing to it. A `SplitMiner` asks for its
jobs from many addresses and submits every share from another one.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bench.abuse.clients import solve_seconds
from bench.abuse.sim import Answer, Simulation

CPU_RATE = 16.7e6     # one core's SHA-256 (the figure)
GPU_RATE = 21.5e9     # RTX 4090, public hashcat figures


class Device:
    """One hashing device shared by every job in flight: solves queue for it."""

    def __init__(self, sim: Simulation, rate: float) -> None:
        self.sim, self.rate = sim, rate
        self.free_at = 0.0

    def solved_at(self, job: dict[str, Any]) -> float:
        start = max(self.sim.clock.now, self.free_at)
        self.free_at = start + solve_seconds(self.sim, job, self.rate)
        return self.free_at


class Worker:
    """A source mining minimum-work shares on its own device, until `until`."""

    def __init__(self, sim: Simulation, address: str, rate: float, party: str = "attacker",
                 until: float = float("inf")) -> None:
        self.sim, self.address, self.party, self.until = sim, address, party, until
        self.device = Device(sim, rate)

    def ask(self) -> None:
        if self.sim.clock.now >= self.until:
            return
        answer = self.sim.job(self.party, self.address, anonymous=1)
        if answer.retry_after or answer.unreadable:
            self.sim.at(self.sim.clock.now + (answer.retry_after or 1), self.ask)
        elif answer.ok:
            job = answer.value
            self.sim.at(self.device.solved_at(job), lambda: self.send(job))
        else:
            self.sim.at(self.sim.clock.now + 1.0, self.ask)

    def send(self, job: dict[str, Any]) -> None:
        if self.sim.clock.now >= self.until:
            return
        answer = self.sim.submit(self.party, self.address, job["job"], job["count"])
        if answer.retry_after or answer.unreadable:  # a throttled share is sent again a second later
            self.sim.at(self.sim.clock.now + (answer.retry_after or 1), lambda: self.send(job))
        else:
            self.ask()


class Flood:
    """`per_second` requests a second, Poisson arrivals, from `address(t)`, never waiting."""

    def __init__(self, sim: Simulation, per_second: float, address: Callable[[float], str],
                 send: Callable[[str], Answer], start: float = 0.0) -> None:
        self.sim, self.per_second, self.address, self.send = sim, per_second, address, send
        sim.at(start + sim.rng.expovariate(per_second), self.fire)

    def fire(self) -> None:
        self.send(self.address(self.sim.clock.now))
        self.sim.at(self.sim.clock.now + self.sim.rng.expovariate(self.per_second), self.fire)


class SplitMiner:
    """One device; jobs asked from each of `askers` in turn, every share
    submitted from `submitter`; `lanes` jobs in flight at once."""

    def __init__(self, sim: Simulation, askers: Sequence[str], submitter: str, rate: float,
                 lanes: int = 8) -> None:
        self.sim, self.askers, self.submitter = sim, list(askers), submitter
        self.device = Device(sim, rate)
        self.turn = 0
        for lane in range(lanes):
            sim.at(0.5 + lane * 0.01, self.ask)

    def ask(self) -> None:
        address = self.askers[self.turn % len(self.askers)]
        self.turn += 1
        answer = self.sim.job("attacker", address, anonymous=1)
        if answer.ok:
            job = answer.value
            self.sim.at(self.device.solved_at(job), lambda: self.send(job))
        else:
            # Another address at once: the asker's wait is that address's alone.
            self.sim.at(self.sim.clock.now + (0.05 if answer.retry_after else 1.0), self.ask)

    def send(self, job: dict[str, Any]) -> None:
        answer = self.sim.submit("attacker", self.submitter, job["job"], job["count"])
        if answer.retry_after or answer.unreadable:
            self.sim.at(self.sim.clock.now + (answer.retry_after or 1), lambda: self.send(job))
        else:
            self.ask()
