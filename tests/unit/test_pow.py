"""The proof-of-work protocol's pure logic: formula, signing, parsing, sizing."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json

import pytest

from chalicelib import pow
from chalicelib.errors import BadRequest, InternalError, InvalidJob, InvalidShare
from tests.solver import find_bad_nonce, solve, solves

KEYS = (("k1", b"0123456789abcdef0123456789abcdef"),)
OLD_KEYS = (("k0", b"fedcba9876543210fedcba9876543210"),)


def make_job(**overrides) -> pow.Job:
    fields = dict(kid="", site="S" * 32, epoch=0, kind="user", account="alice", new=False,
                  d=64, k=4, exp=2_000_000_000, id="abc", total=0, rate=0, target=0,
                  iat=1_000_000_000)
    fields.update(overrides)
    return pow.Job(**fields)


def test_formula_matches_an_independent_vector():
    # sha256("x:0:0") computed independently of the code under test.
    digest = hashlib.sha256(b"x:0:0").hexdigest()
    value = int(digest, 16)
    assert pow.puzzle_holds("x", 0, 0, 1) is True  # D = 1: everything holds
    assert pow.puzzle_holds("x", 0, 0, 2) is (value < 2**255)
    assert solves("x", 0, 0, 2) is (value < 2**255)


def test_solver_solutions_hold_and_others_do_not():
    job = "v1.test.job"
    nonces = [int(n) for n in solve(job, 256, 3).split(",")]
    pow.check_share(job, make_job(d=256, k=3), nonces)
    bad = list(nonces)
    bad[1] = find_bad_nonce(job, 1, 256)
    with pytest.raises(InvalidShare):
        pow.check_share(job, make_job(d=256, k=3), bad)


def test_wrong_number_of_nonces_is_bad_request():
    with pytest.raises(BadRequest):
        pow.check_share("j", make_job(k=4), [1, 2, 3])


@pytest.mark.parametrize("text", ["", "01", "-1", "1.0", "a", "1,,2", " 1", "9007199254740992",
                                  "12345678901234567", ",".join(["1"] * 65)])
def test_nonce_syntax_errors(text):
    with pytest.raises(BadRequest):
        pow.parse_nonces(text)


def test_nonce_syntax_accepts_the_range():
    assert pow.parse_nonces("0,9007199254740991,12") == [0, 2**53 - 1, 12]


def test_sign_and_verify_round_trip():
    job = make_job()
    text = pow.sign(job, KEYS)
    assert text.startswith("v1.") and text.isascii() and text.count(".") == 2
    parsed = pow.verify(text, KEYS, now=1_500_000_000)
    assert parsed == make_job(kid="k1")


def test_payload_is_fixed_key_json_with_every_field():
    payload = pow.sign(make_job(), KEYS).split(".")[1]
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert sorted(fields) == sorted(["v", "kid", "site", "epoch", "kind", "account", "new", "d",
                                     "k", "exp", "id", "total", "rate", "target", "iat", "src"])


def test_a_job_signed_before_jobs_named_their_asker_still_verifies():
    job = make_job()
    fields = dataclasses.asdict(job)
    fields.pop("src")
    payload = base64.urlsafe_b64encode(json.dumps(
        {**fields, "kid": KEYS[0][0], "v": 1}, sort_keys=True,
        separators=(",", ":")).encode()).decode().rstrip("=")
    signed = f"v1.{payload}"
    mac = hmac.new(KEYS[0][1], signed.encode(), hashlib.sha256).digest()
    token = f"{signed}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert pow.verify(token, KEYS, job.iat).src == ""


def _tamper(text: str, **changes) -> str:
    version, payload, mac = text.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    return f"{version}.{forged}.{mac}"


@pytest.mark.parametrize("mutate", [
    lambda t: _tamper(t, d=1),  # forged difficulty
    lambda t: _tamper(t, total=10**9),
    lambda t: t[:-2],  # truncated mac
    lambda t: t.rsplit(".", 1)[0],  # no mac
    lambda t: t + "x",
    lambda t: "v2" + t[2:],
    lambda t: t.replace(".", "", 1),
    lambda t: "",
    lambda t: "v1..",
    lambda t: "v1.%%%.%%%",
    lambda t: t + "é",
])
def test_tampered_jobs_are_invalid(mutate):
    text = pow.sign(make_job(), KEYS)
    with pytest.raises(InvalidJob):
        pow.verify(mutate(text), KEYS, now=1_500_000_000)


def test_spliced_job_is_invalid():
    one = pow.sign(make_job(account="alice"), KEYS).split(".")
    two = pow.sign(make_job(account="mallory"), KEYS).split(".")
    with pytest.raises(InvalidJob):
        pow.verify(f"{one[0]}.{two[1]}.{one[2]}", KEYS, now=1_500_000_000)


def test_expired_job_is_invalid():
    text = pow.sign(make_job(exp=1_000), KEYS)
    with pytest.raises(InvalidJob):
        pow.verify(text, KEYS, now=1_000)


def test_rotated_key_accepts_old_jobs_and_signs_with_the_new():
    old = pow.sign(make_job(), OLD_KEYS)
    rotated = KEYS + OLD_KEYS
    assert pow.verify(old, rotated, now=1).kid == "k0"
    assert pow.verify(pow.sign(make_job(), rotated), rotated, now=1).kid == "k1"
    with pytest.raises(InvalidJob):
        pow.verify(old, KEYS, now=1)  # key retired: its jobs die


def test_parse_keys_formats():
    keys = pow.parse_keys("a:" + base64.urlsafe_b64encode(b"x" * 32).decode() + ",rawsecretvalue-123456")
    assert keys[0] == ("a", b"x" * 32)
    assert keys[1][1] == b"rawsecretvalue-123456"
    with pytest.raises(InternalError):
        pow.parse_keys("short:" + base64.urlsafe_b64encode(b"x").decode())


def test_user_work_respects_the_minimum_and_targets_ten_seconds():
    d, k = pow.size_rate_work(0, None, 65536)
    assert d * k == 65536
    d, k = pow.size_rate_work(1_000_000, None, 65536)  # 1 MH/s -> ~10 MH per submit
    assert d * k == pytest.approx(10_000_000, rel=0.01)
    d, k = pow.size_rate_work(0, 1, 65536)  # a client cannot ask below the minimum
    assert d * k >= 65536


def test_target_work_covers_the_remaining_hashes_in_16_to_64_puzzles():
    for remaining in (1, 65536, 100_000, 10**7):
        d, k = pow.size_target_work(remaining, 65536)
        assert pow.MIN_PUZZLES <= k <= pow.MAX_PUZZLES
        assert d * k >= max(remaining, 65536)
        assert d * k < max(remaining, 65536) + k


def test_next_rate_smooths_the_measured_rate():
    job = make_job(d=1000, k=10, iat=100, rate=0)
    assert pow.next_rate(job, 110) == 1000  # 10,000 hashes in 10 s
    assert pow.next_rate(make_job(d=1000, k=10, iat=100, rate=3000), 110) == 2000
