"""Failed dashboard sign-ins per client address and minute.

One counter item per (address, minute), `models.SignInFailures` (in the
guards table, whose TTL removes it), keyed by a keyed hash of the address, so
no address is stored. Failures `ADD` to it (no read-modify-write); every
sign-in reads it first. From the fifth failure in a minute on, sign-ins
from that address are refused with `too_many_attempts` until the minute ends,
without the secret being checked: a guess in that window teaches nothing,
and the refusal costs one read, where a delay would bill Lambda time for
every parallel guess. So one address tests five secrets a minute, plus
whatever it had in flight when the fifth failure landed (secrets are ~190
bits: the limit keeps logs and bills calm, it is not what keeps them safe).
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.dashboard.session import DashboardError, address_tag
from chalicelib.store.models import SignInFailures

MAX_FAILURES = 5
WINDOW_SECONDS = 60
# The item outlives its minute a little: DynamoDB's TTL deletes late anyway.
_KEEP_SECONDS = 120


class TooManyAttempts(DashboardError):
    code, rest_status = "too_many_attempts", 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"sign-ins refused for {retry_after} s")
        self.retry_after = retry_after


def _key(address: str, now: int) -> str:
    return SignInFailures.pk_for(address_tag(address), now - now % WINDOW_SECONDS)


def check(address: str, now: int) -> None:
    """Raise TooManyAttempts if this address already failed five times this minute."""
    try:
        failures = int(SignInFailures.get(_key(address, now), consistent_read=True).failures or 0)
    except DoesNotExist:
        return
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(WINDOW_SECONDS - now % WINDOW_SECONDS)


def record_failure(address: str, now: int) -> None:
    minute = now - now % WINDOW_SECONDS
    SignInFailures(_key(address, now)).update(
        actions=[SignInFailures.failures.add(1),
                 SignInFailures.expires.set(minute + _KEEP_SECONDS)])
