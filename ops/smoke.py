"""`make smoke URL=… SECRET=… SITE=…`: does a deployed (or local) stack work, end to end?

Over HTTP only (no AWS credentials), from a bare python3 (standard library
only): solves a captcha at the stack's minimum work with ops/pow_solver.py,
verifies it through /siteverify and sees the replay refused; creates a
shortlink, opens its page, solves its work and gets the target back; reads
/stats/payout and /stats/site; then asks /pow/job past its source's bucket
(at most MAX_BUSY_PROBES requests, one at a time) and checks the refusal
that a flood gets: `{"success":false,"error":"busy"}` with `Retry-After`.
The exact bodies are docs/contract.md's. One line per check on stdout; one
line per failure on stderr, and exit status 1. The secret is never printed.

    python3 -m ops.smoke --url https://…/api --site SITE_KEY   (secret: WORKPROOF_SMOKE_SECRET)
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ops.pow_solver import solve
from ops.smoke_http import Client, Reply, Unreachable

SECRET_VARIABLE = "WORKPROOF_SMOKE_SECRET"
# Enough to empty one source's /pow/job bucket (capacity 20, refill 1/s, and the
# deployed WAF's 150 a window) one request at a time; few enough to be no load.
MAX_BUSY_PROBES = 60
BUSY = {"success": False, "error": "busy"}
REPLAYED = {"success": False, "error-codes": ["timeout-or-duplicate"]}
# A refusal's status: 200, or 429 under WORKPROOF_ERROR_STATUS=rest (contract §4).
BUSY_STATUSES = (200, 429)
# Our own jobs, refused busy (a second smoke run right after the first): wait
# out Retry-After when it is this short, this many times.
MAX_BUSY_WAIT_SECONDS, BUSY_RETRIES = 30, 3
STATS_SITE_KEYS = {"success", "hashesPerSecond", "hashesTotal", "xmrPending", "xmrPaid", "name",
                   "history"}
HISTORY_HOURS = 168
_WHOLE_SECONDS = re.compile(r"[1-9][0-9]{0,5}")
_LINK_URL = re.compile(r"/l/([A-Za-z0-9]{1,64})$")


class Failed(Exception):
    """A check failed: the message is its one line."""


def expect(holds: bool, message: str) -> None:
    if not holds:
        raise Failed(message)


def refused(what: str, body: dict[str, Any]) -> str:
    """A refusal's line; a refused secret says which argument to look at."""
    wrong_secret = body.get("error") == "invalid_secret" \
        or "invalid-input-secret" in (body.get("error-codes") or [])
    return f"{what}: refused {body}" + (" (is SECRET the secret of SITE?)" if wrong_secret else "")


def answer_of(reply: Reply, what: str) -> dict[str, Any]:
    """A contract answer: HTTP 200 and a JSON object."""
    body = reply.json_object()
    expect(reply.status == 200 and body is not None, f"{what}: not a contract answer ({reply.shown()})")
    assert body is not None
    return body


@dataclass
class Smoke:
    client: Client
    site: str
    secret: str
    failures: list[str] = field(default_factory=list)
    job_work: int = 0  # the captcha job's hashes, once known

    def ok(self, check: str, detail: str) -> None:
        print(f"ok    {check}: {detail}", flush=True)

    def run(self, group: Callable[[Smoke], None]) -> None:
        """One group of dependent checks: the first failure ends it, with one line."""
        try:
            group(self)
        except (Failed, Unreachable) as error:
            line = f"FAIL  {error}"
            self.failures.append(line)
            print(line, file=sys.stderr, flush=True)

    def pow(self, path: str, what: str, **params: str) -> dict[str, Any]:
        """A /pow/* call that succeeded, waiting out a short `busy` as the browser client does."""
        for _ in range(BUSY_RETRIES):
            reply = self.client.post(path, params)
            wait = reply.headers.get("retry-after", "")
            if reply.json_object() != BUSY or not _WHOLE_SECONDS.fullmatch(wait) \
                    or int(wait) > MAX_BUSY_WAIT_SECONDS:
                break
            time.sleep(int(wait))
        body = answer_of(reply, what)
        expect(body.get("success") is True, refused(what, body))
        return body

    def solved(self, job: dict[str, Any], what: str) -> tuple[dict[str, Any], int, float]:
        """Solve a job and submit it: (the submit's answer, the job's hashes, seconds solving)."""
        difficulty, count = job.get("difficulty"), job.get("count")
        expect(isinstance(difficulty, int) and isinstance(count, int) and difficulty >= 1
               and count >= 1 and isinstance(job.get("job"), str), f"{what}: malformed job {job}")
        assert isinstance(difficulty, int) and isinstance(count, int)
        started = time.monotonic()
        nonce = solve(job["job"], difficulty, count)
        seconds = time.monotonic() - started
        answer = self.pow("/pow/submit", f"{what} submit", job=job["job"], nonce=nonce)
        work = difficulty * count
        expect(answer.get("hashes") == work,
               f"{what} submit: credited {answer.get('hashes')} hashes, the job held {work}")
        return answer, work, seconds


