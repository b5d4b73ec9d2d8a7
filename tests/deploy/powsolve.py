"""Solve proof-of-work jobs the way the browser client does (for tests)."""
from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode


def solve(job: str, difficulty: int, count: int) -> str:
    """`count` nonces joined by commas; puzzle i holds under the contract's rule."""
    target = 2**256 // difficulty
    nonces = []
    for i in range(count):
        prefix = f"{job}:{i}:".encode("ascii")
        nonce = 0
        while int.from_bytes(hashlib.sha256(prefix + str(nonce).encode()).digest(), "big") >= target:
            nonce += 1
        nonces.append(str(nonce))
    return ",".join(nonces)


def post(client: Any, path: str, **params: Any) -> dict[str, Any]:
    response = client.http.post(path, body=urlencode(params),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(response.body)


def mine(client: Any, site: Any, submits: int = 1, **account: Any) -> str | None:
    """Get a job for `account` and submit solved work; returns the token name, if any.

    Stops after `submits` submits, or earlier when a token/link chain is done.
    """
    answer = post(client, "/pow/job", site=site.site_key, **account)
    assert answer["success"], answer
    token = answer.get("token")
    for _ in range(submits):
        nonce = solve(answer["job"], answer["difficulty"], answer["count"])
        answer = post(client, "/pow/submit", job=answer["job"], nonce=nonce)
        assert answer["success"], answer
        if "redirect" in answer:
            break
    return token
