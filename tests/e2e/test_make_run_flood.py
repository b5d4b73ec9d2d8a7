"""One source flooding `make run` cannot hurt another: the flood from 127.0.0.2
(no-work jobs, garbage submits) is refused `busy` with Retry-After, the store
takes no write for what was refused, valid work from the same address is
still credited (junk never drains what work needs), and an honest visitor
on 127.0.0.3 solves captchas and mines without one refusal."""
from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from tests.fixtures import LiveServer, start_stack, stop_stack
from tests.solver import solve

pytestmark = pytest.mark.e2e

FLOODER, HONEST = "127.0.0.2", "127.0.0.3"
MIN_WORK = 4096


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    process, server = start_stack(tmp_path_factory.mktemp("flood"),
                                  {"WORKPROOF_SOURCE_LIMITS": "on",
                                   "WORKPROOF_MIN_WORK": str(MIN_WORK)})
    try:
        yield server
    finally:
        stop_stack(process)


def call(server: LiveServer, source: str, path: str, method: str = "POST",
         **params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """One request on a new connection from the loopback address `source`."""
    url = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30,
                                            source_address=(source, 0))
    try:
        body = urlencode(params)
        if method == "GET":
            connection.request("GET", f"{path}?{body}")
        else:
            connection.request("POST", path, body=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200
        return answer, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def guard_exists(server: LiveServer, job_id: str) -> bool:
    dynamodb = boto3.client("dynamodb", endpoint_url=server.store_url, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    table = next(name for name in dynamodb.list_tables()["TableNames"] if name.endswith("-guards"))
    return "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": job_id}})


def job_id(job: str) -> str:
    import base64

    payload = job.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["id"])


def test_a_flooding_source_is_refused_while_an_honest_one_is_served(stack: LiveServer) -> None:
    site = stack.site_key
    # 1. No-work jobs: the flooder's bucket runs dry, then every answer is busy.
    jobs, refused = [], []
    for _ in range(60):
        answer, headers = call(stack, FLOODER, "/pow/job", site=site, anonymous=1)
        if answer["success"]:
            jobs.append(answer)
        else:
            assert answer == {"success": False, "error": "busy"}
            refused.append(int(headers["retry-after"]))
    assert len(refused) >= 40 and min(refused) >= 1
    # 2. Garbage submits run the junk bucket dry: five are told what was wrong.
    garbage = [call(stack, FLOODER, "/pow/submit", job=jobs[0]["job"], nonce="7")[0]["error"]
               for _ in range(30)]
    assert garbage[5:] == ["busy"] * 25
    # 3. Solved shares from that same address are credited all the same: the
    # junk drew on its own bucket, not on the one valid work needs.
    shares = [(job, solve(job["job"], job["difficulty"], job["count"])) for job in jobs[:5]]
    for job, nonce in shares[1:]:
        answer, _ = call(stack, FLOODER, "/pow/submit", job=job["job"], nonce=nonce)
        assert answer["success"] is True and guard_exists(stack, job_id(job["job"]))
    # 4. Meanwhile the honest source: captchas verified by the site's backend, and mining.
    for _ in range(3):
        job, _ = call(stack, HONEST, "/pow/job", site=site, token="", hashes=MIN_WORK)
        assert job["success"], job
        done, _ = call(stack, HONEST, "/pow/submit", job=job["job"],
                       nonce=solve(job["job"], job["difficulty"], job["count"]))
        assert done["success"] and done["hashes"] >= MIN_WORK, done
        verified, _ = call(stack, HONEST, "/token/verify", token=job["token"], hashes=MIN_WORK,
                           secret=stack.secret)
        assert verified["success"] is True, verified
    job, _ = call(stack, HONEST, "/pow/job", site=site, user="honest")
    for _ in range(3):
        assert job["success"], job
        job, _ = call(stack, HONEST, "/pow/submit", job=job["job"],
                      nonce=solve(job["job"], job["difficulty"], job["count"]))
    assert job["success"] and job["total"] > 0
    # 5. A job the flooder asked for, submitted from another source, is still
    # credited (a phone changing networks): the garbage left it usable.
    # The submit counts as an ask of the submitter's own (docs/contract.md §4):
    # with its job tokens spent on the captchas above, it is told to wait first.
    job, nonce = shares[0]
    answer, headers = call(stack, HONEST, "/pow/submit", job=job["job"], nonce=nonce)
    if answer == {"success": False, "error": "busy"}:
        time.sleep(int(headers["retry-after"]))
        answer, _ = call(stack, HONEST, "/pow/submit", job=job["job"], nonce=nonce)
    assert answer["success"] is True and guard_exists(stack, job_id(job["job"]))
