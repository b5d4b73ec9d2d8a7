"""Users' ledgers: credit, withdraw, reset, reset-all (epochs), top, list.

A user item holds total, withdrawn and the epoch they belong to; an item
of an older epoch than the site's reads as zero (that is how reset-all
finishes in bounded time). Every user write is conditioned on the item's
`version` and on the site's epoch, in one transaction with the per-epoch
counter shard that keeps reset-all's `affected` exact.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import itertools
import json
import random
import time
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import InsufficientFunds, InternalError, InvalidPage, UnknownUser
from chalicelib.models import Site, User
from chalicelib.params import MAX_SAFE_INTEGER
from chalicelib.sites import SiteInfo, site_pk
from chalicelib.txn import ConditionFailed, Transaction

COUNTER_SHARDS = 16
# Every user write checks the site's epoch in its transaction; spread over
# copies so one site's credits are not capped by one item's write limit
# (a ConditionCheck costs write units too). reset-all moves all of them.
EPOCH_SHARDS = 8
# The sparse indexes' partition key is spread over this many values per
# site-epoch: every credit rewrites a user's index entries, and one index
# partition key takes ~1,000 write units/s. Reads merge the sorted shards.
INDEX_SHARDS = 4
CAS_ATTEMPTS = 200
ORDER_FIELDS = ("total", "balance", "withdrawn")
# Sort keys are at most 1024 bytes: 14 hex digits, then the name's UTF-8
# bytes, cut on a character boundary.
_ORDER_NAME_BYTES = 1024 - 14


@dataclass(frozen=True)
class UserState:
    """A user item as read: `exists` false when there is no item at all."""

    name: str
    exists: bool
    epoch: int
    total: int
    withdrawn: int
    version: int

    def in_epoch(self, epoch: int) -> UserState:
        """The user as seen in `epoch`: an older epoch's figures read as zero."""
        if self.exists and self.epoch != epoch:
            return UserState(self.name, True, epoch, 0, 0, self.version)
        return self

    @property
    def balance(self) -> int:
        return self.total - self.withdrawn

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "total": self.total, "withdrawn": self.withdrawn,
                "balance": self.balance}


def user_pk(site_key: str, name: str) -> str:
    return f"U#{site_key}#{name}"


def index_shard(name: str) -> int:
    """The index partition a user's entries live in: a stable hash of the name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % INDEX_SHARDS


def index_pk(site_key: str, epoch: int, shard: int) -> str:
    return f"SITE#{site_key}#E#{epoch}#{shard}"


def order_key(value: int, name: str) -> str:
    """Sorts descending by value, then ascending by the name's UTF-8 bytes."""
    raw = name.encode("utf-8")[:_ORDER_NAME_BYTES].decode("utf-8", "ignore")
    return f"{MAX_SAFE_INTEGER - value:014x}{raw}"


def read_user(site_key: str, name: str) -> UserState:
    try:
        item = User.get(user_pk(site_key, name), consistent_read=True)
    except DoesNotExist:
        return UserState(name, False, 0, 0, 0, 0)
    return UserState(name, True, int(item.epoch), int(item.total), int(item.withdrawn),
                     int(item.version))


def epoch_shard_pk(site_key: str, k: int) -> str:
    return f"EPOCH#{site_key}#{k}"


def stage_epoch_check(tx: Transaction, site_key: str, epoch: int) -> None:
    """Add to `tx`: the site is still in `epoch` (label "epoch").

    Shards are written by the first reset-all; until then a missing shard
    means epoch 0.
    """
    pk = epoch_shard_pk(site_key, random.randrange(EPOCH_SHARDS))
    tx.condition_check("epoch", Site, pk, _epoch_shard_is(epoch))


def _epoch_shard_is(epoch: int):
    """An epoch shard holds `epoch` (a shard never written holds epoch 0)."""
    condition = Site.epoch == epoch
    return condition | Site.pk.does_not_exist() if epoch == 0 else condition


def current_epoch(site_key: str) -> int:
    try:
        return int(Site.get(site_pk(site_key), consistent_read=True).epoch)
    except DoesNotExist:
        raise InternalError("site vanished") from None


