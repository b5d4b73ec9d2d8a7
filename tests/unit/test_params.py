"""Pure parameter logic: merging, integers, body decoding (no AWS, no app)."""
from __future__ import annotations

import json

import pytest

from chalicelib.errors import BadRequest, InvalidAmount, MissingInput
from chalicelib.params import (
    MAX_BODY_BYTES,
    MAX_SAFE_INTEGER,
    JsonNonInteger,
    Params,
    clamped_count,
    merge,
    parse_body,
    positive_amount,
    to_int,
)

FORM = "application/x-www-form-urlencoded"


# --- merge -----------------------------------------------------------------------------

def test_merge_body_wins_over_query():
    params = merge([("a", "q"), ("b", "q")], [("b", "body"), ("c", "body")])
    assert params.values == {"a": "q", "b": "body", "c": "body"}


def test_merge_last_repeat_wins():
    assert merge([("a", "1"), ("a", "2")], []).values == {"a": "2"}
    assert merge([], [("a", "1"), ("a", "2"), ("a", "3")]).values == {"a": "3"}


def test_merge_empty_string_and_null_are_absent():
    params = merge([("a", ""), ("b", "x")], [("c", None)])
    assert params.values == {"b": "x"}
    assert not params.has("a") and not params.has("c")
    assert params.raw_has("a") and params.raw_has("c") and not params.raw_has("zzz")


def test_merge_a_later_value_revives_an_empty_one():
    params = merge([("a", "")], [("a", "x")])
    assert params.values == {"a": "x"} and params.raw_has("a")


def test_merge_an_empty_value_overrides_nothing():
    # "Counts as absent": as if it had not been sent at all.
    params = merge([("name", "bob"), ("a", "1"), ("a", "")], [("name", "")])
    assert params.values == {"name": "bob", "a": "1"}


def test_merge_keeps_json_types():
    params = merge([], [("n", 5), ("b", True), ("f", 1.5)])
    assert params.values == {"n": 5, "b": True, "f": 1.5}


# --- to_int ----------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [
    # JSON integers (a sign is JSON's own grammar), and canonical ASCII digits.
    (0, 0), (7, 7), (-3, -3), (10**50, 10**50), ("0", 0), ("42", 42), (str(2**53), 2**53),
])
def test_to_int_accepts(value, expected):
    assert to_int(value) == expected


@pytest.mark.parametrize("value", [
    True, False, 1.5, 2.0, -0.0, float("inf"), float("nan"), "", " ", "1.5", "1e3", "0x10", "abc",
    "1 2", "--1", "+-1", "+42", "-42", " 9 ", " 5", "5 ", "5\n", "\u00a05", "5\u00a0", "007", "00",
    "0" * 100 + "5", "\uff15", "\u0665", "١٢", "²", "５", None, [1], {"a": 1}, b"1",
])
def test_to_int_refuses(value):
    with pytest.raises(BadRequest):
        to_int(value)


@pytest.mark.parametrize("body,value", [
    (b'{"n": 5}', 5), (b'{"n": -5}', -5), (b'{"n": 0}', 0), (b'{"n": 9007199254740991}', 2**53 - 1),
    (b'{"n": ' + b"9" * 5000 + b"}", 10**40),  # saturated: no int() of 5,000 digits
])
def test_json_integers_are_integers(body, value):
    assert to_int(dict(parse_body(body, "application/json"))["n"]) == value


@pytest.mark.parametrize("number", [b"5.0", b"1e3", b"1E3", b"0.9999999999999999999", b"-0.0",
                                    b"1e99999999999999999999", b"1.5", b"5e-1"])
def test_json_non_integers_are_never_integers(number):
    value = dict(parse_body(b'{"n": ' + number + b"}", "application/json"))["n"]
    assert isinstance(value, JsonNonInteger) and value.text == number.decode()
    with pytest.raises(InvalidAmount):
        to_int(value, InvalidAmount)
    with pytest.raises(BadRequest):
        Params({"n": value}).string("n")


@pytest.mark.parametrize("body", [b'{"n": NaN}', b'{"n": Infinity}', b'{"n": -Infinity}', b'{"n": 007}'])
def test_json_constants_and_leading_zeros_are_not_json(body):
    with pytest.raises(BadRequest):
        parse_body(body, "application/json")


def test_to_int_raises_the_callers_error():
    with pytest.raises(InvalidAmount):
        to_int("abc", InvalidAmount)
    with pytest.raises(InvalidAmount):
        to_int(True, InvalidAmount)


def test_to_int_saturates_long_integers():
    assert to_int("9" * 41) == 10**40
    assert to_int("1" * 100_000) == 10**40   # no int() of 100,000 digits
    assert to_int("9" * 40) == int("9" * 40)


# --- Params ----------------------------------------------------------------------------

def test_string_and_name():
    params = Params({"s": "hello", "n": 12, "b": True, "l": [1], "long": "x" * 300,
                     "emoji": "😀" * 256, "emoji257": "😀" * 257, "surrogate": "\ud800"})
    assert params.string("s") == "hello"
    assert params.string("n") == "12"
    assert params.string("nope", required=False) is None
    assert params.name("emoji") == "😀" * 256          # 256 code points, 1024 bytes
    for bad in ("b", "l", "emoji257", "surrogate"):
        with pytest.raises(BadRequest):
            params.name(bad)
    with pytest.raises(BadRequest):
        params.string("long", max_chars=299)
    with pytest.raises(MissingInput):
        params.string("nope")
    with pytest.raises(MissingInput):
        params.name("nope")


