"""The seed API's operations: authenticated, parameters in, answer body out.

Each function takes the merged parameters and returns the success body
(without `success`); app.py only routes to them.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from chalicelib import ledger, links, tokens
from chalicelib.errors import (
    BadRequest,
    InvalidAmount,
    InvalidPage,
    InvalidSecret,
    InvalidToken,
    InvalidUrl,
    MissingInput,
)
from chalicelib.params import Params, clamped_count, positive_amount
from chalicelib.sites import SiteInfo, authenticate
from chalicelib.store.transactions import new_request_id

if TYPE_CHECKING:
    from chalicelib.store.idempotency import IdempotencyKey


def _site(params: Params) -> SiteInfo:
    # Any secret that is not a plausible string (too long, a JSON number,
    # boolean or structure) is simply not a known secret: `invalid_secret`,
    # never `bad_request`, since the secret is checked before the parameters.
    secret = params.values.get("secret")
    if not isinstance(secret, str) or len(secret) > 256:
        raise InvalidSecret("no usable secret")
    return authenticate(secret)


def _idempotency_key(params: Params, site: SiteInfo, scope: str,
                     **fingerprint: object) -> IdempotencyKey | None:
    from chalicelib.store import idempotency  # only withdraw and verify take a key

    key = params.string("idempotency_key", required=False, max_chars=1 << 20)
    return idempotency.key_for(site.site_key, scope, key, idempotency.DAY, **fingerprint)


def token_verify(params: Params) -> dict[str, Any]:
    site = _site(params)
    name = params.string("token", required=False, max_chars=1 << 20)
    if not name or not params.has("hashes"):
        raise MissingInput("token and hashes are required")
    hashes = positive_amount(params, "hashes", BadRequest)
    if len(name) > tokens.MAX_TOKEN_NAME:
        # No token has such a name: it is unknown, like any other.
        raise InvalidToken("token name too long")
    idem = _idempotency_key(params, site, "verify", token=name, hashes=hashes)
    state = tokens.verify(site.site_key, name, hashes, int(time.time()),
                          request_id=new_request_id(), idem=idem)
    return {"hashes": state.hashes, "created": state.created}


def user_balance(params: Params) -> dict[str, Any]:
    site = _site(params)
    return ledger.balance(site, params.name()).as_json()


def user_withdraw(params: Params) -> dict[str, Any]:
    site = _site(params)
    name = params.name()
    amount = positive_amount(params, "amount", InvalidAmount)
    idem = _idempotency_key(params, site, "withdraw", name=name, amount=amount)
    ledger.withdraw(site, name, amount, new_request_id(), idem)
    return {"name": name, "amount": amount}


def user_top(params: Params) -> dict[str, Any]:
    from chalicelib import ranks  # here: ranks and stats load only for the calls that read them

    site = _site(params)
    count = clamped_count(params, "count", 1, 1024, 128)
    order = params.string("order", required=False, max_chars=16) or "total"
    if order not in ranks.TOP_ORDERS:
        raise BadRequest("order must be total, balance or withdrawn")
    return {"users": ranks.top(site, count, order)}


def user_list(params: Params) -> dict[str, Any]:
    from chalicelib import ranks

    site = _site(params)
    count = clamped_count(params, "count", 32, 8192, 4096)
    page = params.values.get("page")
    # The cursor is opaque: anything that is not one we issued (too long,
    # not a string) is `invalid_page`, like any other garbage.
    if page is not None and (not isinstance(page, str) or len(page) > 2048):
        raise InvalidPage("not a page cursor")
    users, next_page = ranks.list_users(site, count, page)
    return {"users": users, "nextPage": next_page}


def user_reset(params: Params) -> dict[str, Any]:
    site = _site(params)
    ledger.reset(site, params.name(), new_request_id())
    return {}


def user_reset_all(params: Params) -> dict[str, Any]:
    site = _site(params)
    return {"affected": ledger.reset_all(site)}


def link_create(params: Params, base_url: str) -> dict[str, Any]:
    site = _site(params)
    url = params.string("url", required=False, max_chars=1 << 20, invalid=InvalidUrl)
    if not url or not params.has("hashes"):
        raise MissingInput("url and hashes are required")
    hashes = positive_amount(params, "hashes", BadRequest)
    link = links.create(site.site_key, url, hashes)
    return {"url": f"{base_url}/l/{link.code}"}


def stats_payout(params: Params, min_work: int) -> dict[str, Any]:
    from chalicelib import stats

    _site(params)
    now = int(time.time())
    figures, updated = stats.read_payout()
    return {
        "globalDifficulty": min_work,
        "globalHashrate": stats.global_hashrate(now),
        **figures,
        "updated": updated,
    }


def stats_site(params: Params) -> dict[str, Any]:
    from chalicelib import stats

    site = _site(params)
    figures = stats.site_stats(site.site_key, int(time.time()))
    return {
        "hashesPerSecond": figures["hashesPerSecond"],
        "hashesTotal": figures["hashesTotal"],
        "xmrPending": _number(site.xmr_pending),
        "xmrPaid": _number(site.xmr_paid),
        "name": site.name,
        "history": figures["history"],
    }


def stats_history(params: Params) -> dict[str, Any]:
    from chalicelib import stats

    site = _site(params)
    if not params.has("begin") or not params.has("end"):
        raise MissingInput("begin and end are required")
    begin = params.integer("begin")
    end = params.integer("end")
    assert begin is not None and end is not None
    if begin < 0 or end < 0 or begin > end or end - begin > stats.MAX_HISTORY_SECONDS \
            or end > 2**40:
        raise BadRequest("range")
    return {"history": stats.history(site.site_key, begin, end, int(time.time()))}


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value

