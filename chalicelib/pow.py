"""The proof-of-work protocol: signed jobs, share checking, work sizing.

Pure logic, no I/O but the signing keys' lazy load. A job is
`v1.<payload>.<mac>`: payload = base64url of compact, key-sorted JSON;
mac = base64url HMAC-SHA-256 of `v1.<payload>` under a signing key.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from dataclasses import asdict, dataclass

from chalicelib import b64url, config, secret_refs
from chalicelib.errors import BadRequest, InternalError, InvalidJob, InvalidShare
from chalicelib.secret_refs import SigningKeys

VERSION = "v1"
NONCE_RE = re.compile(r"^(0|[1-9][0-9]{0,15})$")
MAX_NONCE = 2**53
SUBMIT_INTERVAL = 10.0  # seconds a user miner should take per submit
USER_PUZZLES = 8
TARGET_PUZZLES = 32  # tokens and links: low variance of solve time
MIN_PUZZLES, MAX_PUZZLES = 16, 64
MAX_JOB_WORK = 2**32  # one job must be solvable well within its lifetime
MAX_DIFFICULTY = 2**40
MAX_JOB_CHARS = 4096


@dataclass(frozen=True)
class Job:
    """Everything signed into a job; field names are the wire JSON keys."""

    kid: str  # signing key id
    site: str  # site key
    epoch: int  # site epoch when issued
    kind: str  # user | token | link | anonymous
    account: str  # user name, token name, link code, or ""
    new: bool  # token: created by this job's credit
    d: int  # difficulty per puzzle
    k: int  # puzzle count
    exp: int  # expiry, unix seconds
    id: str  # 128-bit random job id, base64url
    total: int  # chain total before this job
    rate: int  # chain's measured hashes/s (0 = unknown)
    target: int  # token/link: hashes the chain must reach (0 = none)
    iat: int  # issued at, unix seconds
    src: str = ""  # the asking source's share tag (chalicelib/sizing.py); "" before it existed

    @property
    def work(self) -> int:
        return self.d * self.k




def parse_keys(spec: str) -> SigningKeys:
    """`kid:base64key[,kid:base64key...]` (first signs), or one raw secret string."""
    try:
        return secret_refs.parse_signing_keys(spec)
    except ValueError as error:
        raise InternalError(str(error)) from None


# A warm Lambda re-reads its keys this often, so a key roll needs no restart.
KEYS_CACHE_SECONDS = 300.0
# The settings the keys came from, when they were loaded, and the keys.
_keys_cache: tuple[config.Settings, float, SigningKeys] | None = None


def _load_keys(settings: config.Settings) -> SigningKeys:
    """The settings' keys (first signs), else those in their key file (`chalice local`'s
    dev stage: the file `make store` writes), else those of their Secrets Manager secret."""
    if settings.signing_keys:
        return settings.signing_keys
    if settings.signing_key_file:
        from chalicelib.keyfile import read_key_file

        return parse_keys(read_key_file(settings.signing_key_file))
    if settings.signing_secret_id:
        return parse_keys(secret_refs.read_secret_string(settings.signing_secret_id))
    raise InternalError("no proof-of-work signing key configured")


def signing_keys(now: float | None = None) -> SigningKeys:
    """The deployment's keys, loaded on first use (off the cold-start path) and
    again when the settings change."""
    global _keys_cache
    now = time.monotonic() if now is None else now
    settings = config.settings()
    if _keys_cache is None or _keys_cache[0] is not settings \
            or now - _keys_cache[1] > KEYS_CACHE_SECONDS:
        _keys_cache = (settings, now, _load_keys(settings))
    return _keys_cache[2]


def new_job_id() -> str:
    return b64url.encode(secrets.token_bytes(16))


def sign(job: Job, keys: SigningKeys) -> str:
    kid, key = keys[0]
    fields = asdict(job)
    fields["kid"] = kid
    fields["v"] = 1
    # UTF-8, not \u escapes: a 256-character name of 4-byte characters is
    # 1,024 bytes here, and its job stays well under MAX_JOB_CHARS.
    payload = b64url.encode(json.dumps(fields, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8"))
    signed = f"{VERSION}.{payload}"
    mac = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{b64url.encode(mac)}"


def verify(token: str, keys: SigningKeys, now: int) -> Job:
    """The job's payload if its MAC holds and it has not expired, else InvalidJob."""
    if len(token) > MAX_JOB_CHARS or not token.isascii():
        raise InvalidJob("job too long or not ASCII")
    signed, dot, mac_text = token.rpartition(".")
    if not dot or not signed.startswith(VERSION + "."):
        raise InvalidJob("not a v1 job")
    try:
        mac = b64url.decode(mac_text)
    except (binascii.Error, ValueError):
        raise InvalidJob("bad mac encoding") from None
    matched = None
    for kid, key in keys:
        expected = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
        if hmac.compare_digest(expected, mac):
            matched = kid
    if matched is None:
        raise InvalidJob("bad signature")
    try:
        fields = json.loads(b64url.decode(signed[len(VERSION) + 1:]))
        if fields.pop("v") != 1 or fields.get("kid") != matched:
            raise ValueError("version or key id")
        job = Job(**fields)
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise InvalidJob("malformed payload") from None
    if job.exp <= now:
        raise InvalidJob("expired job")
    return job


def parse_nonces(text: str) -> list[int]:
    """The comma-joined decimal nonces; BadRequest on any syntax error."""
    if len(text) > MAX_PUZZLES * 17:
        raise BadRequest("too many nonces")
    parts = text.split(",")
    if len(parts) > MAX_PUZZLES:
        raise BadRequest("too many nonces")
    nonces = []
    for part in parts:
        if not NONCE_RE.match(part):
            raise BadRequest("nonce syntax")
        value = int(part)
        if value >= MAX_NONCE:
            raise BadRequest("nonce too large")
        nonces.append(value)
    return nonces


def puzzle_holds(job_text: str, index: int, nonce: int, difficulty: int) -> bool:
    digest = hashlib.sha256(f"{job_text}:{index}:{nonce}".encode("ascii")).digest()
    return int.from_bytes(digest, "big") < 2**256 // difficulty


def check_share(job_text: str, job: Job, nonces: list[int]) -> None:
    if len(nonces) != job.k:
        raise BadRequest("wrong number of nonces")
    for index, nonce in enumerate(nonces):
        if not puzzle_holds(job_text, index, nonce, job.d):
            raise InvalidShare(f"puzzle {index} above target")


def next_rate(job: Job, now: int) -> int:
    """The chain's hash rate after this submit (exponentially smoothed)."""
    measured = job.work / max(1, now - job.iat)
    return int(measured if job.rate <= 0 else (job.rate + measured) / 2)


def size_rate_work(rate: int, requested_d: int | None, min_work: int) -> tuple[int, int]:
    """(D, k) for a user or anonymous job: ~SUBMIT_INTERVAL at `rate`."""
    k = USER_PUZZLES
    min_d = math.ceil(min_work / k)
    if rate > 0:
        d = int(rate * SUBMIT_INTERVAL / k)
    elif requested_d:
        d = requested_d
    else:
        d = min_d
    return max(min_d, min(d, MAX_JOB_WORK // k, MAX_DIFFICULTY)), k


def size_target_work(remaining: int, min_work: int) -> tuple[int, int]:
    """(D, k) covering `remaining` hashes in one submit, in TARGET_PUZZLES puzzles."""
    work = max(min_work, min(remaining, MAX_JOB_WORK))
    k = TARGET_PUZZLES
    return max(1, math.ceil(work / k)), k