def test_positive_amount():
    assert positive_amount(Params({"a": "1"}), "a", InvalidAmount) == 1
    assert positive_amount(Params({"a": MAX_SAFE_INTEGER}), "a", InvalidAmount) == MAX_SAFE_INTEGER
    for value in (0, -1, "0", MAX_SAFE_INTEGER + 1, "9" * 41, 1.5, True):
        with pytest.raises(InvalidAmount):
            positive_amount(Params({"a": value}), "a", InvalidAmount)
    with pytest.raises(MissingInput):
        positive_amount(Params({}), "a", InvalidAmount)


def test_a_json_string_is_no_amount_but_a_form_string_is():
    def amount(body: bytes, content_type: str) -> int:
        return positive_amount(merge([], parse_body(body, content_type)), "amount", InvalidAmount)

    assert amount(b'{"amount": 5}', "application/json") == 5
    assert amount(b"amount=5", FORM) == 5
    for body in (b'{"amount": "5"}', b'{"amount": "0"}', b'{"amount": "x"}'):
        with pytest.raises(InvalidAmount):
            amount(body, "application/json")
    # Untyped bodies that are JSON follow JSON's rule too.
    with pytest.raises(InvalidAmount):
        amount(b'{"amount": "5"}', "text/plain")
    # The query's digits stand when the body does not send the amount; the body's
    # JSON string wins over them (and is refused).
    assert positive_amount(merge([("amount", "7")], parse_body(b'{"a": "x"}', "application/json")),
                           "amount", InvalidAmount) == 7
    with pytest.raises(InvalidAmount):
        positive_amount(merge([("amount", "7")], parse_body(b'{"amount": "7"}', "application/json")),
                        "amount", InvalidAmount)
    # A JSON string is still a string everywhere else.
    assert merge([], parse_body(b'{"name": "5"}', "application/json")).name() == "5"


def test_clamped_count():
    def count(value):
        return clamped_count(Params({} if value is None else {"c": value}), "c", 32, 8192, 4096)
    assert count(None) == 4096
    # JSON integers out of range (negative ones too) and long digit strings are clamped...
    assert [count(v) for v in (0, -1, -10**50, 31, 32, 100, 8192, 8193, "0", "9" * 41)] == \
        [32, 32, 32, 32, 32, 100, 8192, 8192, 32, 8192]
    # ...and so are negative form or query integers (`count=-5`: an integer, out of range)...
    assert [count(v) for v in ("-1", "-5", "-0", "-" + "9" * 50)] == [32, 32, 32, 32]
    # ...but a count that is no integer at all is refused.
    for bad in ("1.5", "x", True, "+5", " 5", "05", "5\n", "\uff15", "-05", "--5", "-", "- 5"):
        with pytest.raises(BadRequest):
            count(bad)


# --- parse_body ------------------------------------------------------------------------

def test_form_body():
    assert parse_body(b"a=1&b=&c=x+y&d=%C3%A9&a=2", FORM) == [
        ("a", "1"), ("b", ""), ("c", "x y"), ("d", "é"), ("a", "2")]
    assert parse_body(b"a=1", FORM + "; charset=UTF-8") == [("a", "1")]


def test_json_body():
    assert parse_body(b'{"a": 1, "b": "x", "c": true, "d": null}', "application/json") == [
        ("a", 1), ("b", "x"), ("c", True), ("d", None)]
    assert parse_body(b'{"a": 1, "a": 2}', "application/json; charset=utf-8") == [("a", 2)]


def test_untyped_bodies():
    assert parse_body(b"a=1&b=2", None) == [("a", "1"), ("b", "2")]
    assert parse_body(b'{"a": "1"}', None) == [("a", "1")]
    assert parse_body(b"a=1", "text/plain") == [("a", "1")]
    assert parse_body(b'  {"a": 2}', "text/plain; charset=utf-8") == [("a", 2)]


def test_multipart_body():
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nz\xc3\xab\r\n"
            b"--XyZ--\r\n")
    assert parse_body(body, "multipart/form-data; boundary=XyZ") == [("a", "1"), ("name", "zë")]


def test_empty_bodies():
    for content_type in (None, FORM, "application/json", "multipart/form-data; boundary=x",
                         "application/xml"):
        assert parse_body(b"", content_type) == []
        assert parse_body(b"  \r\n", content_type) == []


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"a"', "application/json"),
    (b'{"a": 1', None),
    (b"\xff\xfe", "application/json"),
    (b"a=\xff", FORM),
    (b"a=%FF", FORM),
    (b"a=%C3", None),
    (b"<a>1</a>", "application/xml"),
    (b"--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--\r\n",
     "multipart/form-data; boundary=x"),
    (b"[" * 100_00 + b"]" * 100_00, "application/json"),
])
def test_undecodable_bodies(body, content_type):
    with pytest.raises(BadRequest):
        parse_body(body, content_type)


def test_body_size_limit():
    at_limit = b"a=" + b"x" * (MAX_BODY_BYTES - 2)
    assert parse_body(at_limit, FORM) == [("a", "x" * (MAX_BODY_BYTES - 2))]
    with pytest.raises(BadRequest):
        parse_body(at_limit + b"x", FORM)
    with pytest.raises(BadRequest):
        parse_body(json.dumps({"a": "x" * MAX_BODY_BYTES}).encode(), "application/json")
