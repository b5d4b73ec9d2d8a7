"""The proof-of-work solver for operator tools (`make smoke`): docs/contract.md §2's
rule, standard library only, so it runs from a bare python3 on any machine.

The test suite keeps its own solver (tests/solver.py), written from the contract
alone, so the tests never check the code with the code; this one is the
operator's, and tests/unit/test_smoke.py checks its answers with that one.
"""
from __future__ import annotations

import hashlib


def solve_puzzle(job: str, index: int, difficulty: int) -> int:
    """The first nonce for which sha256(f"{job}:{index}:{nonce}") < 2**256 // difficulty."""
    target = 2**256 // difficulty
    prefix = hashlib.sha256(f"{job}:{index}:".encode("ascii"))
    nonce = 0
    while True:
        attempt = prefix.copy()  # the job is ~300 bytes: hash its prefix once
        attempt.update(str(nonce).encode("ascii"))
        if int.from_bytes(attempt.digest(), "big") < target:
            return nonce
        nonce += 1


def solve(job: str, difficulty: int, count: int) -> str:
    """The `nonce` parameter of a submit: one nonce per puzzle, comma-joined."""
    return ",".join(str(solve_puzzle(job, index, difficulty)) for index in range(count))