def stage_user_write(tx: Transaction, site_key: str, epoch: int, state: UserState,
                     total: int, withdrawn: int, now: int) -> None:
    """Add to `tx` the write of a user to (total, withdrawn) in `epoch`.

    `state` is the item as read; the write holds only if nobody wrote it
    since, and only while the site is still in `epoch`. Moves between zero
    and non-zero total adjust the epoch's counter shard.
    """
    seen = state.in_epoch(epoch)
    actions = [
        User.name.set(state.name),
        User.epoch.set(epoch),
        User.total.set(total),
        User.withdrawn.set(withdrawn),
        User.version.set(state.version + 1),
        User.created.set(User.created | now),
    ]
    if total > 0:
        actions += [
            User.ix.set(index_pk(site_key, epoch, index_shard(state.name))),
            User.ord_total.set(order_key(total, state.name)),
            User.ord_balance.set(order_key(total - withdrawn, state.name)),
            User.ord_withdrawn.set(order_key(withdrawn, state.name)),
            User.ord_name.set(state.name),
        ]
    else:
        actions += [User.ix.remove(), User.ord_total.remove(), User.ord_balance.remove(),
                    User.ord_withdrawn.remove(), User.ord_name.remove()]
    condition = (User.version == state.version) if state.exists else User.pk.does_not_exist()
    tx.update("user", User(user_pk(site_key, state.name)), actions, condition)
    delta = int(total > 0) - int(seen.total > 0)
    if delta:
        shard = User(f"C#{site_key}#{epoch}#{random.randrange(COUNTER_SHARDS)}")
        tx.update("counter", shard, [User.n.add(delta)])
    stage_epoch_check(tx, site_key, epoch)


def _mutate(site: SiteInfo, name: str, change, now: int | None = None) -> UserState:
    """Optimistic loop: read the user, compute the change, write it conditionally.

    `change(state_in_epoch) -> (total, withdrawn) | None` (None: no write).
    Returns the state in the epoch after the write.
    """
    epoch = site.epoch
    for _ in range(CAS_ATTEMPTS):
        state = read_user(site.site_key, name)
        seen = state.in_epoch(epoch)
        target = change(seen)
        if target is None:
            return seen
        tx = Transaction()
        stage_user_write(tx, site.site_key, epoch, state, target[0], target[1],
                         int(now or time.time()))
        try:
            tx.commit()
        except ConditionFailed as failed:
            if "epoch" in failed.labels:
                epoch = current_epoch(site.site_key)
            time.sleep(random.random() * 0.005)
            continue
        return UserState(name, True, epoch, target[0], target[1], state.version + 1)
    raise InternalError("user write kept conflicting")


def balance(site: SiteInfo, name: str) -> UserState:
    state = read_user(site.site_key, name)
    if not state.exists:
        raise UnknownUser(name)
    # `site` was read (consistently) by authenticate() for this request.
    return state.in_epoch(site.epoch)


def withdraw(site: SiteInfo, name: str, amount: int) -> None:
    def change(seen: UserState):
        if not seen.exists:
            raise UnknownUser(name)
        if seen.balance < amount:
            raise InsufficientFunds(name)
        return seen.total, seen.withdrawn + amount
    _mutate(site, name, change)


def credit(site: SiteInfo, name: str, hashes: int) -> UserState:
    """Credit outside a share (import, tests); shares use stage_user_write."""
    return _mutate(site, name, lambda seen: (seen.total + hashes, seen.withdrawn))


def reset(site: SiteInfo, name: str) -> None:
    def change(seen: UserState):
        if not seen.exists or (seen.total == 0 and seen.withdrawn == 0):
            return None
        return 0, 0
    _mutate(site, name, change)


def set_figures(site: SiteInfo, name: str, total: int, withdrawn: int) -> UserState:
    """Set a user's figures outright (import of a Coinhive export)."""
    return _mutate(site, name, lambda seen: (total, withdrawn))


