"""Top and list: rank entries kept off the request path, read merged.

The ledger's stream feeds `apply()`: for every user whose figures changed
in a batch it writes (or deletes) one rank entry (`User.rank_pk`)
carrying the sparse index keys — the partition (`User.rank_partition_for`)
and the order keys (fixed-width descending hex, then the name, so ties sort
by UTF-8 name) — so that a credit on the request path rewrites no index entry.
A user changed many times within one batch costs one rank write, so the
ledger's mapping gathers batches for up to 30 s (deploy/merge-template.json,
bench/rank_batching.py): rank entries trail the ledger by that and are exact once quiet.
"""
from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import json
from collections.abc import Iterable
from typing import Any

from chalicelib.errors import InvalidPage
from chalicelib.params import MAX_SAFE_INTEGER
from chalicelib.sites import SiteInfo
from chalicelib.store.models import User
from chalicelib.store.transactions import decode, serialize, write_each

# Index partitions per site-epoch: the stream consumer writes every active
# user's entry; one partition key takes ~1,000 write units/s.
RANK_SHARDS = 16
_ORDER_ATTR = {"total": "total_order", "balance": "balance_order",
               "withdrawn": "withdrawn_order"}
# The orders `top` takes (the `order` of /user/top and of the dashboard's users).
TOP_ORDERS = ("total", "balance", "withdrawn")
# Sort keys are at most 1024 bytes: 14 hex digits, then the name's UTF-8
# bytes, cut on a character boundary.
_ORDER_NAME_BYTES = 1024 - 14
# A page's JSON stays well under Lambda's 6 MB answer limit.
_MAX_PAGE_BYTES = 4 * 1024 * 1024


def rank_shard(name_digest: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(name_digest + "==")[:4], "big") % RANK_SHARDS


def order_key(value: int, name: str) -> str:
    """Sorts descending by value, then ascending by the name's UTF-8 bytes."""
    raw = name.encode("utf-8")[:_ORDER_NAME_BYTES].decode("utf-8", "ignore")
    return f"{MAX_SAFE_INTEGER - value:014x}{raw}"


# --- reading ---------------------------------------------------------------

def _public(item: User) -> dict[str, object]:
    total, withdrawn = int(item.total or 0), int(item.withdrawn or 0)
    return {"name": item.name, "total": total, "withdrawn": withdrawn,
            "balance": total - withdrawn}


def top(site: SiteInfo, count: int, order: str) -> list[dict[str, object]]:
    index = {"total": User.by_total, "balance": User.by_balance,
             "withdrawn": User.by_withdrawn}[order]
    attr = _ORDER_ATTR[order]
    # Each shard is sorted; the first `count` overall are among each one's
    # first `count`. Pages are lazy: a shard is read only as far as merged.
    page = min(count, count // RANK_SHARDS + 16)
    shards = [index.query(User.rank_partition_for(site.site_key, site.epoch, shard), limit=count,
                          page_size=page) for shard in range(RANK_SHARDS)]
    merged = heapq.merge(*shards, key=lambda item: getattr(item, attr))
    return [_public(item) for item in itertools.islice(merged, count)]


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


def list_users(site: SiteInfo, count: int, page: str | None,
               ) -> tuple[list[dict[str, object]], str | None]:
    epoch = site.epoch
    after = None
    if page:
        cursor_epoch, after = decode_page(page)
        if cursor_epoch != epoch:
            raise InvalidPage("a reset-all made this page stale")
    condition = User.name > after if after is not None else None
    page_size = min(count + 1, (count + 1) // RANK_SHARDS + 16)
    shards = [User.by_name.query(User.rank_partition_for(site.site_key, epoch, shard), condition,
                                 limit=count + 1, page_size=page_size)
              for shard in range(RANK_SHARDS)]
    users: list[dict[str, object]] = []
    size = 0
    more = False
    # Names sort the same as Python strings and as DynamoDB's UTF-8 bytes.
    for item in heapq.merge(*shards, key=lambda item: item.name):
        if len(users) == count or size > _MAX_PAGE_BYTES:
            more = True
            break
        entry = _public(item)
        size += len(str(entry["name"]).encode("utf-8")) + 80
        users.append(entry)
    next_page = encode_page(epoch, str(users[-1]["name"])) if more and users else None
    return users, next_page


# --- the ledger stream consumer -----------------------------------------------

def _figures(image: dict[str, Any] | None) -> tuple[int, int, int, str] | None:
    """(epoch, total, withdrawn, name) of a user image with a non-zero total."""
    user = decode(User, image)
    if user is None or user.total is None or user.name is None or user.total <= 0:
        return None
    return int(user.epoch or 0), int(user.total), int(user.withdrawn or 0), user.name


def _position(sequence_number: str) -> str:
    return sequence_number.rjust(40, "0")


def _newer_than_entry(position: str) -> Any:
    return User.stream_position.does_not_exist() | (User.stream_position < position)


def _put_entry(site_key: str, digest: str, figures: tuple[int, int, int, str],
               position: str) -> tuple[str, dict[str, Any]]:
    epoch, total, withdrawn, name = figures
    item = User(User.rank_pk(site_key, epoch, digest),
                rank_partition=User.rank_partition_for(site_key, epoch, rank_shard(digest)),
                name=name, total=total, withdrawn=withdrawn,
                total_order=order_key(total, name),
                balance_order=order_key(total - withdrawn, name),
                withdrawn_order=order_key(withdrawn, name),
                stream_position=position).serialize()
    # Older than what the entry reflects (a redelivered batch): skipped.
    return "PutItem", {"Item": item, **serialize(User, _newer_than_entry(position))}


def _delete_entry(site_key: str, epoch: int, digest: str,
                  position: str) -> tuple[str, dict[str, Any]]:
    return "DeleteItem", {"Key": {"pk": {"S": User.rank_pk(site_key, epoch, digest)}},
                          **serialize(User, _newer_than_entry(position))}


def apply(records: Iterable[dict[str, Any]]) -> int:
    """Bring rank entries up to date with a batch of ledger stream records.

    Returns how many entries were written or deleted. Idempotent: each
    entry remembers the stream position it reflects, and an older one
    never overwrites it.
    """
    first_old: dict[str, dict[str, Any] | None] = {}
    last: dict[str, tuple[dict[str, Any] | None, str]] = {}
    for record in records:
        change = record.get("dynamodb", {})
        pk = change.get("Keys", {}).get("pk", {}).get("S", "")
        if User.user_of(pk) is None:
            continue  # counters and rank entries themselves
        first_old.setdefault(pk, change.get("OldImage"))
        last[pk] = (change.get("NewImage"), _position(str(change.get("SequenceNumber", "0"))))
    writes: list[tuple[str, dict[str, Any]]] = []
    for pk, (new_image, position) in last.items():
        site_key, digest = User.user_of(pk) or ("", "")
        before, after = _figures(first_old[pk]), _figures(new_image)
        if before == after:
            continue
        if before and (not after or after[0] != before[0]):
            writes.append(_delete_entry(site_key, before[0], digest, position))
        if after:  # another epoch's entry than the one deleted: a distinct item
            writes.append(_put_entry(site_key, digest, after, position))
    write_each(User, writes)
    return len(writes)
