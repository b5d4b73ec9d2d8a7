"""/pow/job and /pow/submit: issue signed jobs; verify and credit shares.

A user or token share is one transaction: the job's replay guard and the
account's credit (`ADD` under a condition). Anonymous work and link visits
credit no account: their share is the guard alone, one conditional put.
The guard also records the share for the stats stream consumer, so stats
cost the request nothing. A crash or a retry can neither lose nor double a
share: transactions retry with their ClientRequestToken, single writes
recognise their own request id in the item a failed condition returns.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from chalicelib import front_door, ledger, links, sizing, sources, token_labels, tokens
from chalicelib.errors import (
    BadRequest,
    Busy,
    DuplicateShare,
    InternalError,
    InvalidJob,
    InvalidLink,
    InvalidSite,
    InvalidToken,
    MissingInput,
)
from chalicelib.params import Params, positive_amount
from chalicelib.pow import (
    MAX_DIFFICULTY,
    Job,
    check_share,
    new_job_id,
    next_rate,
    parse_nonces,
    sign,
    signing_keys,
    size_rate_work,
    size_target_work,
    verify,
)
from chalicelib.sites import SiteInfo, public_site
from chalicelib.store.models import Guard, User
from chalicelib.store.transactions import (
    ConditionFailed,
    Transaction,
    decode,
    last_retries,
    serialize,
    write_one,
)

# A share whose commit took longer than this after it read the epoch checks
# the epoch again (reset-all waits twice as long before answering).
EPOCH_RECHECK_SECONDS = ledger.RESET_ALL_GRACE_SECONDS / 2
# Under contention (a busy account's item), a chain's next job grows by
# 2^retries, at most this factor: its submits slow down instead of failing.
MAX_CONTENTION_FACTOR = 8


def _site_for(site_key: str | None, origin: str | None) -> SiteInfo:
    site = public_site(site_key)
    if site.origins and origin and origin not in site.origins:
        raise InvalidSite("origin not allowed for this site")
    return site


def _answer(job: Job) -> dict[str, Any]:
    return {"job": sign(job, signing_keys()), "difficulty": job.d, "count": job.k,
            "expires": job.exp}


def _account(params: Params) -> tuple[str, str, bool]:
    """(kind, account, new) from exactly one of user / token / link / anonymous."""
    given = [kind for kind in ("user", "link", "anonymous") if params.has(kind)]
    # `token=` present but empty asks for a new token: look at the raw presence.
    token_present = params.raw_has("token")
    if token_present:
        given.append("token")
    if not given:
        raise MissingInput("no account")
    if len(given) > 1:
        raise BadRequest("more than one account")
    kind = given[0]
    if kind == "user":
        return "user", params.name("user"), False
    if kind == "link":
        return "link", params.string("link", max_chars=64) or "", False
    if kind == "anonymous":
        return "anonymous", "", False
    name = params.string("token", required=False, max_chars=tokens.MAX_TOKEN_NAME)
    return ("token", name, False) if name else ("token", tokens.new_token_name(), True)


def issue_job(params: Params, origin: str | None, now: int, min_work: int, ttl: int,
              source: str = sources.UNKNOWN) -> dict[str, Any]:
    """The first job of a chain. Writes nothing."""
    kind, account, new = _account(params)
    site = _site_for(params.string("site", max_chars=64), origin)
    tag = sizing.share_tag(source)
    sizing.admit(site, tag, now)
    min_work = sizing.work_floor(site, tag, now, min_work)
    requested = params.integer("difficulty", required=False)
    total, target, epoch = 0, 0, site.epoch
    if kind in ("user", "anonymous"):
        d, k = size_rate_work(0, max(1, requested) if requested else None, min_work)
        if kind == "user":
            # Read afresh, not from the cached site: a job issued after a
            # reset-all answered must carry the new epoch, whichever
            # container issues it.
            epoch = ledger.current_epoch(site.site_key)
    else:
        if kind == "token":
            wanted = positive_amount(params, "hashes", BadRequest) if params.has("hashes") else min_work
            if not new:
                total = tokens.usable(site.site_key, account, now).hashes
            target = wanted
        else:
            link = links.get(account)
            if link.site_key != site.site_key:
                raise InvalidLink("link of another site")
            target = link.hashes
        d, k = size_target_work(target - total, min_work)
    job = Job(kid="", site=site.site_key, epoch=epoch, kind=kind, account=account,
              new=new, d=d, k=k, exp=now + ttl, id=new_job_id(), total=total, rate=0,
              target=target, iat=now, src=tag)
    answer = _answer(job)
    if kind == "token":
        answer["token"] = account
    return answer


def _guard(job: Job, now: int, request_id: str, tag: str) -> Guard:
    """The replay guard, and the share's record for the stats consumer."""
    reached = job.kind in ("token", "link") and job.total + job.work >= job.target
    return Guard(job.id, expires=job.exp + 60, site_key=job.site, hashes=job.work,
                 credited_at=now, kind=job.kind,
                 link_code=job.account if job.kind == "link" else None,
                 first=1 if job.total == 0 else 0, reached=1 if reached else 0,
                 request_id=request_id, source_tag=tag)


