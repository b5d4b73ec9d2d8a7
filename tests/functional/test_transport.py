"""docs/contract.md §1, "Transport (every endpoint)", as tests.

Every request goes through `chalice.test.Client` against moto. Assertions
are on exact JSON bodies and exact error codes.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from chalicelib import sites
from tests.fixtures import SiteCreds, create_site, credit
from tests.functional.store import as_secret, aws  # noqa: F401 - aws: the shared store

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}

GET_ENDPOINTS = ["/user/balance", "/user/top", "/user/list", "/stats/payout", "/stats/site",
                 "/stats/history"]
POST_ENDPOINTS = ["/token/verify", "/user/withdraw", "/user/reset", "/user/reset-all",
                  "/link/create"]
ALL_ENDPOINTS = GET_ENDPOINTS + POST_ENDPOINTS

# Parameters that make each endpoint succeed (given a user "alice" with a balance).
GOOD_PARAMS: dict[str, dict[str, str]] = {
    "/user/balance": {"name": "alice"},
    "/user/top": {},
    "/user/list": {},
    "/stats/payout": {},
    "/stats/site": {},
    "/stats/history": {"begin": "1700000000", "end": "1700003600"},
    "/user/withdraw": {"name": "alice", "amount": "1"},
    "/user/reset": {"name": "alice"},
    "/user/reset-all": {},
    "/link/create": {"url": "https://example.com/", "hashes": "256"},
}


def fail(code: str) -> dict[str, Any]:
    return {"success": False, "error": code}


def call(client: Any, method: str, path: str, body: bytes | str = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Any request; answers (status, headers, decoded JSON) without asserting the status."""
    response = client.http.request(method, path, body=body, headers=headers or {})
    assert response.headers["Content-Type"].startswith("application/json"), response.body
    return response.status_code, response.headers, json.loads(response.body)


def multipart(fields: list[tuple[str, str]], boundary: str = "----workproofBoundary42") -> tuple[bytes, dict[str, str]]:
    lines: list[bytes] = []
    for name, value in fields:
        lines += [f"--{boundary}".encode(),
                  f'Content-Disposition: form-data; name="{name}"'.encode(),
                  b"", value.encode("utf-8")]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def alice(api) -> str:
    credit(api.site.site_key, "alice", 100)
    return "alice"


# --- where the secret comes from -------------------------------------------------------

def test_secret_as_query_parameter_on_get(api, alice):
    assert api.raw("GET", f"/user/balance?secret={api.site.secret}&name=alice") == {
        "success": True, "name": "alice", "total": 100, "withdrawn": 0, "balance": 100}


def test_secret_as_body_parameter_on_post(api, alice):
    body = urlencode({"secret": api.site.secret, "name": "alice", "amount": 7})
    assert api.raw("POST", "/user/withdraw", body, FORM) == {
        "success": True, "name": "alice", "amount": 7}


def test_secret_as_query_parameter_on_post(api, alice):
    assert api.raw("POST", f"/user/withdraw?secret={api.site.secret}&name=alice&amount=7") == {
        "success": True, "name": "alice", "amount": 7}


def test_secret_is_never_read_from_a_header(api, alice):
    assert api.raw("GET", "/user/balance?name=alice", headers={"secret": api.site.secret}) == \
        fail("invalid_secret")


# --- body encodings ----------------------------------------------------------------------

def _withdraw_bodies(secret: str) -> list[tuple[str, bytes, dict[str, str]]]:
    form = urlencode({"secret": secret, "name": "alice", "amount": 3}).encode()
    as_json = json.dumps({"secret": secret, "name": "alice", "amount": 3}).encode()
    multi_body, multi_headers = multipart([("secret", secret), ("name", "alice"), ("amount", "3")])
    return [
        ("form", form, FORM),
        ("form+charset", form, {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}),
        ("json", as_json, JSON),
        ("json+charset", as_json, {"Content-Type": "application/json; charset=utf-8"}),
        ("multipart", multi_body, multi_headers),
        ("no content type, form", form, {}),
        ("no content type, json", as_json, {}),
        ("text/plain form", form, {"Content-Type": "text/plain"}),
    ]


