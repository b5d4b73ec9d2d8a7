"""`make bench-contention`: does a busy account stall? One account vs many, same run.

Starts the real `make run` stack (its own ports and state directory), then
for N = 16, 32, 64 fires N requests at once — half pre-solved user shares,
half withdrawals — first all on ONE account, then the same mix spread over
N accounts, interleaved over rounds, after one untimed warm-up burst.
Prints wall time (median of the rounds), the slowest request, the ratio
one/many, and checks that every request got its contract answer (success;
a withdrawal may also be `insufficent_funds`, never `internal_error`).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 3
SIZES = (16, 32, 64)
WORK = "256"  # minimum work per share: the solver here is the test's


def _prepare(http: Any, site_key: str, users: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Requests for one run: a pre-solved share and a withdrawal per pair of slots."""
    from tests.solver import solve

    requests = []
    for i, user in enumerate(users):
        if i % 2 == 0:
            job = http.post("/pow/job", site=site_key, user=user)
            requests.append(("/pow/submit", {
                "job": job["job"], "nonce": solve(job["job"], job["difficulty"], job["count"])}))
        else:
            requests.append(("/user/withdraw", {"name": user, "amount": "1",
                                                "secret": http.secret}))
    return requests


def _fire(base_url: str, requests: list[tuple[str, dict[str, str]]]) -> tuple[float, float, list]:
    import requests as http_client

    barrier = threading.Barrier(len(requests))
    sessions = [http_client.Session() for _ in requests]

    def one(i: int) -> tuple[float, dict[str, Any]]:
        path, params = requests[i]
        barrier.wait()
        start = time.perf_counter()
        answer = sessions[i].post(base_url + path, data=params, timeout=60).json()
        return time.perf_counter() - start, answer

    start = time.perf_counter()
    with ThreadPoolExecutor(len(requests)) as pool:
        results = list(pool.map(one, range(len(requests))))
    wall = time.perf_counter() - start
    return wall, max(t for t, _ in results), [a for _, a in results]


def _checked(answers: list[dict[str, Any]]) -> None:
    for answer in answers:
        ok = answer.get("success") or answer.get("error") == "insufficent_funds"
        if not ok:
            raise SystemExit(f"a request did not get its contract result: {answer}")


def main() -> int:
    from tests.fixtures import Http, start_stack, stop_stack

    state = Path(tempfile.mkdtemp(prefix="workproof-contention-"))
    process, server = start_stack(state, {"WORKPROOF_MIN_WORK": WORK})
    try:
        site = server.admin("create-site", "contention")
        http = Http(server.base_url, site["secret"])
        rows = state / "users.csv"
        names = ["busy"] + [f"account{i}" for i in range(max(SIZES))]
        rows.write_text("name,total,withdrawn\n" + "".join(f"{n},1000000,0\n" for n in names))
        server.admin("import-users", site["site_key"], str(rows))
        # One untimed burst first: the server's first concurrent requests each
        # create the SDK clients (pynamodb makes one per thread that finds
        # none yet: ~2 s in all), which would be charged to whichever case
        # ran first. A Lambda container creates its client once.
        _checked(_fire(server.base_url, _prepare(
            http, site["site_key"], [f"account{i}" for i in range(max(SIZES))]))[2])
        print("| N | one account: wall s | many accounts: wall s | one / many | "
              "slowest request s (one, many) |")
        print("|---:|---:|---:|---:|---:|")
        for size in SIZES:
            one_walls, many_walls, slowest = [], [], [0.0, 0.0]
            for _ in range(ROUNDS):
                for which, users in (("one", ["busy"] * size),
                                     ("many", [f"account{i}" for i in range(size)])):
                    wall, worst, answers = _fire(server.base_url,
                                                 _prepare(http, site["site_key"], users))
                    _checked(answers)
                    (one_walls if which == "one" else many_walls).append(wall)
                    slot = 0 if which == "one" else 1
                    slowest[slot] = max(slowest[slot], worst)
            one, many = statistics.median(one_walls), statistics.median(many_walls)
            print(f"| {size} | {one:.3f} | {many:.3f} | {one / many:.2f}× | "
                  f"{slowest[0]:.3f}, {slowest[1]:.3f} |", flush=True)
    finally:
        stop_stack(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
