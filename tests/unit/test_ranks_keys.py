"""Pure ledger and rank logic: keys, sort keys and list cursors (no AWS)."""
from __future__ import annotations

import base64
import random

import pytest

from chalicelib.errors import InvalidPage
from chalicelib.ledger import UserState
from chalicelib.params import MAX_SAFE_INTEGER
from chalicelib.ranks import decode_page, encode_page, order_key
from chalicelib.store.models import User, name_hash

NAMES = ["a", "b", "ba", "B", "Zed", "é", "É", "ｚ", "😀", "日本", "a b", "a\u0000", "~"]


def dynamo_order(key: str) -> bytes:
    """DynamoDB compares string keys by their UTF-8 bytes."""
    return key.encode("utf-8")


def test_order_key_descending_by_value_then_ascending_utf8_name():
    rng = random.Random(7)
    entries = [(rng.choice([0, 1, 5, 1000, 2**31, MAX_SAFE_INTEGER]), name) for name in NAMES
               for _ in range(2)]
    entries = list(set(entries))
    by_key = sorted(entries, key=lambda e: dynamo_order(order_key(*e)))
    expected = sorted(entries, key=lambda e: (-e[0], e[1].encode("utf-8")))
    assert by_key == expected


def test_order_key_utf8_order_differs_from_utf16():
    # U+FF5A sorts before U+1F600 in UTF-8 (EF.. < F0..), after it in UTF-16.
    assert dynamo_order(order_key(1, "ｚ")) < dynamo_order(order_key(1, "😀"))


def test_order_key_extremes():
    assert order_key(MAX_SAFE_INTEGER, "x") == "0" * 14 + "x"
    assert order_key(0, "x") == f"{MAX_SAFE_INTEGER:014x}x"
    assert len(order_key(12345, "")) == 14


@pytest.mark.parametrize("name", ["a" * 256, "😀" * 256, "é" * 256, "日" * 256,
                                  "a" + "😀" * 255, "ab" + "😀" * 254, "abc" + "😀" * 253])
def test_order_key_fits_a_sort_key_and_cuts_on_a_character(name):
    key = order_key(7, name)
    kept = key[14:]
    assert len(key.encode("utf-8")) <= 1024
    # Whole characters only: the kept part is a prefix of the name (no character
    # cut in half, none replaced), and the longest that fits: the next one does not.
    assert name.startswith(kept)
    if kept != name:
        assert len(key.encode("utf-8")) + len(name[len(kept)].encode("utf-8")) > 1024


def test_truncated_keys_keep_the_order_of_their_prefixes():
    # Names that differ only after the kept bytes tie; everything else keeps order.
    long_a, long_b = "😀" * 255 + "a", "😀" * 255 + "b"
    assert order_key(1, long_a) <= order_key(1, long_b)
    assert dynamo_order(order_key(2, long_b)) < dynamo_order(order_key(1, long_a))


def test_keys_by_site_and_epoch():
    # The name is stored once per item (in `n`): keys carry a 128-bit hash of it.
    assert User.user_pk("S" * 32, "alice") == f"U#{'S' * 32}#{name_hash('alice')}"
    assert len(name_hash("😀" * 256)) == 22 and name_hash("a") != name_hash("b")
    assert User.user_pk("S" * 32, "😀" * 256).isascii()
    assert User.rank_pk("S" * 32, 3, name_hash("alice")) == f"R#{'S' * 32}#3#{name_hash('alice')}"
    assert User.rank_partition_for("S" * 32, 3, 1) == f"SITE#{'S' * 32}#E#3#1"
    assert User.rank_partition_for("S" * 32, 3, 1) != User.rank_partition_for("S" * 32, 4, 1)


def test_rank_shards_are_stable_and_spread():
    from chalicelib.ranks import RANK_SHARDS, rank_shard

    names = [f"user{i}" for i in range(800)]
    shards = [rank_shard(name_hash(n)) for n in names]
    assert shards == [rank_shard(name_hash(n)) for n in names]
    assert set(shards) == set(range(RANK_SHARDS))
    assert min(shards.count(k) for k in range(RANK_SHARDS)) > 800 / RANK_SHARDS / 2


@pytest.mark.parametrize("epoch,name", [(0, "a"), (7, "😀" * 256), (2**40, "名前 with spaces"),
                                        (1, ""), (3, '"quoted" \\ /'), (5, "a\u0000b")])
def test_page_cursor_round_trip(epoch, name):
    page = encode_page(epoch, name)
    assert page.isascii() and "=" not in page and "+" not in page and "/" not in page
    assert decode_page(page) == (epoch, name)


@pytest.mark.parametrize("page", [
    "", "!", "garbage", "@@@@", "e30",
    base64.urlsafe_b64encode(b"[1]").decode(),
    base64.urlsafe_b64encode(b'["1", "a"]').decode(),
    base64.urlsafe_b64encode(b'[true, "a"]').decode(),
    base64.urlsafe_b64encode(b"[1, 2]").decode(),
    base64.urlsafe_b64encode(b'[1, "a", 3]').decode(),
    base64.urlsafe_b64encode(b'{"x": 1, "y": 2}').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
])
def test_garbage_cursor(page):
    with pytest.raises(InvalidPage):
        decode_page(page)


def test_user_state_in_an_epoch():
    state = UserState("alice", True, 2, 100, 30)
    assert state.balance == 70
    assert state.in_epoch(2) == state
    reset = state.in_epoch(3)
    assert (reset.exists, reset.epoch, reset.total, reset.withdrawn) == (True, 3, 0, 0)
    missing = UserState("bob", False, 0, 0, 0)
    assert missing.in_epoch(9) == missing
    assert state.as_json() == {"name": "alice", "total": 100, "withdrawn": 30, "balance": 70}
