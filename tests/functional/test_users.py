"""docs/contract.md §1: /user/balance, withdraw, reset, reset-all, top, list."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures import create_site, credit
from tests.functional.store import as_secret, aws, put_users  # noqa: F401 - aws: the shared store


def fail(code: str) -> dict[str, Any]:
    return {"success": False, "error": code}


def user(name: str, total: int, withdrawn: int = 0) -> dict[str, Any]:
    return {"name": name, "total": total, "withdrawn": withdrawn, "balance": total - withdrawn}


def utf8_order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: n.encode("utf-8"))


# Names whose UTF-8 byte order differs from UTF-16 order (U+FF5A before
# U+1F600 in UTF-8, after it in UTF-16) and from case-insensitive order.
ODD_NAMES = ["bob", "Zed", "alice", "émile", "ｚｅｎ", "😀smile", "b", "ba", "Émile", "日本"]


# --- /user/balance ---------------------------------------------------------------------

def test_balance_of_unknown_user(api):
    assert api.get("/user/balance", name="nobody") == fail("unknown_user")


def test_balance_after_first_credit(api):
    credit(api.site.site_key, "alice", 1234)
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 1234)}


def test_balance_missing_name(api):
    assert api.get("/user/balance") == fail("missing_input")


def test_balance_is_per_site(api):
    other = create_site("other")
    credit(other.site_key, "alice", 5)
    assert api.get("/user/balance", name="alice") == fail("unknown_user")


# --- /user/withdraw --------------------------------------------------------------------

def test_withdraw(api):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice", amount=30) == {
        "success": True, "name": "alice", "amount": 30}
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100, 30)}


def test_withdraw_the_whole_balance_then_nothing_more(api):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice", amount=100)["success"] is True
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100, 100)}
    assert api.post("/user/withdraw", name="alice", amount=1) == fail("insufficent_funds")


@pytest.mark.parametrize("amount", ["0", "-1", "1.5", "abc", "true", "1e3", "0x10", " ", "1 2",
                                    str(2**53), str(2**64), "9" * 41, "-" + "9" * 41])
def test_withdraw_invalid_amount(api, amount):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice", amount=amount) == fail("invalid_amount")
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100)}


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, False, 2**53, "abc", [1], {"n": 1},
                                    "5", "100", "1"])
def test_withdraw_invalid_json_amount(api, amount):
    # A JSON amount is a JSON integer: a string of digits is no amount.
    credit(api.site.site_key, "alice", 100)
    body = json.dumps({"secret": api.site.secret, "name": "alice", "amount": amount})
    assert api.raw("POST", "/user/withdraw", body, {"Content-Type": "application/json"}) == \
        fail("invalid_amount")
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100)}


def test_withdraw_largest_amount_is_valid(api):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice", amount=2**53 - 1) == fail("insufficent_funds")


@pytest.mark.parametrize("amount", ["2.0", "1e3", "1E0", "0.9999999999999999999", "5e-0", "-0.0"])
def test_withdraw_json_non_integer_is_invalid_amount(api, amount):
    # A JSON amount is an integer: no fraction, no exponent, even one a float would round.
    credit(api.site.site_key, "alice", 100)
    body = '{"secret": "%s", "name": "alice", "amount": %s}' % (api.site.secret, amount)  # noqa: UP031
    assert api.raw("POST", "/user/withdraw", body, {"Content-Type": "application/json"}) == \
        fail("invalid_amount")
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100)}


@pytest.mark.parametrize("amount", [" 5", "5 ", "+5", "05", "007", "5\n", "\u00a05", "5\u00a0",
                                    "\uff15", "\u0665", "\u00b2", "0x5", "5_0"])
def test_withdraw_amount_is_ascii_digits_only(api, amount):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice", amount=amount) == fail("invalid_amount")
    assert as_secret(api, api.site.secret, "/user/withdraw", "POST", name="alice",
                     amount=amount) == fail("invalid_amount")
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100)}


def test_withdraw_more_than_balance_changes_nothing(api):
    credit(api.site.site_key, "alice", 100)
    api.post("/user/withdraw", name="alice", amount=40)
    assert api.post("/user/withdraw", name="alice", amount=61) == fail("insufficent_funds")
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 100, 40)}


def test_withdraw_unknown_user(api):
    assert api.post("/user/withdraw", name="nobody", amount=1) == fail("unknown_user")
    assert api.get("/user/balance", name="nobody") == fail("unknown_user")


def test_withdraw_missing_input(api):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/withdraw", name="alice") == fail("missing_input")
    assert api.post("/user/withdraw", amount=1) == fail("missing_input")
    assert api.post("/user/withdraw") == fail("missing_input")


# --- /user/reset -----------------------------------------------------------------------

def test_reset_zeroes_the_user_who_still_exists(api):
    credit(api.site.site_key, "alice", 100)
    api.post("/user/withdraw", name="alice", amount=25)
    assert api.post("/user/reset", name="alice") == {"success": True}
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 0)}
    assert api.get("/user/top")["users"] == []
    credit(api.site.site_key, "alice", 7)
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 7)}


def test_reset_unknown_name_succeeds_and_creates_nobody(api):
    assert api.post("/user/reset", name="nobody") == {"success": True}
    assert api.get("/user/balance", name="nobody") == fail("unknown_user")


def test_reset_twice(api):
    credit(api.site.site_key, "alice", 100)
    assert api.post("/user/reset", name="alice") == {"success": True}
    assert api.post("/user/reset", name="alice") == {"success": True}
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 0)}


def test_reset_missing_name(api):
    assert api.post("/user/reset") == fail("missing_input")


# --- /user/reset-all -------------------------------------------------------------------

def test_reset_all_counts_users_with_non_zero_figures(api):
    credit(api.site.site_key, "alice", 100)
    credit(api.site.site_key, "bob", 50)
    credit(api.site.site_key, "carol", 10)
    api.post("/user/withdraw", name="bob", amount=50)   # balance 0, still counted
    api.post("/user/reset", name="carol")               # already zero: not counted
    assert api.post("/user/reset-all") == {"success": True, "affected": 2}
    for name in ("alice", "bob", "carol"):
        assert api.get("/user/balance", name=name) == {"success": True, **user(name, 0)}
    assert api.get("/user/top") == {"success": True, "users": []}
    assert api.get("/user/list") == {"success": True, "users": [], "nextPage": None}


def test_reset_all_with_nobody(api):
    assert api.post("/user/reset-all") == {"success": True, "affected": 0}
    assert api.post("/user/reset-all") == {"success": True, "affected": 0}


def test_reset_all_again_counts_only_new_credits(api):
    credit(api.site.site_key, "alice", 100)
    credit(api.site.site_key, "bob", 100)
    assert api.post("/user/reset-all") == {"success": True, "affected": 2}
    assert api.post("/user/reset-all") == {"success": True, "affected": 0}
    credit(api.site.site_key, "bob", 3)
    credit(api.site.site_key, "dave", 4)
    assert api.get("/user/balance", name="bob") == {"success": True, **user("bob", 3)}
    assert api.get("/user/top")["users"] == [user("dave", 4), user("bob", 3)]
    assert api.post("/user/reset-all") == {"success": True, "affected": 2}


def test_credits_after_reset_all_land(api):
    credit(api.site.site_key, "alice", 100)
    api.post("/user/withdraw", name="alice", amount=60)
    api.post("/user/reset-all")
    credit(api.site.site_key, "alice", 5)
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 5)}
    assert api.post("/user/withdraw", name="alice", amount=6) == fail("insufficent_funds")
    assert api.post("/user/withdraw", name="alice", amount=5)["success"] is True
    assert api.get("/user/list")["users"] == [user("alice", 5, 5)]


def test_reset_all_is_per_site(api):
    other = create_site("other")
    credit(other.site_key, "alice", 9)
    credit(api.site.site_key, "alice", 1)
    assert api.post("/user/reset-all") == {"success": True, "affected": 1}
    assert api.get("/user/balance", name="alice") == {"success": True, **user("alice", 0)}
    assert as_secret(api, other.secret, "/user/balance", name="alice") == {
        "success": True, **user("alice", 9)}


def test_reset_then_reset_all(api):
    credit(api.site.site_key, "alice", 10)
    credit(api.site.site_key, "bob", 10)
    api.post("/user/reset", name="alice")
    credit(api.site.site_key, "alice", 2)   # non-zero again: counted
    api.post("/user/reset", name="bob")
    assert api.post("/user/reset-all") == {"success": True, "affected": 1}


# --- /user/top -------------------------------------------------------------------------

def test_top_lists_only_users_with_a_total(api):
    credit(api.site.site_key, "alice", 10)
    credit(api.site.site_key, "bob", 20)
    credit(api.site.site_key, "carol", 5)
    api.post("/user/reset", name="carol")
    assert api.get("/user/top") == {"success": True,
                                    "users": [user("bob", 20), user("alice", 10)]}


def test_top_by_each_field(api):
    for name, total, withdrawn in (("a", 100, 90), ("b", 50, 0), ("c", 70, 30), ("d", 60, 60)):
        credit(api.site.site_key, name, total)
        if withdrawn:
            api.post("/user/withdraw", name=name, amount=withdrawn)
    a, b, c, d = user("a", 100, 90), user("b", 50), user("c", 70, 30), user("d", 60, 60)
    assert api.get("/user/top")["users"] == [a, c, d, b]
    assert api.get("/user/top", order="total")["users"] == [a, c, d, b]
    assert api.get("/user/top", order="balance")["users"] == [b, c, a, d]
    assert api.get("/user/top", order="withdrawn")["users"] == [a, d, c, b]


@pytest.mark.parametrize("order", ["total", "balance", "withdrawn"])
def test_top_ties_by_ascending_utf8_name(api, order):
    for name in ODD_NAMES:
        credit(api.site.site_key, name, 7)
    credit(api.site.site_key, "rich", 8)
    expected_names = utf8_order(ODD_NAMES)
    assert expected_names.index("ｚｅｎ") < expected_names.index("😀smile")
    users = api.get("/user/top", order=order)["users"]
    if order == "withdrawn":  # everyone has withdrawn 0: a single tie
        assert [u["name"] for u in users] == utf8_order(ODD_NAMES + ["rich"])
    else:
        assert users == [user("rich", 8)] + [user(n, 7) for n in expected_names]


def test_top_count(api):
    put_users(api.site.site_key, {f"u{i:04d}": (5000 - i, 0) for i in range(1030)})
    names = [f"u{i:04d}" for i in range(1030)]
    assert [u["name"] for u in api.get("/user/top")["users"]] == names[:128]
    assert [u["name"] for u in api.get("/user/top", count=3)["users"]] == names[:3]
    assert [u["name"] for u in api.get("/user/top", count=0)["users"]] == names[:1]
    # A negative count is an integer out of range, in JSON and in a form or query: clamped.
    body = json.dumps({"secret": api.site.secret, "count": -7})
    top = api.raw("POST", "/user/top", body, {"Content-Type": "application/json"})["users"]
    assert [u["name"] for u in top] == names[:1]
    assert [u["name"] for u in api.get("/user/top", count=-5)["users"]] == names[:1]
    assert [u["name"] for u in api.get("/user/top", count="-" + "9" * 60)["users"]] == names[:1]
    assert len(api.get("/user/top", count=1024)["users"]) == 1024
    top = api.get("/user/top", count=5000)["users"]
    assert len(top) == 1024
    assert top[-1] == user("u1023", 5000 - 1023)


@pytest.mark.parametrize("count", ["1.5", "abc", "1e3", "ten", "0x10", "[]"])
def test_top_non_integer_count(api, count):
    assert api.get("/user/top", count=count) == fail("bad_request")


@pytest.mark.parametrize("order", ["name", "Total", "asc", "desc", "total ", "balance,total"])
def test_top_bad_order(api, order):
    assert api.get("/user/top", order=order) == fail("bad_request")


def test_top_empty(api):
    assert api.get("/user/top") == {"success": True, "users": []}


# --- /user/list ------------------------------------------------------------------------

def walk(api, count: Any = None) -> list[list[dict[str, Any]]]:
    pages, page = [], ""
    while True:
        params = {"page": page} if page else {}
        if count is not None:
            params["count"] = count
        answer = api.get("/user/list", **params)
        assert answer["success"] is True and set(answer) == {"success", "users", "nextPage"}
        pages.append(answer["users"])
        if answer["nextPage"] is None:
            return pages
        page = answer["nextPage"]
        assert isinstance(page, str) and page


def test_list_ascending_utf8_order_only_users_with_a_total(api):
    for i, name in enumerate(ODD_NAMES):
        credit(api.site.site_key, name, i + 1)
    credit(api.site.site_key, "zero", 1)
    api.post("/user/reset", name="zero")
    totals = {name: i + 1 for i, name in enumerate(ODD_NAMES)}
    assert api.get("/user/list") == {
        "success": True, "nextPage": None,
        "users": [user(name, totals[name]) for name in utf8_order(ODD_NAMES)]}


def test_list_pages_hold_exactly_count_and_walk_yields_each_user_once(api):
    names = [f"user{i:03d}" for i in range(100)]
    put_users(api.site.site_key, {name: (i + 1, i % 3) for i, name in enumerate(names)})
    pages = walk(api, count=32)
    assert [len(p) for p in pages] == [32, 32, 32, 4]
    assert [u["name"] for p in pages for u in p] == names
    assert pages[0][1] == user("user001", 2, 1)


def test_list_exact_multiple_of_count(api):
    names = [f"n{i:03d}" for i in range(64)]
    put_users(api.site.site_key, {name: (1, 0) for name in names})
    pages = walk(api, count=32)
    assert [len(p) for p in pages] == [32, 32]
    assert [u["name"] for p in pages for u in p] == names


@pytest.mark.parametrize("count", [1, 0, 31])
def test_list_count_clamped_up_to_32(api, count):
    put_users(api.site.site_key, {f"n{i:03d}": (1, 0) for i in range(40)})
    answer = api.get("/user/list", count=count)
    assert len(answer["users"]) == 32
    assert answer["nextPage"] is not None


def test_list_default_count_is_4096(api):
    names = [f"n{i:05d}" for i in range(4097)]
    put_users(api.site.site_key, {name: (1, 0) for name in names})
    first = api.get("/user/list")
    assert [u["name"] for u in first["users"]] == names[:4096]
    assert api.get("/user/list", page=first["nextPage"]) == {
        "success": True, "users": [user("n04096", 1)], "nextPage": None}


def test_list_count_clamped_down_to_8192(api):
    names = [f"n{i:05d}" for i in range(8193)]
    put_users(api.site.site_key, {name: (1, 0) for name in names})
    big = api.get("/user/list", count=100_000)
    assert [u["name"] for u in big["users"]] == names[:8192]
    assert api.get("/user/list", count=8193, page=big["nextPage"]) == {
        "success": True, "users": [user("n08192", 1)], "nextPage": None}


@pytest.mark.parametrize("count", ["1.5", "abc", "many"])
def test_list_non_integer_count(api, count):
    assert api.get("/user/list", count=count) == fail("bad_request")


def test_list_empty(api):
    assert api.get("/user/list") == {"success": True, "users": [], "nextPage": None}


def test_list_walk_sees_users_with_a_total_throughout_exactly_once(api):
    names = [f"w{i:03d}" for i in range(70)]
    for name in names[:40]:
        credit(api.site.site_key, name, 1)
    first = api.get("/user/list", count=32)
    # Changes during the walk: new users, credits, withdrawals, a reset.
    credit(api.site.site_key, "w000", 5)       # already seen
    credit(api.site.site_key, "w035", 5)       # not yet seen
    credit(api.site.site_key, "a-new", 1)      # sorts before the cursor
    credit(api.site.site_key, "z-new", 1)      # sorts after it
    api.post("/user/reset", name="w039")
    rest = api.get("/user/list", count=32, page=first["nextPage"])
    assert rest["nextPage"] is None
    seen = [u["name"] for u in first["users"] + rest["users"]]
    assert len(seen) == len(set(seen))
    assert set(names[:39]) <= set(seen)
    assert "z-new" in seen and "a-new" not in seen and "w039" not in seen


def test_reset_all_during_walk_invalidates_the_cursor(api):
    put_users(api.site.site_key, {f"n{i:03d}": (1, 0) for i in range(40)})
    first = api.get("/user/list", count=32)
    api.post("/user/reset-all")
    assert api.get("/user/list", count=32, page=first["nextPage"]) == fail("invalid_page")
    credit(api.site.site_key, "n001", 1)
    assert api.get("/user/list", count=32, page=first["nextPage"]) == fail("invalid_page")
    assert api.get("/user/list") == {"success": True, "users": [user("n001", 1)],
                                     "nextPage": None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("page", [
    "garbage", "!!!", "%%%", "x" * 3000, "e30", _b64(b"[]"), _b64(b'[0]'), _b64(b'[0, 1]'),
    _b64(b'["0", "a"]'), _b64(b'[true, "a"]'), _b64(b'[0, "a", 1]'), _b64(b'{"a": 1, "b": 2}'),
    _b64(b"\xff\xfe"), _b64(b"null"), _b64(b'[5, "a"]'),
])
def test_list_garbage_page(api, page):
    credit(api.site.site_key, "alice", 1)
    assert api.get("/user/list", page=page) == fail("invalid_page")


def test_list_page_is_opaque_but_not_cross_site(api):
    other = create_site("other")
    put_users(other.site_key, {f"n{i:03d}": (1, 0) for i in range(40)})
    put_users(api.site.site_key, {f"m{i:03d}": (1, 0) for i in range(40)})
    page = as_secret(api, other.secret, "/user/list", count=32)["nextPage"]
    answer = api.get("/user/list", count=32, page=page)
    # Never another site's users, whatever the cursor.
    assert all(u["name"].startswith("m") for u in answer["users"])


# --- names -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a" * 256, "😀" * 256, "é" * 256, "日" * 128 + "😀" * 128])
def test_names_of_256_code_points(api, name):
    credit(api.site.site_key, name, 10)
    assert api.get("/user/balance", name=name) == {"success": True, **user(name, 10)}
    assert api.post("/user/withdraw", name=name, amount=3) == {
        "success": True, "name": name, "amount": 3}
    assert api.get("/user/top")["users"] == [user(name, 10, 3)]
    assert api.get("/user/list")["users"] == [user(name, 10, 3)]
    assert api.post("/user/reset", name=name) == {"success": True}


@pytest.mark.parametrize("name", ["a" * 257, "😀" * 257, "é" * 300, "n" * 5000])
def test_names_over_256_code_points(api, name):
    assert api.get("/user/balance", name=name) == fail("bad_request")
    assert api.post("/user/withdraw", name=name, amount=1) == fail("bad_request")
    assert api.post("/user/reset", name=name) == fail("bad_request")


def test_long_names_sharing_a_prefix_keep_their_order(api):
    # 256 four-byte characters: the top sort key is truncated, the order stays.
    base = "😀" * 255
    names = [base + "b", base + "a", base + "😀", base + "ｚ"]
    for name in names:
        credit(api.site.site_key, name, 1)
    assert [u["name"] for u in api.get("/user/list")["users"]] == utf8_order(names)


def test_balance_is_total_minus_withdrawn_for_every_user(api):
    site = api.site.site_key
    for i in range(12):
        credit(site, f"u{i}", 10 * (i + 1))
    for i in range(0, 12, 2):
        api.post("/user/withdraw", name=f"u{i}", amount=5 * (i + 1))
    api.post("/user/reset", name="u3")
    api.post("/user/withdraw", name="u5", amount=1000)  # refused
    credit(site, "u3", 4)
    for answer in api.get("/user/list")["users"] + api.get("/user/top", order="balance")["users"]:
        assert answer["balance"] == answer["total"] - answer["withdrawn"]
        assert api.get("/user/balance", name=answer["name"]) == {"success": True, **answer}
    for i in range(12):
        got = api.get("/user/balance", name=f"u{i}")
        assert got["balance"] == got["total"] - got["withdrawn"] >= 0
