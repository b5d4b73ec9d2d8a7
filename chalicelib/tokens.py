"""Tokens: hashes recorded per (site, token name), verified once within an hour."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from chalicelib import token_labels
from chalicelib.errors import InvalidToken
from chalicelib.pressure import default_levels
from chalicelib.sites import SiteInfo, random_key
from chalicelib.store.models import Token
from chalicelib.store.transactions import (
    ConditionFailed,
    Transaction,
    decode,
    serialize,
    write_one,
)

if TYPE_CHECKING:  # passed in by the calls that take an idempotency_key, which import it
    from chalicelib.store.idempotency import IdempotencyKey

TOKEN_LIFETIME = 3600
TOKEN_NAME_LENGTH = 32
MAX_TOKEN_NAME = 256


@dataclass(frozen=True)
class TokenState:
    hashes: int
    created: int  # first share, unix seconds
    target: int = 0  # the hashes its widget asked for
    host: str = ""  # host of the page whose share created it
    action: str = ""  # the label its widget was rendered with (token_labels)
    cdata: str = ""


def captcha_hashes(site: SiteInfo, min_work: int) -> int:
    """The least hashes a token needs for siteverify when the backend names none:
    the site's setting, else its base work (its level 0; `min_work`, the
    deployment's WORKPROOF_MIN_WORK, unless the site has levels of its own) -
    what every token job holds, whatever `hashes` its page asked for."""
    if site.captcha_hashes:
        return site.captcha_hashes
    return (site.levels or default_levels(min_work)).works[0]


def new_token_name() -> str:
    """32 random [A-Za-z0-9] characters, like Coinhive's."""
    return random_key(TOKEN_NAME_LENGTH)


def state_of(item: Token) -> TokenState:
    return TokenState(int(item.hashes or 0), int(item.created or 0), int(item.target or 0),
                      item.host or "", item.action or "", item.cdata or "")


def usable(site_key: str, name: str, now: int) -> TokenState:
    """A token that can still be mined and verified, else InvalidToken."""
    try:
        item = Token.get(Token.token_pk(site_key, name), consistent_read=True)
    except DoesNotExist:
        raise InvalidToken("unknown token") from None
    if item.verified_by or int(item.expires) <= now:
        raise InvalidToken("expired or verified token")
    return state_of(item)


def stage_credit(tx: Transaction, site_key: str, name: str, hashes: int, now: int,
                 *, new: bool, target: int = 0, host: str = "",
                 label: token_labels.Label = token_labels.NONE) -> None:
    """Add a token credit to `tx` (condition label "token").

    A new token is created by its first credit (and must not exist yet),
    recording when, the target its widget asked for, the page's host and the
    `label` its widget was rendered with; a continued one must exist,
    unverified and unexpired, and keeps the label it was created with.
    """
    item = Token(Token.token_pk(site_key, name))
    actions: list[Action] = [Token.hashes.add(hashes)]
    if new:
        actions += [Token.created.set(now), Token.expires.set(now + TOKEN_LIFETIME),
                    Token.target.set(target)]
        if host:
            actions.append(Token.host.set(host[:253]))
        if label.action:
            actions.append(Token.action.set(label.action))
        if label.cdata:
            actions.append(Token.cdata.set(label.cdata))
        condition = Token.pk.does_not_exist()
    else:
        condition = Token.pk.exists() & Token.verified_by.does_not_exist() & (Token.expires > now)
    tx.update("token", item, actions, condition)


def verify(site_key: str, name: str, min_hashes: int, now: int, *, request_id: str,
           reach_target: bool = False, idem: IdempotencyKey | None = None) -> TokenState:
    """Consume the token if it has at least `min_hashes`; exactly once.

    One conditional UpdateItem that writes the request's id into `verified_by`: a
    retry whose first attempt landed (answer lost) finds its own id and
    answers success. Unknown, expired, already verified or short tokens:
    InvalidToken (a short token is not consumed). `reach_target` also
    demands the hashes the widget asked for. With an idempotency key, the
    key's record and the verify are one transaction.
    """
    condition = (Token.pk.exists() & Token.verified_by.does_not_exist() & (Token.expires > now)
                 & (Token.hashes >= min_hashes))
    if reach_target:
        condition &= Token.hashes >= Token.target
    if idem:
        return _verify_with_key(site_key, name, condition, request_id, idem)
    kwargs = {"Key": {"pk": {"S": Token.token_pk(site_key, name)}},
              "ReturnValues": "ALL_NEW",
              **serialize(Token, condition, [Token.verified_by.set(request_id)])}
    held, raw = write_one("UpdateItem", Token, kwargs)
    item = decode(Token, raw)
    if item is not None and (held or item.verified_by == request_id):
        return state_of(item)
    raise InvalidToken("token not verifiable")


def _verify_with_key(site_key: str, name: str, condition: Any, request_id: str,
                     idem: IdempotencyKey) -> TokenState:
    tx = Transaction(client_request_token=request_id)
    tx.update("token", Token(Token.token_pk(site_key, name)), [Token.verified_by.set(request_id)],
              condition)
    idem.stage(tx)
    try:
        tx.commit()
    except ConditionFailed as failed:
        if not idem.replay(failed):
            raise idem.remember(InvalidToken("token not verifiable")) from None
    # Verified (now or by the key's first request): its figures no longer change.
    return state_of(Token.get(Token.token_pk(site_key, name), consistent_read=True))
