"""Users' ledgers: credit, withdraw, reset, reset-all (epochs).

A user item holds its epoch, total, withdrawn and balance (= total -
withdrawn, kept by the same writes); an item of an older epoch than the
site's reads as zero (that is how reset-all finishes in bounded time).
Every write lets DynamoDB do the arithmetic (`ADD`) under a condition
(`balance >= :amount`, `epoch = :epoch`); a failed condition returns the item as it
was, which picks the next variant or the contract error — no read first,
no version to compare. Top and list read the rank entries that
ranks.py maintains off the request path.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import InsufficientFunds, InternalError, UnknownUser
from chalicelib.sites import SiteInfo
from chalicelib.store import deadline
from chalicelib.store.models import Site, User
from chalicelib.store.transactions import ConditionFailed, Transaction

if TYPE_CHECKING:  # passed in by the calls that take an idempotency_key, which import it
    from chalicelib.store.idempotency import IdempotencyKey

# Users of an epoch with a non-zero total, counted over shards (reset-all's
# `affected`); written only when a user moves between zero and non-zero.
COUNTER_SHARDS = 16
# The site's epoch, copied over shards: every share reads one (consistently)
# and one item takes ~3,000 strongly consistent reads/s.
EPOCH_SHARDS = 8
# reset-all waits this long after moving the epoch before it counts and
# answers: a share that read the old epoch just before has committed by then
# (mining.py re-checks a share whose commit took longer than half of it).
RESET_ALL_GRACE_SECONDS = 1.0
# Variants a credit may switch through: steady -> first -> steady.
_CREDIT_ROUNDS = 4


@dataclass(frozen=True)
class UserState:
    """A user as read: `exists` false when there is no item at all."""

    name: str
    exists: bool
    epoch: int
    total: int
    withdrawn: int

    def in_epoch(self, epoch: int) -> UserState:
        """The user as seen in `epoch`: an older epoch's figures read as zero."""
        if self.exists and self.epoch != epoch:
            return UserState(self.name, True, epoch, 0, 0)
        return self

    @property
    def balance(self) -> int:
        return self.total - self.withdrawn

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "total": self.total, "withdrawn": self.withdrawn,
                "balance": self.balance}


def state_of(name: str, item: User | None) -> UserState:
    """A user from its item (None = no item)."""
    if item is None:
        return UserState(name, False, 0, 0, 0)
    return UserState(name, True, int(item.epoch or 0), int(item.total or 0),
                     int(item.withdrawn or 0))


def read_user(site_key: str, name: str) -> UserState:
    try:
        item = User.get(User.user_pk(site_key, name), consistent_read=True)
    except DoesNotExist:
        return state_of(name, None)
    return state_of(name, item)


def current_epoch(site_key: str) -> int:
    """The site's epoch, read consistently from one of its shards (none yet = 0)."""
    try:
        item = Site.get(Site.epoch_pk(site_key, random.randrange(EPOCH_SHARDS)),
                        consistent_read=True)
    except DoesNotExist:
        return 0
    return int(item.epoch or 0)


def _counter(tx: Transaction, site_key: str, epoch: int, delta: int) -> None:
    shard = User(User.counter_pk(site_key, epoch, random.randrange(COUNTER_SHARDS)))
    tx.update("counter", shard, [User.users.add(delta)])


def stage_credit(tx: Transaction, site_key: str, epoch: int, name: str, hashes: int,
                 *, first: bool) -> None:
    """Add to `tx` a credit of `hashes` to a user in `epoch` (label "user").

    Steady (`first=False`): the user already has a non-zero total in this
    epoch: `ADD total, balance`. First: the user is new, of an older epoch, or reset
    to zero: its figures start at `hashes` and the epoch's count of
    non-zero users goes up by one.
    """
    item = User(User.user_pk(site_key, name))
    if not first:
        tx.update("user", item, [User.total.add(hashes), User.balance.add(hashes)],
                  (User.epoch == epoch) & (User.total > 0))
        return
    tx.update("user", item,
              [User.name.set(name), User.epoch.set(epoch), User.total.set(hashes),
               User.withdrawn.set(0), User.balance.set(hashes)],
              User.pk.does_not_exist() | (User.epoch < epoch)
              | ((User.epoch == epoch) & (User.total == 0)))
    _counter(tx, site_key, epoch, +1)