def delete_user(site: SiteInfo, name: str) -> bool:
    """Erase a user's item (erasure on request). True if there was one."""
    for _ in range(CAS_ATTEMPTS):
        epoch = current_epoch(site.site_key)
        state = read_user(site.site_key, name)
        if not state.exists:
            return False
        tx = Transaction()
        tx.delete("user", User(user_pk(site.site_key, name)), User.version == state.version)
        if state.in_epoch(epoch).total > 0:
            shard = User(f"C#{site.site_key}#{epoch}#{random.randrange(COUNTER_SHARDS)}")
            tx.update("counter", shard, [User.n.add(-1)])
        stage_epoch_check(tx, site.site_key, epoch)
        try:
            tx.commit()
            return True
        except ConditionFailed:
            continue
    raise InternalError("user delete kept conflicting")


def count_nonzero(site_key: str, epoch: int) -> int:
    keys = [f"C#{site_key}#{epoch}#{k}" for k in range(COUNTER_SHARDS)]
    return sum(int(item.n or 0) for item in User.batch_get(keys, consistent_read=True))


def reset_all(site: SiteInfo) -> int:
    """Start a new epoch; answers how many users had a non-zero total."""
    epoch = site.epoch  # read by authenticate() for this request
    while True:
        tx = Transaction()
        tx.update("site", Site(site_pk(site.site_key)),
                  [Site.epoch.set(epoch + 1), Site.updated.set(int(time.time()))],
                  Site.epoch == epoch)
        for k in range(EPOCH_SHARDS):
            tx.update(f"shard{k}", Site(epoch_shard_pk(site.site_key, k)),
                      [Site.epoch.set(epoch + 1)], _epoch_shard_is(epoch))
        try:
            tx.commit()
        except ConditionFailed:
            # A concurrent reset-all won: start from the epoch it made.
            epoch = current_epoch(site.site_key)
            continue
        # Every credit of `epoch` checked an epoch shard in its transaction,
        # and this transaction moved all of them: none can land after it, so
        # the count is final.
        return count_nonzero(site.site_key, epoch)


def top(site: SiteInfo, count: int, order: str) -> list[dict[str, object]]:
    epoch = site.epoch
    index = {"total": User.by_total, "balance": User.by_balance,
             "withdrawn": User.by_withdrawn}[order]
    sort_key = index.Meta.index_name.replace("by_", "ord_")
    # Each shard is sorted; the first `count` overall are among each one's first `count`.
    shards = [index.query(index_pk(site.site_key, epoch, shard), limit=count, page_size=count)
              for shard in range(INDEX_SHARDS)]
    merged = heapq.merge(*shards, key=lambda item: getattr(item, sort_key))
    return [_public(item) for item in itertools.islice(merged, count)]


def _public(item: User) -> dict[str, object]:
    total, withdrawn = int(item.total), int(item.withdrawn)
    return {"name": item.name, "total": total, "withdrawn": withdrawn,
            "balance": total - withdrawn}


def encode_page(epoch: int, last_name: str) -> str:
    raw = json.dumps([epoch, last_name], ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page(page: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(page + "=" * (-len(page) % 4))
        epoch, name = json.loads(raw.decode("utf-8"))
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not isinstance(name, str):
            raise ValueError("cursor shape")
        return epoch, name
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidPage("malformed page") from None


# A page's JSON stays well under Lambda's 6 MB answer limit.
_MAX_PAGE_BYTES = 4 * 1024 * 1024


def list_users(site: SiteInfo, count: int, page: str | None) -> tuple[list[dict[str, object]], str | None]:
    epoch = site.epoch
    after = None
    if page:
        cursor_epoch, after = decode_page(page)
        if cursor_epoch != epoch:
            raise InvalidPage("a reset-all made this page stale")
    condition = User.ord_name > after if after is not None else None
    users: list[dict[str, object]] = []
    size = 0
    more = False
    shards = [User.by_name.query(index_pk(site.site_key, epoch, shard), condition,
                                 limit=count + 1, page_size=count + 1)
              for shard in range(INDEX_SHARDS)]
    # Names sort the same as Python strings and as DynamoDB's UTF-8 bytes.
    for item in heapq.merge(*shards, key=lambda item: item.ord_name):
        if len(users) == count or size > _MAX_PAGE_BYTES:
            more = True
            break
        entry = _public(item)
        size += len(str(entry["name"]).encode("utf-8")) + 80
        users.append(entry)
    next_page = encode_page(epoch, str(users[-1]["name"])) if more and users else None
    return users, next_page