def _host(origin: str | None) -> str:
    try:
        return (urlsplit(origin or "").hostname or "")[:253]
    except ValueError:
        return ""


def _credit_guard_only(job: Job, now: int, request_id: str, tag: str) -> None:
    """Anonymous work and link visits: the guard alone, one conditional put."""
    guard = _guard(job, now, request_id, tag)
    item = guard.serialize()
    held, old = write_one("PutItem", Guard,
                          {"Item": item, **serialize(Guard, Guard.pk.does_not_exist())})
    existing = decode(Guard, old)
    if not held and (existing is None or existing.request_id != request_id):
        raise DuplicateShare(job.id)


def _credit_user(job: Job, now: int, request_id: str, tag: str) -> None:
    """Guard + user credit in one transaction; the variant follows the user's item."""
    epoch = ledger.current_epoch(job.site)
    read_at = time.monotonic()
    if job.epoch != epoch:
        raise InvalidJob("issued before a reset-all")
    first = False
    for round_ in range(4):
        tx = Transaction(client_request_token=f"{request_id}-{round_}")
        tx.save("guard", _guard(job, now, request_id, tag), Guard.pk.does_not_exist())
        ledger.stage_credit(tx, job.site, job.epoch, job.account, job.work, first=first)
        try:
            tx.commit()
            break
        except ConditionFailed as failed:
            if "guard" in failed.labels:
                raise DuplicateShare(job.id) from None
            variant = ledger.credit_variant(failed.item("user", User), job.epoch)
            if variant is None:
                raise InvalidJob("issued before a reset-all") from None
            first = variant
    else:
        raise InternalError("share credit kept changing variant")
    if time.monotonic() - read_at > EPOCH_RECHECK_SECONDS \
            and ledger.current_epoch(job.site) != job.epoch:
        # Committed into an epoch a reset-all closed meanwhile: it counts
        # for nothing there, so the miner is told its job was stale.
        raise InvalidJob("a reset-all closed this job's epoch")


def _credit_token(job: Job, now: int, request_id: str, origin: str | None, tag: str,
                  label: token_labels.Label) -> None:
    tx = Transaction(client_request_token=request_id)
    tx.save("guard", _guard(job, now, request_id, tag), Guard.pk.does_not_exist())
    tokens.stage_credit(tx, job.site, job.account, job.work, now, new=job.new,
                        target=job.target, host=_host(origin), label=label)
    try:
        tx.commit()
    except ConditionFailed as failed:
        if "guard" in failed.labels:
            raise DuplicateShare(job.id) from None
        raise InvalidToken("token unknown, expired or verified") from None


def _credit(job: Job, now: int, origin: str | None, tag: str,
            label: token_labels.Label = token_labels.NONE) -> None:
    request_id = secrets.token_hex(8)
    if job.kind == "user":
        _credit_user(job, now, request_id, tag)
    elif job.kind == "token":
        _credit_token(job, now, request_id, origin, tag, label)
    else:
        _credit_guard_only(job, now, request_id, tag)
    front_door.credited(job.id)
    if front_door.per_source():
        front_door.RATES.add(tag, job.work, now)


def submit(params: Params, origin: str | None, now: int, min_work: int, ttl: int,
           source: str = sources.UNKNOWN) -> dict[str, Any]:
    job_text = params.string("job", required=False, max_chars=8192)
    nonce_text = params.string("nonce", required=False, max_chars=8192)
    if not job_text or not nonce_text:
        raise MissingInput("job and nonce are required")
    nonces = parse_nonces(nonce_text)
    # Turnstile's action and cdata: stored with the token this submit creates, if it does.
    label = token_labels.from_params(params)
    job = verify(job_text, signing_keys(), now)
    site = _site_for(job.site, origin)
    check_share(job_text, job, nonces)
    if front_door.was_credited(job.id):
        raise DuplicateShare(job.id)  # credited through this container: no DynamoDB call
    # Valid work from here on: its own bucket, which junk cannot drain.
    wait = front_door.admit_work(source)
    if wait:
        raise Busy(wait, "over the source's submit rate")
    tag = sizing.share_tag(source)
    sizing.check_submitter(job, site, source, tag, now, min_work)
    _credit(job, now, origin, tag, label)
    min_work = sizing.work_floor(site, tag, now, min_work)
    contention = min(MAX_CONTENTION_FACTOR, 2 ** last_retries())
    total = job.total + job.work
    answer: dict[str, Any] = {"hashes": job.work}
    if job.kind in ("user", "anonymous"):
        d, k = size_rate_work(next_rate(job, now), None, min_work)
        d = min(d * contention, MAX_DIFFICULTY)
    else:
        d, k = size_target_work(job.target - total, min_work)
        if job.kind == "link" and total >= job.target:
            answer["redirect"] = links.get(job.account).url
    following = replace(job, new=False, d=d, k=k, exp=now + ttl, id=new_job_id(), total=total,
                        rate=next_rate(job, now), iat=now, src=tag)
    answer.update({"total": total, **_answer(following)})
    return answer
