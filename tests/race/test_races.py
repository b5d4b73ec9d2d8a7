"""Many threads against the real `make run` stack (moto behind its lock).

These are the tests that fail against an unlocked moto (see the README):
they check exactly-once and never-negative under real concurrency.
"""
from __future__ import annotations

import csv
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fixtures import Http, settled, start_stack, stop_stack
from tests.solver import solve

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def stack(tmp_path_factory, request):
    # Small minimum work so the test-side solver keeps up; everything else default.
    process, server = start_stack(tmp_path_factory.mktemp("race"), {"WORKPROOF_MIN_WORK": "256"})
    yield server
    stop_stack(process)


@pytest.fixture
def http(stack):
    return Http(stack.base_url, stack.secret)


def _import(stack, tmp_path, rows):
    path = tmp_path / "users.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    stack.admin("import-users", stack.site_key, str(path))


def _together(count, fn):
    """Run fn(i) in `count` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_64_concurrent_withdrawals_never_overdraw(stack, http, tmp_path):
    _import(stack, tmp_path, [["racer", 1005, 0]])
    answers = _together(64, lambda i: http.post("/user/withdraw", name="racer", amount=100))
    wins = [a for a in answers if a["success"]]
    assert len(wins) == 10  # floor(1005 / 100)
    assert all(a == {"success": False, "error": "insufficent_funds"}
               for a in answers if not a["success"])
    assert http.get("/user/balance", name="racer") == {
        "success": True, "name": "racer", "total": 1005, "withdrawn": 1000, "balance": 5}


def _mine_token(http, site_key, hashes):
    job = http.post("/pow/job", site=site_key, token="", hashes=hashes)
    done = http.post("/pow/submit", job=job["job"],
                     nonce=solve(job["job"], job["difficulty"], job["count"]))
    assert done["success"] is True
    return job["token"], done["total"]


def test_32_concurrent_verifies_of_one_token_succeed_once(stack, http):
    token, total = _mine_token(http, stack.site_key, 300)
    answers = _together(32, lambda i: http.post("/token/verify", token=token, hashes=300))
    assert [a for a in answers if a["success"]] == [{"success": True, "hashes": total,
                                                      "created": answers[[a["success"] for a in answers].index(True)]["created"]}]
    assert sum(a == {"success": False, "error": "invalid_token"} for a in answers) == 31


def test_16_concurrent_submits_of_one_share_credit_once(stack, http):
    job = http.post("/pow/job", site=stack.site_key, user="dup")
    nonce = solve(job["job"], job["difficulty"], job["count"])
    answers = _together(16, lambda i: http.post("/pow/submit", job=job["job"], nonce=nonce))
    assert sum(a["success"] for a in answers) == 1
    assert sum(a == {"success": False, "error": "duplicate_share"} for a in answers) == 15
    work = job["difficulty"] * job["count"]
    assert http.get("/user/balance", name="dup")["total"] == work


def test_credits_racing_a_reset_all_lose_and_leak_nothing(stack):
    # A site of its own, so `affected` counts only this test's users.
    created = stack.admin("create-site", "reset-race")
    site_key = created["site_key"]
    http = Http(stack.base_url, created["secret"])
    users = [f"miner{i}" for i in range(6)]
    # (sent, answered, hashes) of every credited submit
    log: dict[str, list[tuple[float, float, int]]] = {u: [] for u in users}
    first_share = threading.Barrier(len(users) + 1)
    stop = threading.Event()

    def mine(user):
        job = http.post("/pow/job", site=site_key, user=user)
        first = True
        while not stop.is_set():
            nonce = solve(job["job"], job["difficulty"], job["count"])
            sent = time.monotonic()
            answer = http.post("/pow/submit", job=job["job"], nonce=nonce)
            if answer["success"]:
                log[user].append((sent, time.monotonic(), answer["hashes"]))
                job = answer
                if first:
                    first = False
                    first_share.wait()
            else:
                assert answer == {"success": False, "error": "invalid_job"}
                job = http.post("/pow/job", site=site_key, user=user)

    threads = [threading.Thread(target=mine, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    first_share.wait()  # every miner has a credit in the old epoch
    time.sleep(0.5)
    reset_sent = time.monotonic()
    reset = http.post("/user/reset-all")
    reset_returned = time.monotonic()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join()

    assert reset == {"success": True, "affected": len(users)}
    for user in users:
        # Sent after the reset answered: must have landed in the new epoch.
        after = sum(h for sent, _done, h in log[user] if sent > reset_returned)
        # Overlapping the reset: may have landed on either side of it.
        during = sum(h for sent, done, h in log[user]
                     if sent <= reset_returned and done >= reset_sent)
        balance = http.get("/user/balance", name=user)
        assert balance["withdrawn"] == 0 and balance["balance"] == balance["total"]
        # Every credit answered after the reset is there; nothing from before leaks in.
        assert after <= balance["total"] <= after + during, user
    listed = settled(lambda: http.get("/user/list", count=100),
                     lambda a: len(a["users"]) == len(users))["users"]
    assert all(u["balance"] == u["total"] - u["withdrawn"] for u in listed)
    # The new epoch's counter is exact too: a second reset-all counts them.
    assert http.post("/user/reset-all")["affected"] == len(listed) > 0