def check_captcha(smoke: Smoke) -> None:
    job = smoke.pow("/pow/job", "captcha job", site=smoke.site, token="")
    token = job.get("token")
    expect(isinstance(token, str) and re.fullmatch(r"[A-Za-z0-9]{32}", token) is not None,
           f"captcha job: no new token in {sorted(job)}")
    answer, work, seconds = smoke.solved(job, "captcha")
    smoke.job_work = work
    smoke.ok("captcha job", f"{work:,} hashes = difficulty {job['difficulty']:,} × {job['count']} "
             "puzzles (the stack's minimum work)")
    smoke.ok("captcha solved", f"/pow/submit credited {answer['hashes']:,} hashes "
             f"(solved in {seconds:.1f} s)")
    verify = {"secret": smoke.secret, "response": str(token)}
    first = answer_of(smoke.client.post("/siteverify", verify), "siteverify")
    expect(first.get("success") is True and first.get("error-codes") == []
           and isinstance(first.get("hashes"), int) and first["hashes"] >= work,
           refused("siteverify of the solved captcha", first))
    smoke.ok("siteverify", f"success, {first['hashes']:,} hashes, challenge_ts {first.get('challenge_ts')}")
    replay = answer_of(smoke.client.post("/siteverify", verify), "siteverify replay")
    expect(replay == REPLAYED, f"siteverify replay: expected {REPLAYED}, got {replay}")
    smoke.ok("siteverify replay", "refused: timeout-or-duplicate")


def check_link(smoke: Smoke) -> None:
    target = f"https://example.com/workproof-smoke/{secrets.token_hex(8)}"
    created = answer_of(smoke.client.post("/link/create", {"secret": smoke.secret, "url": target,
                                                           "hashes": "1"}), "link/create")
    url = created.get("url")
    code = _LINK_URL.search(url) if isinstance(url, str) else None
    expect(created.get("success") is True and code is not None, refused("link/create", created))
    assert isinstance(url, str) and code is not None
    smoke.ok("link/create", url)
    page = smoke.client.fetch(url)
    html = page.text()
    expect(page.status == 200 and page.headers.get("content-type", "").startswith("text/html"),
           f"link page: not a page ({page.shown()})")
    expect(f'data-code="{code[1]}"' in html and f'data-site="{smoke.site}"' in html,
           f"link page: no link {code[1]} of site {smoke.site} on it (is SECRET this SITE's?)")
    expect("example.com" in html and target.rsplit("/", 1)[1] not in html,
           "link page: must show the target's host and nothing more of it")
    smoke.ok("link page", f"GET {url} shows the host example.com, not the target")
    job = smoke.pow("/pow/job", "link job", site=smoke.site, link=code[1])
    answer, work, _ = smoke.solved(job, "link")
    expect(answer.get("redirect") == target,
           f"link submit: expected redirect {target}, got {answer.get('redirect')!r}")
    smoke.ok("link followed", f"{work:,} hashes solved, redirect to {target}")


