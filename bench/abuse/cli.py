"""`make bench-abuse`'s command line: which scenarios, how long, which front door, which
template parameters. Both doors run from the same seeds."""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import time
from typing import Any

from bench import edge_door
from bench.abuse import report, tables, targets
from bench.abuse.scenarios import SCENARIOS, WINDOWS_SECONDS, prepare

# The rows before issue 21, also run without WAF (as `make run` serves) with --waf both.
WAF_OFF_ROWS = ("none", "job-flood", "cpu", "gpu")
DOORS = {"cloudfront": (edge_door.EDGE,), "rest": (edge_door.REST,),
         "both": (edge_door.EDGE, edge_door.REST)}


def run_scenario(name: str, args: argparse.Namespace, waf_on: bool, door: str) -> dict[str, Any]:
    from moto import mock_aws

    from bench.abuse.sim import Simulation

    with mock_aws():
        from chalicelib.store import models
        from ops import tables
        from ops.store import install_dynamodb_fixes

        install_dynamodb_fixes()
        models.bind()
        tables.create_tables("local")
        scenario = SCENARIOS[name]
        seconds = args.many_seconds if scenario.long else \
            args.stop_seconds if name == "stop" else \
            max(args.seconds, WINDOWS_SECONDS) if scenario.windows else args.seconds
        sim = Simulation(seconds, args.seed, waf_on, args.min_work,
                         {**args.overrides, "FrontDoor": door})
        run = prepare(name, sim, args)
        with sim:
            sim.run()
        return report.summary(name, waf_on, run)


def _plan(args: argparse.Namespace) -> list[tuple[str, bool, str]]:
    """(scenario, WAF on, door) in order, every scenario a target compares with first.
    WAF off is a REST door row only: the cloudfront door's web ACL has no switch."""
    names = list(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
    wafs = {"on": [True], "off": [False], "both": [True, False]}[args.waf]
    plan: list[tuple[str, bool, str]] = []

    def add(name: str, waf: bool, door: str) -> None:
        for need in SCENARIOS[name].needs:
            add(need, waf, door)
        if (name, waf, door) not in plan:
            plan.append((name, waf, door))
    for door in DOORS[args.door]:
        for waf in wafs:
            if waf or door == edge_door.REST:
                for name in names:
                    add(name, waf, door)
    if args.waf == "both":
        plan = [(n, w, d) for n, w, d in plan if w or n in WAF_OFF_ROWS]
    return plan


def environment() -> None:
    """The app's settings for a simulation: source limits on, a signing key, no real AWS."""
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim",
        "AWS_DEFAULT_REGION": "us-east-1", "WORKPROOF_SOURCE_LIMITS": "on",
        "WORKPROOF_SIGNING_KEYS": "sim:" + base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode(),
    })
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


def main() -> int:
    parser = argparse.ArgumentParser(description="each attack beside honest traffic, simulated "
                                     "through the real code: $ per hour, honest outcomes, targets")
    parser.add_argument("--scenario", default="all",
                        help="all, or scenarios separated by commas: " + ", ".join(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--stop-seconds", type=float, default=300.0)
    parser.add_argument("--stop-sources-per-second", type=int, default=20)
    parser.add_argument("--many-seconds", type=float, default=180.0)
    parser.add_argument("--many-sources", type=int, default=10_000)
    parser.add_argument("--min-work", type=int, default=0, help="0: the app's default")
    parser.add_argument("--waf", choices=("on", "off", "both"), default="on",
                        help="on (default), off, or both (without WAF: the rows before issue 21 only)")
    parser.add_argument("--door", choices=tuple(DOORS), default="both",
                        help="the template's FrontDoor: cloudfront, rest, or both (default; same seeds)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a template parameter other than its default (e.g. PowRateLimit=1000)")
    args = parser.parse_args()
    unknown = [n for n in args.scenario.split(",") if n not in SCENARIOS and args.scenario != "all"]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}")
    args.overrides = dict(item.split("=", 1) for item in args.param)
    if "FrontDoor" in args.overrides:
        parser.error("pick the front door with --door")
    environment()
    from chalicelib import config

    args.min_work = args.min_work or config.DEFAULT_MIN_WORK
    results = []
    for name, waf, door in _plan(args):
        started = time.monotonic()
        results.append(run_scenario(name, args, waf, door))
        print(f"  {name} ({door}, WAF {'on' if waf else 'off'}): {time.monotonic() - started:.0f} s",
              file=sys.stderr, flush=True)
    rows = targets.check_all(results, args.min_work)
    tables.print_tables(results, rows, args)
    failed = [f"{name} ({door}, WAF {waf})" for door, name, waf, _t, _m, passed in rows
              if passed is False]
    print(f"RESULT: {len(rows) - len(failed)} of {len(rows)} targets met or reported"
          + (f"; missed: {', '.join(failed)}" if failed else ""))
    return 0