@pytest.mark.parametrize("kind", [k for k, _b, _h in _withdraw_bodies("x")])
def test_body_encodings(api, alice, kind):
    body, headers = {k: (b, h) for k, b, h in _withdraw_bodies(api.site.secret)}[kind]
    assert api.raw("POST", "/user/withdraw", body, headers) == {
        "success": True, "name": "alice", "amount": 3}
    assert api.get("/user/balance", name="alice") == {
        "success": True, "name": "alice", "total": 100, "withdrawn": 3, "balance": 97}


def test_json_values_keep_their_type(api, alice):
    body = json.dumps({"secret": api.site.secret, "name": "alice", "amount": 5})
    assert api.raw("POST", "/user/withdraw", body, JSON) == {
        "success": True, "name": "alice", "amount": 5}


# --- merging, empty strings, repeats ---------------------------------------------------

def test_query_parameters_on_post_merge_with_the_body(api, alice):
    body = urlencode({"name": "alice", "amount": 2})
    assert api.raw("POST", f"/user/withdraw?secret={api.site.secret}", body, FORM) == {
        "success": True, "name": "alice", "amount": 2}


def test_body_wins_over_query(api, alice):
    body = urlencode({"amount": 2})
    path = f"/user/withdraw?secret={api.site.secret}&name=alice&amount=50"
    assert api.raw("POST", path, body, FORM) == {"success": True, "name": "alice", "amount": 2}
    body = json.dumps({"amount": 4})
    assert api.raw("POST", path, body, JSON) == {"success": True, "name": "alice", "amount": 4}
    assert api.get("/user/balance", name="alice")["withdrawn"] == 6


def test_empty_string_is_absent_so_required_is_missing_input(api, alice):
    assert api.get("/user/balance", name="") == fail("missing_input")
    assert api.post("/user/withdraw", name="alice", amount="") == fail("missing_input")
    assert api.post("/user/withdraw", name="", amount="1") == fail("missing_input")
    assert api.post("/token/verify", token="", hashes="1") == fail("missing_input")
    assert api.post("/link/create", url="", hashes="1") == fail("missing_input")


def test_empty_string_is_absent_so_defaults_apply(api):
    for name, total in (("bob", 30), ("carol", 20), ("dave", 10)):
        credit(api.site.site_key, name, total)
    users = api.get("/user/top", count="", order="")["users"]
    assert [u["name"] for u in users] == ["bob", "carol", "dave"]
    assert api.get("/user/list", count="", page="") == {
        "success": True, "nextPage": None, "users": [
            {"name": n, "total": t, "withdrawn": 0, "balance": t}
            for n, t in (("bob", 30), ("carol", 20), ("dave", 10))]}


def test_empty_secret_is_invalid_secret(api, alice):
    assert as_secret(api, "", "/user/balance", name="alice") == fail("invalid_secret")


def test_repeated_query_parameter_last_wins(api, alice):
    credit(api.site.site_key, "bob", 5)
    assert api.raw("GET", f"/user/balance?secret={api.site.secret}&name=alice&name=bob") == {
        "success": True, "name": "bob", "total": 5, "withdrawn": 0, "balance": 5}


def test_repeated_form_parameter_last_wins(api, alice):
    body = f"secret={api.site.secret}&name=alice&amount=50&amount=1"
    assert api.raw("POST", "/user/withdraw", body, FORM) == {
        "success": True, "name": "alice", "amount": 1}


def test_repeated_multipart_parameter_last_wins(api, alice):
    body, headers = multipart([("secret", api.site.secret), ("name", "alice"),
                               ("amount", "50"), ("amount", "1")])
    assert api.raw("POST", "/user/withdraw", body, headers) == {
        "success": True, "name": "alice", "amount": 1}