def credit_variant(old: User | None, epoch: int) -> bool | None:
    """After a failed credit, from the item as it was: first variant? None = stale epoch."""
    state = state_of("", old)
    if state.exists and state.epoch > epoch:
        return None
    return not state.exists or state.epoch < epoch or state.total == 0


def credit(site: SiteInfo, name: str, hashes: int) -> None:
    """Credit outside a share (tests, benchmarks); shares use stage_credit."""
    epoch, first = current_epoch(site.site_key), False
    for _ in range(_CREDIT_ROUNDS):
        tx = Transaction()
        stage_credit(tx, site.site_key, epoch, name, hashes, first=first)
        try:
            tx.commit()
            return
        except ConditionFailed as failed:
            variant = credit_variant(failed.item("user", User), epoch)
            if variant is None:
                epoch, first = current_epoch(site.site_key), False
            else:
                first = variant
    raise InternalError("credit kept changing variant")


def balance(site: SiteInfo, name: str) -> UserState:
    state = read_user(site.site_key, name)
    if not state.exists:
        raise UnknownUser(name)
    # `site` was read (consistently) by authenticate() for this request.
    return state.in_epoch(site.epoch)


def withdraw(site: SiteInfo, name: str, amount: int, request_id: str,
             idem: IdempotencyKey | None = None) -> None:
    """Withdraw atomically: `ADD withdrawn, -balance` under `balance >= amount` in the site's epoch.

    A one-item transaction whose ClientRequestToken is the request's id:
    a retry after a lost answer replays as success, never withdraws twice.
    With an idempotency key, its record is written in the same transaction.
    """
    epoch = site.epoch
    for attempt in range(1, 4):
        tx = Transaction(client_request_token=request_id + f"-{epoch}")
        tx.update("user", User(User.user_pk(site.site_key, name)),
                  [User.withdrawn.add(amount), User.balance.add(-amount)],
                  (User.epoch == epoch) & (User.balance >= amount))
        if idem:
            idem.stage(tx)
        try:
            tx.commit()
            return
        except ConditionFailed as failed:
            if idem and idem.replay(failed):
                return
            state = state_of(name, failed.item("user", User))
            if state.exists and state.epoch > epoch:  # a reset-all since authenticate()
                epoch = current_epoch(site.site_key)
                deadline.pause(attempt, "epoch kept moving")
                continue
            error = UnknownUser(name) if not state.exists else InsufficientFunds(name)
            raise (idem.remember(error) if idem else error) from None
    raise InternalError("withdraw: epoch kept moving")


def reset(site: SiteInfo, name: str, request_id: str) -> None:
    """Set a user's figures to zero (a user of an older epoch already reads as zero)."""
    epoch = site.epoch
    for attempt in range(1, 4):
        tx = Transaction(client_request_token=request_id + f"-{epoch}")
        tx.update("user", User(User.user_pk(site.site_key, name)),
                  [User.total.set(0), User.withdrawn.set(0), User.balance.set(0)],
                  (User.epoch == epoch) & (User.total > 0))
        _counter(tx, site.site_key, epoch, -1)
        try:
            tx.commit()
            return
        except ConditionFailed as failed:
            state = state_of(name, failed.item("user", User))
            if state.exists and state.epoch > epoch:
                epoch = current_epoch(site.site_key)
                deadline.pause(attempt, "epoch kept moving")
                continue
            return  # nothing to reset: absent, older epoch, or already zero
    raise InternalError("reset: epoch kept moving")


