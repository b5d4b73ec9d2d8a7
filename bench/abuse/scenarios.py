"""The scenarios: who attacks, beside the honest traffic every scenario has.

Each `Scenario` sets its clients up on a fresh simulation (`setup`), may
name scenarios whose results its target compares with (`needs`), and
states its target (`target`: text, measured, pass) from the results.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.abuse.attackers import CPU_RATE, GPU_RATE, Flood, SplitMiner, Worker
from bench.abuse.clients import PHONE_RATE, Visit, Visitor, honest_traffic
from bench.abuse.sim import Simulation

ATTACKER = "192.0.2.66"
OFFICE = "198.51.100.7"          # one IPv4 address: 50 visitors, an office or a carrier NAT
OFFICE_VISITORS = 50
ROTATED = [f"203.0.113.{i}" for i in range(1, 7)]
STOP_AFTER = 75.0                # the stop scenario's attack ends by then
TRACE_SECONDS = 15
WINDOWS_SECONDS = 150.0


@dataclass
class Run:
    """A scenario's simulation and what it observed besides the bill."""

    sim: Simulation
    visits: list[Visit] = field(default_factory=list)        # the background's captchas
    office: list[Visit] = field(default_factory=list)        # the shared address's captchas
    trace: list[tuple[float, int]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    setup: Callable[[Run, Any], None]
    needs: tuple[str, ...] = ()
    long: bool = False  # runs --many-seconds, not --seconds
    windows: bool = False  # runs at least WINDOWS_SECONDS: WAF's windows and lag play out
    warm: bool = False  # the miners' steady state from the first second


def _office(run: Run, _args: Any) -> None:
    sim = run.sim
    for _ in range(OFFICE_VISITORS):
        visitor = Visitor(sim, OFFICE, PHONE_RATE, "office", run.office)
        sim.at(sim.rng.uniform(0, 60), visitor.start)


def _office_cpu(run: Run, args: Any) -> None:
    _office(run, args)
    run.sim.at(0.1, Worker(run.sim, OFFICE, CPU_RATE).ask)


def _junk_neighbour(run: Run, args: Any) -> None:
    _office(run, args)
    sim = run.sim
    flip = [0]

    def junk(address: str) -> Any:
        flip[0] ^= 1
        if flip[0]:
            return sim.submit("attacker", address, "v1.garbage.garbage", 8)
        return sim.job("attacker", address, site_key="unknown-site-key-000000000000000", anonymous=1)
    Flood(sim, 20.0, lambda _t: OFFICE, junk)


def _one_source(kind: str) -> Callable[[Run, Any], None]:
    def setup(run: Run, _args: Any) -> None:
        sim = run.sim
        if kind == "job-flood":
            Flood(sim, 1000.0, lambda _t: ATTACKER, lambda a: sim.job("attacker", a, anonymous=1))
        else:
            sim.at(0.5, Worker(sim, ATTACKER, CPU_RATE if kind == "cpu" else GPU_RATE).ask)
    return setup


def _many(run: Run, args: Any) -> None:
    sim = run.sim
    for i in range(args.many_sources):
        worker = Worker(sim, f"172.{16 + (i >> 16)}.{i >> 8 & 255}.{i & 255}", CPU_RATE)
        sim.at(sim.rng.uniform(0.5, 2.0), worker.ask)


def _stop(run: Run, args: Any) -> None:
    """Fresh CPU sources join every second (each mines for 15 s) until the site
    is at its top level for 15 s (or STOP_AFTER), then the attack stops."""
    from chalicelib import pressure

    sim = run.sim
    top = len(pressure.default_levels(sim.min_work).works) - 1
    state = {"stop": STOP_AFTER, "joined": 0, "top_at": None}

    def tick(now: float) -> None:
        if now % TRACE_SECONDS == 0 or (now < state["stop"] and now % 5 == 0):
            level = sim.level()
            if now % TRACE_SECONDS == 0:
                run.trace.append((now, level))
            if level >= top and state["top_at"] is None and now < state["stop"]:
                state["top_at"] = now
                state["stop"] = min(state["stop"], now + 15)
        if now < state["stop"]:
            for _ in range(args.stop_sources_per_second):
                state["joined"] += 1
                i = state["joined"]
                worker = Worker(sim, f"100.{64 + (i >> 16)}.{i >> 8 & 255}.{i & 255}", CPU_RATE,
                                until=min(now + 15, state["stop"]))
                sim.at(now + sim.rng.uniform(0, 1), worker.ask)
    sim.tickers.append(tick)
    run.notes["stop"] = state


def _split(run: Run, _args: Any) -> None:
    askers = [f"2001:db8:0:ab{i:02x}::1" for i in range(99)]
    SplitMiner(run.sim, askers, "2001:db8:0:abff::1", GPU_RATE)


def _junk_paths(run: Run, _args: Any) -> None:
    sim = run.sim
    for i in range(40):
        address = f"198.18.0.{i + 1}"
        Flood(sim, 10.0, lambda _t, a=address: a, lambda a: sim.junk_path("attacker", a, "/wp-login.php"))


def _no_work_jobs(run: Run, _args: Any) -> None:
    sim = run.sim
    for i in range(400):
        address = f"198.19.{i >> 8}.{i & 255}"
        Flood(sim, 2.4, lambda _t, a=address: a, lambda a: sim.job("attacker", a, anonymous=1))


def _rotate(run: Run, _args: Any) -> None:
    sim = run.sim
    Flood(sim, 1000.0, lambda t: ROTATED[int(t // 30) % len(ROTATED)],
          lambda a: sim.job("attacker", a, anonymous=1))


SCENARIOS = {s.name: s for s in (
    Scenario("none", "honest traffic alone", lambda run, args: None),
    Scenario("job-flood", "one source, 1,000 /pow/job a second, no work", _one_source("job-flood")),
    Scenario("cpu", "one source, one CPU core mining minimum-work shares", _one_source("cpu")),
    Scenario("gpu", "one source, one GPU mining minimum-work shares", _one_source("gpu")),
    Scenario("many", "10,000 sources, each a CPU core at its per-source limit", _many,
             needs=("none",), long=True),
    Scenario("office", f"{OFFICE_VISITORS} phone visitors behind one IPv4 address, one captcha "
             "each over a minute", _office),
    Scenario("office+cpu", "the office, and an attacker behind its address mining with one CPU core",
             _office_cpu, needs=("office",)),
    Scenario("stop", "CPU sources push the site to its top level, then stop; honest traffic "
             "continues at its steady state", _stop, warm=True),
    Scenario("split", "one GPU: jobs asked from 99 /64s of one /56, shares submitted from another",
             _split, needs=("gpu",)),
    Scenario("junk-neighbour", "the office, and 20 junk requests a second from its address "
             "(garbage submits, unknown-site jobs)", _junk_neighbour, needs=("office",)),
    Scenario("junk-paths", "40 addresses x 10 GETs a second to a path the API does not serve",
             _junk_paths, windows=True),
    Scenario("no-work-jobs", "400 addresses x 2.4 /pow/job a second, no work", _no_work_jobs),
    Scenario("rotate", "one machine rotating six IPv4 addresses every 30 s, 1,000 /pow/job a second",
             _rotate, needs=("none",), windows=True),
)}


def prepare(name: str, sim: Simulation, args: Any) -> Run:
    scenario = SCENARIOS[name]
    run = Run(sim)
    honest_traffic(sim, run.visits, warm=scenario.warm)
    scenario.setup(run, args)
    return run
