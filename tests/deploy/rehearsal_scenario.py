"""What the deploy rehearsal does with the created stack (tests/deploy/test_rehearsal.py).

The API function is driven through both its doors, one container serving
both: the default door's function URL events (CloudFront's, with the origin
secret) carry the captcha, the user's share and the withdrawal, the
captcha's verification going, as CloudFront routes it, to the verify
function's URL (the same code in its own process, role and environment); API
Gateway's REST events (the `rest` door, still supported) carry the reads
that show both doors answer from the same tables: the token the URL door
verified is spent for the REST door too, the consumer's ranks and the
balance after the withdrawal read through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import DEFAULT_MIN_WORK
from tests.deploy import rehearsal_stack as rs
from tests.deploy.rehearsal_events import stream_events
from tests.deploy.rehearsal_lambda import Api, Function
from tests.solver import solve

WITHDRAWN = 1000
SPENT = {"success": False, "error-codes": ["timeout-or-duplicate"]}


@dataclass
class Run:
    """What one rehearsal saw."""
    stack: rs.Stack | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    door: dict[str, Any] = field(default_factory=dict)  # the front door's checks (rehearsal_door.py)
    consumed: dict[str, int] = field(default_factory=dict)
    calls: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # function -> (action, resource)
    operations: dict[str, list[str]] = field(default_factory=dict)  # function -> service:Operation sent


def mine(api: Api, **account: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job at the deployed base work, solved and submitted: (job, submit answer)."""
    job = api.expect("POST", "/pow/job", **account)
    assert job["difficulty"] * job["count"] == DEFAULT_MIN_WORK, \
        f"the deployed function hands out {job['difficulty'] * job['count']} hashes of work a job, " \
        f"not the documented {DEFAULT_MIN_WORK} (chalicelib/config.py)"
    done = api.expect("POST", "/pow/submit", job=job["job"],
                      nonce=solve(job["job"], job["difficulty"], job["count"]))
    return job, done


def _consume(consumer: Function, stack: rs.Stack, operator: dict[str, str], run: Run) -> None:
    """Lambda's poller: every record of the consumer's mapped streams, to the consumer."""
    mappings = [m for m in stack.mappings
                if m["FunctionArn"].endswith(f":function:{stack.physical['Streams']}")]
    assert len(mappings) == 3, mappings
    for event in stream_events(mappings, rs.client("dynamodbstreams", stack.endpoint, **operator)):
        for name, count in consumer.invoke(event).items():
            run.consumed[name] = run.consumed.get(name, 0) + count


def scenario(url: Api, verify: Api, rest: Api, consumer: Function, site: dict[str, str],
             operator: dict[str, str], run: Run) -> None:
    """A captcha solved, verified and its replay refused, a user's share credited,
    the consumer run, its ranks read, a withdrawal: `url` the function URL door,
    `verify` the verify function's URL (the door's verification paths), `rest`
    the REST door of the API function."""
    assert run.stack is not None
    key, secret = site["site_key"], site["secret"]
    job, done = mine(url, site=key, token="", hashes=1)
    verified = verify.expect("POST", "/siteverify", secret=secret, response=job["token"])
    assert verified["hashes"] == DEFAULT_MIN_WORK and verified["hostname"] == "shop.example", verified
    replay = verify("POST", "/siteverify", secret=secret, response=job["token"])
    assert replay == SPENT, replay
    other_door = rest("POST", "/siteverify", secret=secret, response=job["token"])
    assert other_door == SPENT, f"a token verified through the function URL, through REST: {other_door}"
    mine(url, site=key, user="alice")
    assert url.expect("GET", "/user/balance", secret=secret, name="alice")["balance"] == DEFAULT_MIN_WORK

    _consume(consumer, run.stack, operator, run)
    top = rest.expect("GET", "/user/top", secret=secret, order="total")  # the consumer's rank entries
    assert [(u["name"], u["total"]) for u in top["users"]] == [("alice", DEFAULT_MIN_WORK)], (top, run.consumed)
    url.expect("POST", "/user/withdraw", secret=secret, name="alice", amount=WITHDRAWN)
    balance = rest.expect("GET", "/user/balance", secret=secret, name="alice")
    assert (balance["balance"], balance["withdrawn"]) == (DEFAULT_MIN_WORK - WITHDRAWN, WITHDRAWN), balance
    run.answers = {"siteverify": verified, "replay": replay, "replay-rest": other_door, "top": top,
                   "balance": balance}
