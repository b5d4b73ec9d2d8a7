"""The dashboard's sign-in throttle under concurrency, against the locked embedded store.

Forty wrong secrets from one source at the same instant: a check is reserved
before it runs (a conditional ADD), so exactly the limit of them are checked
(`invalid_secret`) and every other one is refused unchecked
(`too_many_attempts`), however the threads interleave; the count is per
(source, site key), so the same source still signs in to another site.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from tests.race.threads import run_together

pytestmark = pytest.mark.race

THREADS = 40
NOW_MS = 1_764_000_030_000  # 30 s into a minute: every attempt falls in one window
SOURCE = "203.0.113.7"


def _sign_in(site_key: str, secret: str) -> Any:
    """The sign-in view on a request from SOURCE (the view itself: chalice's test
    client keeps one current request per app, which threads would share)."""
    from chalicelib.dashboard import auth
    from chalicelib.dashboard.wire import Call
    from chalicelib.params import Params

    request = SimpleNamespace(query_params=None, headers={"host": "localhost"},
                              context={"path": "/dashboard/signin",
                                       "resourcePath": "/dashboard/signin",
                                       "identity": {"sourceIp": SOURCE}}, uri_params=None)
    return auth.sign_in(Call(request, Params({"site_key": site_key, "secret": secret}), NOW_MS))


def _outcome(site_key: str, secret: str) -> str:
    from chalicelib.dashboard.session import DashboardError
    from chalicelib.errors import ApiError

    try:
        _sign_in(site_key, secret)
    except (ApiError, DashboardError) as error:
        return str(error.code)
    return "success"


def test_forty_parallel_wrong_secrets_check_at_most_the_limit(store: Any) -> None:
    from chalicelib import sites
    from chalicelib.dashboard.throttle import MAX_CHECKS

    target, secret = sites.create_site("guessed at")
    other, other_secret = sites.create_site("never guessed at")
    outcomes: list[str] = []
    barrier = threading.Barrier(THREADS)

    def guess(i: int) -> None:
        barrier.wait()
        outcomes.append(_outcome(target.site_key, f"wrong-secret-{i:02d}-" + "x" * 20))

    run_together(guess, [(i,) for i in range(THREADS)])

    assert outcomes.count("invalid_secret") == MAX_CHECKS
    assert outcomes.count("too_many_attempts") == THREADS - MAX_CHECKS
    # The right secret is refused unchecked for the rest of the minute...
    assert _outcome(target.site_key, secret) == "too_many_attempts"
    # ...while the same source signs in to a site it never guessed at.
    assert _outcome(other.site_key, other_secret) == "success"