def test_form_values_are_percent_decoded_utf8(api):
    credit(api.site.site_key, "zoë ✓", 9)
    body = f"secret={api.site.secret}&name={quote('zoë ✓')}&amount=1"
    assert api.raw("POST", "/user/withdraw", body, FORM) == {
        "success": True, "name": "zoë ✓", "amount": 1}
    body = f"secret={api.site.secret}&name=zo%C3%AB+%E2%9C%93"
    assert api.raw("POST", "/user/balance", body, FORM)["balance"] == 8


# --- methods ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_post_is_served_on_get_endpoints(api, alice, path):
    answer = api.post(path, **GOOD_PARAMS[path])
    assert answer["success"] is True, answer
    if path not in ("/stats/site", "/stats/history"):  # those hold the clock's rate
        assert answer == api.get(path, **GOOD_PARAMS[path])


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_post_endpoints_are_wrong_method(api, alice, path, method):
    query = urlencode({"secret": api.site.secret, **GOOD_PARAMS.get(path, {"token": "t", "hashes": 1})})
    assert api.raw(method, f"{path}?{query}") == fail("wrong_method")
    assert api.raw(method, path, query, FORM) == fail("wrong_method")
    # Nothing happened.
    assert api.get("/user/balance", name="alice")["balance"] == 100


