"""/pow/job and /pow/submit: issue signed jobs; verify and credit shares.

A submit is one transaction: the job's replay guard, the account's credit
(user or token; none for anonymous work and link visits) and the hourly
stats shards, so a crash or a retry can neither lose nor double a share.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib import ledger, links, stats, tokens
from chalicelib.errors import (
    BadRequest,
    DuplicateShare,
    InternalError,
    InvalidJob,
    InvalidSite,
    InvalidToken,
    MissingInput,
)
from chalicelib.models import Guard
from chalicelib.params import Params, positive_amount
from chalicelib.pow import (
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
from chalicelib.sites import SiteInfo, clear_cache, public_site
from chalicelib.txn import ConditionFailed, Transaction

CAS_ATTEMPTS = 50


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


def issue_job(params: Params, origin: str | None, now: int, min_work: int, ttl: int) -> dict[str, Any]:
    """The first job of a chain. Writes nothing."""
    kind, account, new = _account(params)
    site = _site_for(params.string("site", max_chars=64), origin)
    requested = params.integer("difficulty", required=False)
    total, target = 0, 0
    if kind in ("user", "anonymous"):
        d, k = size_rate_work(0, max(1, requested) if requested else None, min_work)
    else:
        if kind == "token":
            wanted = positive_amount(params, "hashes", BadRequest) if params.has("hashes") else min_work
            if not new:
                total = tokens.usable(site.site_key, account, now).hashes
            target = wanted
        else:
            link = links.get(account)
            if link.site_key != site.site_key:
                raise links.InvalidLink("link of another site")
            target = link.hashes
        d, k = size_target_work(target - total, min_work)
    job = Job(kid="", site=site.site_key, epoch=site.epoch, kind=kind, account=account,
              new=new, d=d, k=k, exp=now + ttl, id=new_job_id(), total=total, rate=0,
              target=target, iat=now)
    answer = _answer(job)
    if kind == "token":
        answer["token"] = account
    return answer


def _credit(job: Job, now: int) -> None:
    """The share's transaction, retried on a concurrent write of the user."""
    for _attempt in range(CAS_ATTEMPTS):
        # A random ClientRequestToken per transaction, reused only by its own
        # conflict/throttle retries. Not derived from the job: DynamoDB would
        # answer a concurrent duplicate submit with the first one's success
        # instead of letting its guard condition fail (duplicate_share).
        tx = Transaction()
        tx.save("guard", Guard(job.id, expires_at=job.exp + 60), Guard.pk.does_not_exist())
        if job.kind == "user":
            state = ledger.read_user(job.site, job.account)
            seen = state.in_epoch(job.epoch)
            ledger.stage_user_write(tx, job.site, job.epoch, state,
                                    seen.total + job.work, seen.withdrawn, now)
        elif job.kind == "token":
            tokens.stage_credit(tx, job.site, job.account, job.work, now, new=job.new)
        stats.stage_hashes(tx, job.site, job.work, now)
        try:
            tx.commit()
            return
        except ConditionFailed as failed:
            if "guard" in failed.labels:
                raise DuplicateShare(job.id) from None
            if "epoch" in failed.labels:
                # Our cached epoch may be what issued it: the next job reads afresh.
                clear_cache(job.site)
                raise InvalidJob("issued before a reset-all") from None
            if "token" in failed.labels:
                raise InvalidToken("token unknown, expired or verified") from None
            if "user" not in failed.labels:
                raise InternalError(f"unexpected condition failure {failed.labels}") from None
    raise InternalError("share credit kept conflicting")


def submit(params: Params, origin: str | None, now: int, min_work: int, ttl: int) -> dict[str, Any]:
    job_text = params.string("job", required=False, max_chars=8192)
    nonce_text = params.string("nonce", required=False, max_chars=8192)
    if not job_text or not nonce_text:
        raise MissingInput("job and nonce are required")
    nonces = parse_nonces(nonce_text)
    job = verify(job_text, signing_keys(), now)
    _site_for(job.site, origin)
    check_share(job_text, job, nonces)
    _credit(job, now)
    total = job.total + job.work
    answer: dict[str, Any] = {"hashes": job.work}
    if job.kind in ("user", "anonymous"):
        d, k = size_rate_work(next_rate(job, now), None, min_work)
    else:
        d, k = size_target_work(job.target - total, min_work)
        if job.kind == "link" and total >= job.target:
            answer["redirect"] = links.get(job.account).url
    following = replace(job, new=False, d=d, k=k, exp=now + ttl, id=new_job_id(), total=total,
                        rate=next_rate(job, now), iat=now)
    answer.update({"total": total, **_answer(following)})
    return answer

