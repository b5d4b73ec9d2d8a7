"""Properties of the parameter and body decoders (chalicelib/params.py, http.py).

Whatever bytes, content type or query arrive, decoding either yields
parameters or raises a contract error (an ApiError) — never anything else;
and an integer parameter reads only in its one canonical form.
"""
from __future__ import annotations

import json
import string
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.errors import ApiError, BadRequest, InvalidAmount
from chalicelib.http import request_params
from chalicelib.params import (
    MAX_SAFE_INTEGER,
    Params,
    clamped_count,
    merge,
    parse_body,
    positive_amount,
    to_int,
)

FAST = settings(max_examples=300, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                     "multipart/form-data; boundary=b", "multipart/form-data", "application/ld+json",
                     "application/octet-stream", "image/png", "APPLICATION/JSON; charset=latin-1",
                     "multipart/form-data; boundary=\"\"", ";", ""]),
    st.text(max_size=40),
)
# Bodies that look like what clients send, and bytes that do not.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4).map(
        lambda d: json.dumps(d).encode()),
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")),
    st.builds(lambda b, parts: (f"--{b}\r\n" + "".join(
        f'Content-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n--{b}\r\n' for n, v in parts)
        + f"--{b}--\r\n").encode("utf-8", "surrogatepass"),
        st.sampled_from(["b", "x--y"]), st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)),
                                                 max_size=3)),
)


def typed_reads(params: Params) -> None:
    """Every typed read an endpoint makes; each must answer or raise a contract error."""
    for name in list(params.values)[:4] + ["amount", "count", "name", "url"]:
        for read in (lambda n: params.string(n, required=False), lambda n: params.name(n),
                     lambda n: params.integer(n, required=False),
                     lambda n: positive_amount(params, n, InvalidAmount),
                     lambda n: clamped_count(params, n, 1, 1024, 128)):
            try:
                read(name)
            except ApiError:
                pass


@FAST
@given(BODIES, CONTENT_TYPES)
@example(b'{"n": 1e99999999999999999999}', "application/json")
@example(b'{"n": NaN}', "application/json")
@example(b'{"a": "\\ud800"}', "application/json")
@example(b"[" * 100_000, "application/json")
@example(b"a=%ff", "application/x-www-form-urlencoded")
def test_any_body_decodes_or_is_a_contract_error(body, content_type):
    try:
        pairs = parse_body(body, content_type)
    except ApiError:
        return
    typed_reads(merge([], pairs))


@FAST
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=5), BODIES,
       CONTENT_TYPES, st.sampled_from(["GET", "POST", "PUT"]))
def test_any_request_reads_or_is_a_contract_error(query, body, content_type, method):
    multi: dict[str, list[str]] = {}
    for name, value in query:
        multi.setdefault(name, []).append(value)
    request = SimpleNamespace(
        method=method, raw_body=body, headers={"content-type": content_type} if content_type else {},
        query_params=SimpleNamespace(keys=multi.keys, getlist=multi.__getitem__) if multi else None)
    try:
        params = request_params(request)
    except ApiError:
        return
    typed_reads(params)


@FAST
@given(st.text(alphabet=string.digits + "+- \t\n\u00a0\u0665\uff15.eE_x", max_size=45))
@example("007")
@example("5\n")
def test_an_integer_string_reads_only_in_canonical_form(text):
    try:
        number = to_int(text)
    except BadRequest:
        assert not (text.isascii() and text.isdigit() and (text == "0" or text[0] != "0"))
        return
    # Accepted: it is exactly how that number is written (or saturated past 40 digits).
    assert text == str(number) or (len(text) > 40 and number == 10**40)


@FAST
@given(st.integers(min_value=0, max_value=10**40))
def test_canonical_integers_round_trip(number):
    assert to_int(str(number)) == number
    assert to_int(number) == number


@FAST
@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                 st.booleans(),
                 st.none(), st.lists(st.integers(), max_size=2)))
def test_a_json_amount_is_an_integer_in_range_or_invalid_amount(value):
    body = json.dumps({"amount": value}).encode()
    params = merge([], parse_body(body, "application/json"))
    try:
        amount = positive_amount(params, "amount", InvalidAmount)
    except ApiError as error:
        assert error.code in ("invalid_amount", "missing_input")
        return
    assert isinstance(value, int) or isinstance(value, str)
    assert 1 <= amount <= MAX_SAFE_INTEGER and not isinstance(value, (bool, float))
    assert json.dumps(amount) == (value if isinstance(value, str) else json.dumps(value))


def _fail(value: Any) -> str:
    try:
        positive_amount(Params({"a": value}), "a", InvalidAmount)
    except ApiError as error:
        return error.code
    return "accepted"


def test_examples_from_the_issue_are_invalid_amount():
    for text in (" 5", "+5", "\u00a05", "5\n", "007", "\uff15", "\u0665"):
        assert _fail(text) == "invalid_amount", text
    for body in (b"0.9999999999999999999", b"1e3", b"5.0"):
        value = dict(parse_body(b'{"a": ' + body + b"}", "application/json"))["a"]
        assert _fail(value) == "invalid_amount", body