@pytest.mark.parametrize("path", GET_ENDPOINTS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_put_patch_delete_on_get_endpoints_are_wrong_method(api, alice, path, method):
    query = urlencode({"secret": api.site.secret, **GOOD_PARAMS[path]})
    assert api.raw(method, f"{path}?{query}") == fail("wrong_method")


# --- paths -----------------------------------------------------------------------------

UNKNOWN_PATHS = [
    "/",
    "/token",
    "/nope",
    "/token/verifyy",
    "/user/balances",
    "/api/user/balance",
    "/user/balance/extra",
    "/api/v1/token/verify",
    "/a/b/c/d",
    "/a/b/c/d/e",
    "/a/b/c/d/e/f",
    "/user/balance/a/b/c/d",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_paths_are_not_found(api, path, method):
    query = f"?secret={api.site.secret}"
    assert api.raw(method, path + query, "{not json", JSON) == fail("not_found")


# --- order of checks: path -> method -> body -> secret -> parameters --------------------

def test_path_before_method_and_body(api):
    assert api.raw("PATCH", "/token/nope", b"\xff\xfe", FORM) == fail("not_found")


def test_method_before_body(api):
    assert api.raw("GET", "/user/withdraw", "{not json", JSON) == fail("wrong_method")
    assert api.raw("DELETE", "/user/balance", "x" * 70_000, FORM) == fail("wrong_method")


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_undecodable_bodies_are_bad_request_before_the_secret(api, path):
    assert api.raw("POST", path, "{not json", JSON) == fail("bad_request")
    assert api.raw("POST", path, "[1, 2]", JSON) == fail("bad_request")
    assert api.raw("POST", path, b"name=\xff\xfe", FORM) == fail("bad_request")
    assert api.raw("POST", path, "name=%FF%FE", FORM) == fail("bad_request")


def test_body_over_64_kb_is_bad_request(api, alice):
    big = urlencode({"name": "alice", "amount": "1", "pad": "x" * (64 * 1024)})
    assert api.raw("POST", f"/user/withdraw?secret={api.site.secret}", big, FORM) == \
        fail("bad_request")
    assert api.get("/user/balance", name="alice")["balance"] == 100


def test_body_of_exactly_64_kb_is_decoded(api, alice):
    head = f"secret={api.site.secret}&name=alice&amount=1&pad="
    body = head + "x" * (64 * 1024 - len(head))
    assert len(body) == 64 * 1024
    assert api.raw("POST", "/user/withdraw", body, FORM) == {
        "success": True, "name": "alice", "amount": 1}


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_secret_checked_before_parameters(api, path):
    # No parameters at all, bad ones, and no secret: the secret is reported.
    assert api.post(path, with_secret=False) == fail("invalid_secret")
    assert api.post(path, with_secret=False, name="", amount="-1", count="x", begin="z") == \
        fail("invalid_secret")
    method = "GET" if path in GET_ENDPOINTS else "POST"
    assert api.raw(method, f"{path}?hashes=0&amount=x&name=") == fail("invalid_secret")


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_unknown_secret_is_invalid_secret(api, path):
    assert as_secret(api, "A" * 32, path, "POST", **GOOD_PARAMS.get(path, {})) == \
        fail("invalid_secret")


def test_odd_secrets_are_invalid_secret(api, alice):
    for secret in ("x", api.site.secret + "x", api.site.secret.lower(), api.site.site_key,
                   "s" * 5000, "é" * 40):
        assert as_secret(api, secret, "/user/balance", name="alice") == fail("invalid_secret")
    for value in (True, 12345, None, ["x"], {"a": 1}):
        body = json.dumps({"secret": value, "name": "alice"})
        assert api.raw("POST", "/user/balance", body, JSON) == fail("invalid_secret")


def test_secret_over_100_kb_in_query_is_invalid_secret(api):
    assert api.raw("GET", "/user/top?secret=" + "s" * 100_000) == fail("invalid_secret")


def test_rotated_secret_stops_working_and_new_one_works(api, alice):
    new = sites.rotate_secret(api.site.site_key)
    assert api.get("/user/balance", name="alice") == fail("invalid_secret")
    assert as_secret(api, new, "/user/balance", name="alice")["balance"] == 100


def test_disabled_site_is_invalid_secret(api, alice):
    sites.update_site(api.site.site_key, disabled=True)
    for path in ALL_ENDPOINTS:
        assert api.post(path, **GOOD_PARAMS.get(path, {})) == fail("invalid_secret")


def test_secrets_are_per_site(api, alice):
    other: SiteCreds = create_site("other")
    credit(other.site_key, "bob", 1)
    assert api.get("/user/balance", name="bob") == fail("unknown_user")
    assert as_secret(api, other.secret, "/user/balance", name="alice") == fail("unknown_user")


# --- the shape of every answer ---------------------------------------------------------

FAILING_REQUESTS = [
    ("GET", "/nope", "", {}),
    ("GET", "/user/withdraw", "", {}),
    ("POST", "/user/top", "{", JSON),
    ("POST", "/user/top", "", {}),
]


@pytest.mark.parametrize("method,path,body,headers", FAILING_REQUESTS)
def test_failures_carry_only_success_and_error(client, method, path, body, headers):
    status, _headers, answer = call(client, method, path, body, headers)
    assert status == 200
    assert set(answer) == {"success", "error"}
    assert answer["success"] is False


def test_failures_carry_only_success_and_error_on_every_endpoint(api):
    for path in ALL_ENDPOINTS:
        response = api.client.http.post(path, body="", headers={})
        assert response.status_code == 200
        assert json.loads(response.body) == fail("invalid_secret")
        # A JSON literal `false`, never 0.
        assert b'"success":false' in response.body.replace(b" ", b"")


def test_success_is_a_json_boolean(api, alice):
    response = api.client.http.get(f"/user/balance?secret={api.site.secret}&name=alice")
    assert b'"success":true' in response.body.replace(b" ", b"")


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_no_cors_headers_on_secret_endpoints(api, alice, path):
    query = urlencode({"secret": api.site.secret, **GOOD_PARAMS.get(path, {})})
    for response in (
        api.client.http.post(f"{path}?{query}", headers={"Origin": "https://evil.example"}),
        api.client.http.get(f"{path}?{query}", headers={"Origin": "https://evil.example"}),
        api.client.http.post(path, headers={"Origin": "https://evil.example"}),
    ):
        assert response.status_code == 200
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


# --- JSON booleans are never numbers ---------------------------------------------------

def _json(api, path: str, **params: Any) -> dict[str, Any]:
    return api.raw("POST", path, json.dumps({"secret": api.site.secret, **params}), JSON)


def test_json_booleans_are_not_numbers(api, alice):
    assert _json(api, "/user/withdraw", name="alice", amount=True) == fail("invalid_amount")
    assert _json(api, "/user/withdraw", name="alice", amount=False) == fail("invalid_amount")
    assert _json(api, "/user/top", count=True) == fail("bad_request")
    assert _json(api, "/user/list", count=False) == fail("bad_request")
    assert _json(api, "/token/verify", token="abc", hashes=True) == fail("bad_request")
    assert _json(api, "/link/create", url="https://example.com/", hashes=True) == \
        fail("bad_request")
    assert _json(api, "/stats/history", begin=True, end=1700000000) == fail("bad_request")
    assert _json(api, "/stats/history", begin=1700000000, end=True) == fail("bad_request")
    assert _json(api, "/user/balance", name=True) == fail("bad_request")
    assert api.get("/user/balance", name="alice")["balance"] == 100


def test_json_structures_as_values_are_bad_request(api, alice):
    assert _json(api, "/user/balance", name=["alice"]) == fail("bad_request")
    assert _json(api, "/user/balance", name={"a": 1}) == fail("bad_request")
    assert _json(api, "/user/withdraw", name="alice", amount=[1]) == fail("invalid_amount")
    assert _json(api, "/user/top", order=["total"]) == fail("bad_request")


def test_json_null_is_absent(api, alice):
    assert _json(api, "/user/balance", name=None) == fail("missing_input")
    assert _json(api, "/user/top", count=None, order=None)["success"] is True


# --- odd and over-long input gets contract errors --------------------------------------

def test_five_thousand_character_name(api, alice):
    name = "n" * 5000
    assert api.get("/user/balance", name=name) == fail("bad_request")
    assert api.post("/user/withdraw", name=name, amount=1) == fail("bad_request")
    assert api.post("/user/reset", name=name) == fail("bad_request")


def test_forty_one_digit_numbers(api, alice):
    digits = "9" * 41
    assert api.post("/user/withdraw", name="alice", amount=digits) == fail("invalid_amount")
    assert api.post("/user/withdraw", name="alice", amount="-" + digits) == fail("invalid_amount")
    assert _json(api, "/user/withdraw", name="alice", amount=int(digits)) == \
        fail("invalid_amount")
    assert api.post("/token/verify", token="abc", hashes=digits) == fail("bad_request")
    assert api.post("/link/create", url="https://example.com/", hashes=digits) == \
        fail("bad_request")
    assert api.get("/stats/history", begin=digits, end=digits) == fail("bad_request")
    # Out of range is clamped, however many digits: still an integer.
    assert api.get("/user/top", count=digits)["success"] is True
    assert _json(api, "/user/list", count=-int(digits))["success"] is True
    # A form or query integer too (issue 18: `count=-5` clamps rather than refuses).
    assert api.get("/user/list", count="-" + digits)["success"] is True
    assert api.get("/user/balance", name="alice")["balance"] == 100


def test_hundred_kilobyte_parameters(api, alice):
    big = "x" * 100_000
    q = f"secret={api.site.secret}"
    assert api.raw("GET", f"/user/balance?{q}&name={big}") == fail("bad_request")
    assert api.raw("POST", f"/user/withdraw?{q}&name=alice&amount={'1' * 100_000}") == \
        fail("invalid_amount")
    assert api.raw("GET", f"/user/top?{q}&order={big}") == fail("bad_request")
    assert api.raw("GET", f"/user/top?{q}&count={'7' * 100_000}")["success"] is True
    assert api.raw("GET", f"/user/list?{q}&page={big}") == fail("invalid_page")
    assert api.raw("POST", f"/token/verify?{q}&token={big}&hashes=1") == fail("invalid_token")
    assert api.raw("POST", f"/link/create?{q}&url=https://e.com/{big}&hashes=1") == \
        fail("invalid_url")
    assert api.raw("GET", f"/stats/history?{q}&begin={'1' * 100_000}&end=1") == \
        fail("bad_request")
    assert api.raw("POST", "/user/top", json.dumps({"secret": api.site.secret, "x": big}),
                   JSON) == fail("bad_request")


def test_deeply_nested_json_is_bad_request(api):
    assert api.raw("POST", "/user/top", "[" * 100_00 + "]" * 100_00, JSON) == \
        fail("bad_request")
    body = '{"a":' * 5000 + "1" + "}" * 5000
    assert api.raw("POST", "/user/top", body, JSON) == fail("bad_request")


# --- anything unexpected is internal_error, details only in the log ---------------------

class Boom(RuntimeError):
    pass


def _explode(*_args: Any, **_kwargs: Any) -> Any:
    raise Boom("table workproof-dev-ledger: secret detail")


@pytest.mark.parametrize("path,params", [("/user/balance", {"name": "alice"}),
                                         ("/user/top", {}), ("/user/list", {}),
                                         ("/user/withdraw", {"name": "alice", "amount": 1})])
def test_unexpected_errors_are_internal_error(api, alice, monkeypatch, caplog, path, params):
    from chalicelib import ledger, ranks
    from chalicelib.store import transactions

    monkeypatch.setattr(ledger, "read_user", _explode)
    monkeypatch.setattr(transactions.Transaction, "commit", _explode)
    for name in ("top", "list_users"):
        monkeypatch.setattr(ranks, name, _explode)
    response = api.client.http.post(path, body=urlencode({"secret": api.site.secret, **params}),
                                    headers=FORM)
    assert response.status_code == 200
    assert json.loads(response.body) == fail("internal_error")
    assert b"secret detail" not in response.body
    assert "secret detail" in caplog.text


def test_unexpected_error_outside_the_api_views_is_internal_error(api, monkeypatch):
    from chalicelib import links

    monkeypatch.setattr(links, "get", _explode)
    status, _headers, answer = call(api.client, "GET", "/l/AbCdEf123456")
    assert (status, answer) == (200, fail("internal_error"))


def test_unexpected_errors_rest_status(api, alice, monkeypatch, app_settings):
    from chalicelib import ledger

    app_settings(WORKPROOF_ERROR_STATUS="rest")
    monkeypatch.setattr(ledger, "read_user", _explode)
    status, _headers, answer = call(api.client, "GET",
                                    f"/user/balance?secret={api.site.secret}&name=alice")
    assert (status, answer) == (500, fail("internal_error"))


# --- REST-style statuses (opt-in) ------------------------------------------------------

def test_rest_statuses_when_opted_in(client, site, app_settings):
    app_settings(WORKPROOF_ERROR_STATUS="rest")
    credit(site.site_key, "alice", 10)
    s = site.secret
    cases = [
        ("GET", f"/user/balance?secret={s}&name=alice", "", {}, 200, None),
        ("GET", "/nope", "", {}, 404, "not_found"),
        ("GET", "/a/b/c/d/e/f", "", {}, 404, "not_found"),
        ("GET", "/user/withdraw", "", {}, 405, "wrong_method"),
        ("POST", "/user/top", "{", JSON, 400, "bad_request"),
        ("GET", "/user/top", "", {}, 403, "invalid_secret"),
        ("GET", f"/user/balance?secret={s}", "", {}, 400, "missing_input"),
        ("GET", f"/user/balance?secret={s}&name=bob", "", {}, 404, "unknown_user"),
        ("POST", f"/user/withdraw?secret={s}&name=alice&amount=0", "", {}, 400, "invalid_amount"),
        ("POST", f"/user/withdraw?secret={s}&name=alice&amount=11", "", {}, 409,
         "insufficent_funds"),
    ]
    for method, path, body, headers, status, code in cases:
        got_status, _h, answer = call(client, method, path, body, headers)
        assert got_status == status, (path, answer)
        if code:
            assert answer == fail(code)
        else:
            assert answer["success"] is True


def test_default_status_is_200_for_errors(client, site, app_settings):
    app_settings(WORKPROOF_ERROR_STATUS="")
    for method, path in (("GET", "/nope"), ("GET", "/user/withdraw"), ("GET", "/user/top")):
        status, _h, answer = call(client, method, path)
        assert status == 200
        assert answer["success"] is False
