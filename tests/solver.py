"""An independent proof-of-work solver, written from docs/contract.md §2 only."""
from __future__ import annotations

import hashlib


def solves(job: str, index: int, nonce: int, difficulty: int) -> bool:
    digest = hashlib.sha256(f"{job}:{index}:{nonce}".encode("ascii")).digest()
    return int.from_bytes(digest, "big") < 2**256 // difficulty


def solve(job: str, difficulty: int, count: int) -> str:
    """The `nonce` parameter for a job: one nonce per puzzle, comma-joined."""
    nonces = []
    for index in range(count):
        prefix = f"{job}:{index}:".encode("ascii")
        nonce = 0
        while True:
            digest = hashlib.sha256(prefix + str(nonce).encode("ascii")).digest()
            if int.from_bytes(digest, "big") < 2**256 // difficulty:
                break
            nonce += 1
        nonces.append(str(nonce))
    return ",".join(nonces)


def find_bad_nonce(job: str, index: int, difficulty: int) -> int:
    """A nonce that does NOT solve puzzle `index` (for refused-share tests)."""
    nonce = 0
    while solves(job, index, nonce, difficulty):
        nonce += 1
    return nonce