def _figures_are(seen: UserState) -> Any:
    """The user's item still holds the figures read."""
    return ((User.epoch == seen.epoch) & (User.total == seen.total)
            & (User.withdrawn == seen.withdrawn))


def set_figures(site: SiteInfo, name: str, total: int, withdrawn: int) -> UserState:
    """Set a user's figures outright (admin import of a Coinhive export).

    Operator-only: conditioned on the figures just read, so a concurrent
    credit makes it try again rather than be overwritten.
    """
    for attempt in range(1, 20):
        epoch = current_epoch(site.site_key)
        seen = read_user(site.site_key, name)
        now = seen.in_epoch(epoch)
        tx = Transaction()
        if seen.exists:
            condition = _figures_are(seen)
        else:
            condition = User.pk.does_not_exist()
        tx.update("user", User(User.user_pk(site.site_key, name)),
                  [User.name.set(name), User.epoch.set(epoch), User.total.set(total),
                   User.withdrawn.set(withdrawn), User.balance.set(total - withdrawn)], condition)
        delta = int(total > 0) - int(now.total > 0)
        if delta:
            _counter(tx, site.site_key, epoch, delta)
        try:
            tx.commit()
            return UserState(name, True, epoch, total, withdrawn)
        except ConditionFailed:
            deadline.pause(attempt, "import kept conflicting")
    raise InternalError("import kept conflicting")


def delete_user(site: SiteInfo, name: str) -> bool:
    """Erase a user's item (erasure on request). True if there was one."""
    for attempt in range(1, 20):
        epoch = current_epoch(site.site_key)
        seen = read_user(site.site_key, name)
        if not seen.exists:
            return False
        tx = Transaction()
        tx.delete("user", User(User.user_pk(site.site_key, name)), _figures_are(seen))
        if seen.in_epoch(epoch).total > 0:
            _counter(tx, site.site_key, epoch, -1)
        try:
            tx.commit()
            return True
        except ConditionFailed:
            deadline.pause(attempt, "delete kept conflicting")
    raise InternalError("user delete kept conflicting")


def count_nonzero(site_key: str, epoch: int) -> int:
    keys = [User.counter_pk(site_key, epoch, k) for k in range(COUNTER_SHARDS)]
    return sum(int(item.users or 0) for item in User.batch_get(keys, consistent_read=True))


def _epoch_shard_is(epoch: int) -> Any:
    """An epoch shard holds `epoch` (a shard never written holds epoch 0)."""
    condition = Site.epoch == epoch
    return condition | Site.pk.does_not_exist() if epoch == 0 else condition


def reset_all(site: SiteInfo, grace: float | None = None) -> int:
    """Start a new epoch; answers how many users had a non-zero total."""
    grace = RESET_ALL_GRACE_SECONDS if grace is None else grace
    epoch = site.epoch  # read by authenticate() for this request
    for attempt in range(1, 20):
        tx = Transaction()
        tx.update("site", Site(Site.pk_for(site.site_key)),
                  [Site.epoch.set(epoch + 1), Site.updated.set(int(time.time()))],
                  Site.epoch == epoch)
        for k in range(EPOCH_SHARDS):
            tx.update(f"shard{k}", Site(Site.epoch_pk(site.site_key, k)),
                      [Site.epoch.set(epoch + 1)], _epoch_shard_is(epoch))
        try:
            tx.commit()
        except ConditionFailed as failed:
            # A concurrent reset-all won: start from the epoch it made.
            old = failed.item("site", Site)
            epoch = int(old.epoch or 0) if old else current_epoch(site.site_key)
            deadline.pause(attempt, "reset-all kept conflicting")
            continue
        # Shares read an epoch shard, then commit: wait until any that read
        # the old epoch has committed, so the count below includes it and
        # nothing credited after this answer lands in the old epoch.
        time.sleep(grace)
        return count_nonzero(site.site_key, epoch)
    raise InternalError("reset-all kept conflicting")