def check_stats(smoke: Smoke) -> None:
    payout = answer_of(smoke.client.get("/stats/payout", secret=smoke.secret), "stats/payout")
    floor = payout.get("globalDifficulty")
    expect(payout.get("success") is True and isinstance(floor, int), refused("stats/payout", payout))
    assert isinstance(floor, int)
    expect(smoke.job_work == 0 or smoke.job_work >= floor,
           f"stats/payout: minimum work {floor:,}, yet the captcha's job held {smoke.job_work:,}")
    smoke.ok("stats/payout", f"minimum work (globalDifficulty) {floor:,} hashes")
    site = answer_of(smoke.client.get("/stats/site", secret=smoke.secret), "stats/site")
    expect(site.get("success") is True, refused("stats/site", site))
    expect(set(site) == STATS_SITE_KEYS, f"stats/site: fields {sorted(site)}, expected "
           f"{sorted(STATS_SITE_KEYS)}")
    history = site["history"]
    expect(isinstance(history, list) and len(history) == HISTORY_HOURS
           and all(isinstance(hour, dict) and hour.get("time", 1) % 3600 == 0 for hour in history),
           f"stats/site: history is not {HISTORY_HOURS} whole hours")
    smoke.ok("stats/site", f"site {site['name']!r}: {site['hashesTotal']:,} hashes in the last "
             f"{HISTORY_HOURS} hours, {site['hashesPerSecond']} hashes/s now")


def first_refusal(smoke: Smoke) -> tuple[int, Reply]:
    """Anonymous job requests, one at a time, until one is not a success: (its number, it)."""
    for asked in range(1, MAX_BUSY_PROBES + 1):
        reply = smoke.client.post("/pow/job", {"site": smoke.site, "anonymous": "1"},
                                  headers={"Origin": "https://smoke.example"})
        body = reply.json_object()
        if not (reply.status == 200 and body is not None and body.get("success") is True):
            return asked, reply
    raise Failed(f"busy: {MAX_BUSY_PROBES} job requests in a row, none refused "
                 "(per-source limits off? WORKPROOF_SOURCE_LIMITS)")


def check_busy(smoke: Smoke) -> None:
    """The refusal a flood gets: the app's per-source bucket (or, deployed, WAF's rule,
    whose body is the same) answers busy with a whole-seconds Retry-After."""
    asked, reply = first_refusal(smoke)
    body = reply.json_object()
    expect(reply.status in BUSY_STATUSES and body == BUSY,
           f"busy: request {asked} refused with {reply.shown()}, expected {BUSY}")
    wait = reply.headers.get("retry-after", "")
    expect(_WHOLE_SECONDS.fullmatch(wait) is not None,
           f"busy: Retry-After {wait!r}, expected whole seconds >= 1")
    expect(reply.headers.get("access-control-allow-origin") == "*"
           and "retry-after" in reply.headers.get("access-control-expose-headers", "").lower(),
           "busy: a browser cannot read it (no open CORS headers exposing Retry-After)")
    smoke.ok("busy", f"/pow/job request {asked} refused {body}, Retry-After: {wait}, "
             f"HTTP {reply.status}")


CHECKS = (check_captcha, check_link, check_stats, check_busy)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", required=True, help="the API's base URL (with the stage path)")
    parser.add_argument("--site", required=True, help="a site key of that stack")
    parser.add_argument("--secret", default=os.environ.get(SECRET_VARIABLE, ""),
                        help=f"that site's secret (default: ${SECRET_VARIABLE})")
    args = parser.parse_args(argv)
    for name in ("url", "site", "secret"):
        if not getattr(args, name):
            parser.error(f"{name.upper()} is empty: make smoke URL=… SECRET=… SITE=…")
    if not re.match(r"https?://[^/?#]+", args.url):
        parser.error(f"URL {args.url!r} is not an http(s) URL")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    smoke = Smoke(Client(args.url), args.site, args.secret)
    for check in CHECKS:
        smoke.run(check)
    return 1 if smoke.failures else 0


if __name__ == "__main__":
    sys.exit(main())
