"""Tokens: hashes recorded per (site, token name), verified once within an hour."""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.errors import InvalidToken
from chalicelib.models import Token
from chalicelib.sites import random_key
from chalicelib.txn import Transaction

TOKEN_LIFETIME = 3600
TOKEN_NAME_LENGTH = 32
MAX_TOKEN_NAME = 256


@dataclass(frozen=True)
class TokenState:
    hashes: int
    created: int


def new_token_name() -> str:
    """32 random [A-Za-z0-9] characters, like Coinhive's."""
    return random_key(TOKEN_NAME_LENGTH)


def token_pk(site_key: str, name: str) -> str:
    return f"{site_key}#{name}"


def usable(site_key: str, name: str, now: int) -> TokenState:
    """A token that can still be mined and verified, else InvalidToken."""
    try:
        item = Token.get(token_pk(site_key, name), consistent_read=True)
    except DoesNotExist:
        raise InvalidToken("unknown token") from None
    if item.verified or int(item.expires_at) <= now:
        raise InvalidToken("expired or verified token")
    return TokenState(int(item.hashes), int(item.created))


def stage_credit(tx: Transaction, site_key: str, name: str, hashes: int, now: int,
                 *, new: bool) -> None:
    """Add a token credit to `tx`.

    A new token is created by its first credit (and must not exist yet);
    a continued one must exist, unverified and unexpired. Condition label:
    "token".
    """
    item = Token(token_pk(site_key, name))
    actions = [Token.hashes.add(hashes)]
    if new:
        actions += [Token.created.set(now), Token.expires_at.set(now + TOKEN_LIFETIME)]
        condition = Token.pk.does_not_exist()
    else:
        condition = Token.pk.exists() & Token.verified.does_not_exist() & (Token.expires_at > now)
    tx.update("token", item, actions, condition)


def verify(site_key: str, name: str, hashes: int, now: int) -> TokenState:
    """Consume the token if it has at least `hashes`; exactly once.

    Unknown, expired, already verified or short tokens: InvalidToken (a
    short token is not consumed).
    """
    item = Token(token_pk(site_key, name))
    try:
        item.update(
            actions=[Token.verified.set(True)],
            condition=(Token.pk.exists() & Token.verified.does_not_exist()
                       & (Token.expires_at > now) & (Token.hashes >= hashes)),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise InvalidToken("token not verifiable") from None
        raise
    return TokenState(int(item.hashes), int(item.created))
