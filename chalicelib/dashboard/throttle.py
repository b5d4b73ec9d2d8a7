"""Secret checks per (source, site key) and minute: at most five, whatever the concurrency.

One counter item per (source, site key, minute), `models.SignInFailures` (in
the guards table, whose TTL removes it), keyed by a keyed hash of the source
and the site key, so no address is stored. A check of a secret is reserved
before it runs: one conditional `ADD n 1` (`attribute_not_exists(n) OR
n < 5`), and only a reservation that succeeded checks the secret. So at most
five secrets are checked per minute for one site from one source, however
many requests arrive together; the others are refused with
`too_many_attempts` until the minute ends, without the secret being looked at
(a guess in that window teaches nothing, and the refusal costs one write,
where a delay would bill Lambda time for every parallel guess). A check that
succeeds gives its reservation back, so an operator's own sign-ins never use
up the minute; failures keep theirs.

The source is the app's one identity of a client (`sources.source_of`: an
IPv4 address or an IPv6 /64), and the count is per site key as well, so a
shared address (an office, a carrier's NAT) guessing at one site cannot lock
an operator out of another. Secrets are ~190 bits: the limit keeps logs and
bills calm, it is not what keeps them safe.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pynamodb.exceptions import UpdateError

from chalicelib.dashboard.session import DashboardError, address_tag
from chalicelib.errors import dynamo_error_code
from chalicelib.store.models import SignInFailures

MAX_CHECKS = 5
WINDOW_SECONDS = 60
# The item outlives its minute a little: DynamoDB's TTL deletes late anyway.
_KEEP_SECONDS = 120

Checked = TypeVar("Checked")


class TooManyAttempts(DashboardError):
    code, rest_status = "too_many_attempts", 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"sign-ins refused for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Reservation:
    pk: str


def _key(source: str, site_key: str, now: int) -> str:
    return SignInFailures.pk_for(address_tag(source + '|' + site_key), now - now % WINDOW_SECONDS)


def _reserve(source: str, site_key: str, now: int) -> _Reservation:
    """One of the minute's checks, or TooManyAttempts if they are all taken."""
    pk = _key(source, site_key, now)
    minute = now - now % WINDOW_SECONDS
    try:
        SignInFailures(pk).update(
            actions=[SignInFailures.checks.add(1),
                     SignInFailures.expires.set(minute + _KEEP_SECONDS)],
            condition=SignInFailures.checks.does_not_exist() | (SignInFailures.checks < MAX_CHECKS))
    except UpdateError as exc:
        if dynamo_error_code(exc) == "ConditionalCheckFailedException":
            raise TooManyAttempts(WINDOW_SECONDS - now % WINDOW_SECONDS) from None
        raise
    return _Reservation(pk)


def _give_back(reservation: _Reservation) -> None:
    SignInFailures(reservation.pk).update(actions=[SignInFailures.checks.add(-1)])


def checked(source: str, site_key: str, now: int, check: Callable[[], Checked]) -> Checked:
    """`check()` (a secret check that raises when the secret is wrong) under a
    reservation: TooManyAttempts when the minute's checks are taken; a check
    that passes gives its reservation back."""
    reservation = _reserve(source, site_key, now)
    result = check()  # a refusal keeps the reservation: that check is spent
    _give_back(reservation)
    return result
