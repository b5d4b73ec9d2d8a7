"""chalicelib/openapi.json: a valid OpenAPI 3.1 document that matches the app.

The document is validated with openapi-spec-validator; then real answers of
the app (through the functional fixtures: `client`, `site`) are checked
against the schema the document gives for that path, method and status,
success and error branches alike.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import errors, siteverify
from tests.deploy.powsolve import mine, solve
from tests.deploy.powsolve import post as pow_post

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "chalicelib" / "openapi.json"
CONTRACT_PATHS = {
    "/token/verify": "post", "/user/balance": "get", "/user/withdraw": "post",
    "/user/top": "get", "/user/list": "get", "/user/reset": "post",
    "/user/reset-all": "post", "/link/create": "post", "/stats/payout": "get",
    "/stats/site": "get", "/stats/history": "get", "/pow/job": "post", "/pow/submit": "post",
}
# reCAPTCHA / hCaptcha / Turnstile's shape: `error-codes`, never Coinhive's `error`.
SITEVERIFY_PATHS = {"/siteverify": "post", "/recaptcha/api/siteverify": "post",
                    "/turnstile/v0/siteverify": "post"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def test_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_contract_endpoint_is_described(spec: dict[str, Any]) -> None:
    assert set(spec["paths"]) == set(CONTRACT_PATHS) | set(SITEVERIFY_PATHS)
    for path, method in {**CONTRACT_PATHS, **SITEVERIFY_PATHS}.items():
        operation = spec["paths"][path][method]
        assert operation["responses"]["200"]
        if method == "get":  # a POST to a GET endpoint is served as a GET
            assert "post" in spec["paths"][path]


def test_error_codes_are_the_contracts(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["schemas"]["ErrorCode"]["enum"]) == set(errors.contract_codes())
    codes = set(errors.contract_codes())
    for path, ops in spec["paths"].items():
        for method in ops:
            schema = _response_schema(spec, path, method, "200")
            if path in SITEVERIFY_PATHS:
                codes_schema = schema["oneOf"][1]["properties"]["error-codes"]["items"]
                assert set(_resolve(spec, codes_schema)["enum"]) == set(siteverify.ERROR_CODES)
                continue
            error_branch = schema["oneOf"][1]
            assert set(error_branch["properties"]["error"]["enum"]) <= codes
            assert error_branch["additionalProperties"] is False
            assert "internal_error" in error_branch["properties"]["error"]["enum"]
            assert "wrong_method" in error_branch["properties"]["error"]["enum"]


def test_described_paths_are_routes_of_the_app(app: Any) -> None:
    spec = json.loads(SPEC_PATH.read_text())
    for path in spec["paths"]:
        assert path in app.routes, path


def test_served_at_openapi_json(client: Any) -> None:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == json.loads(SPEC_PATH.read_text())


# --- real answers against the documented schemas --------------------------------

def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _response_schema(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    response = _resolve(spec, spec["paths"][path][method]["responses"][status])
    return response["content"]["application/json"]["schema"]


class Checker:
    """Calls the app and validates every answer against the document."""

    def __init__(self, spec: dict[str, Any], client: Any, site: Any) -> None:
        from jsonschema import Draft202012Validator

        self.spec, self.client, self.site = spec, client, site
        self.validator_cls = Draft202012Validator
        self.seen: dict[tuple[str, str], set[str]] = {}

    def validate(self, path: str, method: str, status: int, body: dict[str, Any]) -> None:
        if method not in self.spec["paths"][path]:
            # An undocumented method of a documented path: wrong_method, as the
            # document's descriptions say, in the common Error shape.
            assert body == {"success": False, "error": "wrong_method"}, body
            schema = dict(self.spec["components"]["schemas"]["Error"],
                          components=self.spec["components"])
            self.validator_cls(schema).validate(body)
            return
        schema = dict(_response_schema(self.spec, path, method, str(status)),
                      components=self.spec["components"])
        self.validator_cls(schema).validate(body)
        # Exactly one branch matches: success or this endpoint's error.
        kind = "success" if body["success"] else body.get("error") or ",".join(body["error-codes"])
        self.seen.setdefault((path, method), set()).add(kind)

    def call(self, method: str, path: str, with_secret: bool = True, **params: Any) -> dict[str, Any]:
        from tests.streams import drain

        if with_secret:
            params.setdefault("secret", self.site.secret)
        drain()  # off-path work (top, list, stats) done, as a second later when deployed
        if method == "get":
            query = urlencode(params)
            response = self.client.http.get(f"{path}?{query}" if query else path)
        else:
            response = self.client.http.post(
                path, body=urlencode(params),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        self.validate(path, method, response.status_code, body)
        return body


@pytest.fixture
def check(client: Any, site: Any) -> Checker:
    return Checker(json.loads(SPEC_PATH.read_text()), client, site)


def test_seed_api_answers_match_the_document(check: Checker) -> None:
    c = check
    # Users: credited through the real proof-of-work path.
    mine(c.client, c.site, user="alice")
    mine(c.client, c.site, user="bob")
    assert c.call("get", "/user/balance", name="alice")["success"]
    assert c.call("post", "/user/balance", name="alice")["success"]  # POST alias
    assert c.call("get", "/user/balance", name="nobody")["error"] == "unknown_user"
    assert c.call("get", "/user/balance")["error"] == "missing_input"
    assert c.call("get", "/user/balance", with_secret=False, name="alice")["error"] == "invalid_secret"
    assert c.call("post", "/user/withdraw", name="alice", amount=1)["success"]
    assert c.call("post", "/user/withdraw", name="alice", amount=10**12)["error"] == "insufficent_funds"
    assert c.call("post", "/user/withdraw", name="alice", amount="x")["error"] == "invalid_amount"
    assert c.call("get", "/user/withdraw", name="alice", amount=1)["error"] == "wrong_method"
    top = c.call("get", "/user/top", count=5, order="balance")
    assert top["success"] and top["users"]
    assert c.call("get", "/user/top", order="bogus")["error"] == "bad_request"
    listed = c.call("get", "/user/list", count=32)
    assert listed["success"] and listed["nextPage"] is None
    assert c.call("get", "/user/list", page="not-a-cursor")["error"] == "invalid_page"
    # Tokens.
    token = mine(c.client, c.site, token="", hashes=1000)
    assert token
    verified = c.call("post", "/token/verify", token=token, hashes=1000)
    assert verified["success"] and verified["hashes"] >= 1000
    assert c.call("post", "/token/verify", token=token, hashes=1000)["error"] == "invalid_token"
    assert c.call("post", "/token/verify", token="nope", hashes=1)["error"] == "invalid_token"
    assert c.call("post", "/token/verify", hashes=1)["error"] == "missing_input"
    assert c.call("post", "/token/verify", token="x", hashes=0)["error"] == "bad_request"
    # Links.
    link = c.call("post", "/link/create", url="https://example.com/page", hashes=100)
    assert link["success"]
    assert c.call("post", "/link/create", url="ftp://example.com/", hashes=5)["error"] == "invalid_url"
    assert c.call("post", "/link/create", hashes=5)["error"] == "missing_input"
    # Stats.
    assert c.call("get", "/stats/payout")["success"]
    site_stats = c.call("get", "/stats/site")
    assert site_stats["success"] and len(site_stats["history"]) == 168
    history = c.call("get", "/stats/history", begin=0, end=7200)
    assert history["success"] and len(history["history"]) == 3
    assert c.call("get", "/stats/history", begin=10, end=0)["error"] == "bad_request"
    assert c.call("get", "/stats/history", begin=10)["error"] == "missing_input"
    # Resets last.
    assert c.call("post", "/user/reset", name="bob")["success"]
    assert c.call("post", "/user/reset")["error"] == "missing_input"
    reset_all = c.call("post", "/user/reset-all")
    assert reset_all["success"] and reset_all["affected"] >= 1

    for path in CONTRACT_PATHS:
        if not path.startswith("/pow/"):
            seen = c.seen.get((path, CONTRACT_PATHS[path]), set())
            assert "success" in seen, (path, seen)


def test_pow_answers_match_the_document(check: Checker) -> None:
    c = check
    key = c.site.site_key
    job = c.call("post", "/pow/job", with_secret=False, site=key, user="carol")
    assert job["success"] and "token" not in job
    new_token = c.call("post", "/pow/job", with_secret=False, site=key, token="", hashes=500)
    assert new_token["success"] and len(new_token["token"]) == 32
    assert c.call("post", "/pow/job", with_secret=False, site="x" * 32, user="a")["error"] == "invalid_site"
    assert c.call("post", "/pow/job", with_secret=False, site=key)["error"] == "missing_input"
    assert c.call("post", "/pow/job", with_secret=False, site=key, user="a",
                  anonymous=1)["error"] == "bad_request"
    assert c.call("post", "/pow/job", with_secret=False, site=key, link="nolink")["error"] == "invalid_link"

    nonce = solve(job["job"], job["difficulty"], job["count"])
    wrong = ",".join("0" for _ in range(job["count"]))
    if wrong != nonce:
        assert c.call("post", "/pow/submit", with_secret=False, job=job["job"],
                      nonce=wrong)["error"] == "invalid_share"
    done = c.call("post", "/pow/submit", with_secret=False, job=job["job"], nonce=nonce)
    assert done["success"] and done["hashes"] == job["difficulty"] * job["count"]
    assert c.call("post", "/pow/submit", with_secret=False, job=job["job"],
                  nonce=nonce)["error"] == "duplicate_share"
    assert c.call("post", "/pow/submit", with_secret=False, job="v1.AAAA.BBBB",
                  nonce="1")["error"] == "invalid_job"
    assert c.call("post", "/pow/submit", with_secret=False, job=job["job"])["error"] == "missing_input"

    # A link visit ends with a redirect.
    url = pow_post(c.client, "/link/create", secret=c.site.secret, url="https://example.org/t",
                   hashes=10)["url"]
    visit = c.call("post", "/pow/job", with_secret=False, site=key, link=url.rsplit("/", 1)[1])
    answer = c.call("post", "/pow/submit", with_secret=False, job=visit["job"],
                    nonce=solve(visit["job"], visit["difficulty"], visit["count"]))
    assert answer["success"] and answer["redirect"] == "https://example.org/t"


def test_siteverify_answers_match_the_document(check: Checker) -> None:
    c = check
    for path in SITEVERIFY_PATHS:
        token = mine(c.client, c.site, token="", hashes=1000)
        answer = c.call("post", path, with_secret=True, response=token)
        assert answer["success"] is True and answer["error-codes"] == []
        assert c.call("post", path, response=token)["error-codes"] == ["timeout-or-duplicate"]
        assert c.call("post", path, with_secret=False, response=token)["error-codes"] == [
            "missing-input-secret"]
        assert c.call("post", path, response="x" * 32, hashes=0)["error-codes"] == ["bad-request"]
        assert c.seen[(path, "post")] >= {"success", "timeout-or-duplicate", "missing-input-secret"}


def test_unknown_paths_match_the_error_schema(client: Any) -> None:
    from jsonschema import Draft202012Validator

    spec = json.loads(SPEC_PATH.read_text())
    schema = dict(spec["components"]["schemas"]["Error"], components=spec["components"])
    for path in ("/nope", "/user/nope", "/api/v1/token/verify"):
        body = json.loads(client.http.get(path).body)
        Draft202012Validator(schema).validate(body)
        assert body["error"] == "not_found"


def test_schemas_reject_what_the_contract_forbids(spec: dict[str, Any]) -> None:
    """The checks above are not vacuous: off-contract bodies fail validation."""
    from jsonschema import Draft202012Validator, ValidationError

    schema = dict(_response_schema(spec, "/user/balance", "get", "200"),
                  components=spec["components"])
    validator = Draft202012Validator(schema)
    validator.validate({"success": True, "name": "a", "total": 2, "withdrawn": 1, "balance": 1})
    for bad in ({"success": True, "name": "a", "total": 2, "withdrawn": 1},  # missing balance
                {"success": False, "error": "unknown_user", "detail": "x"},  # extra key
                {"success": False, "error": "invalid_url"},                  # not this endpoint's
                {"success": False, "error": "insufficient_funds"},           # misspelt the "right" way
                {"success": "false", "error": "unknown_user"}):
        with pytest.raises(ValidationError):
            validator.validate(bad)


# --- the front door's over-limit answers ----------------------------------------

def _declared_headers(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    return _resolve(spec, spec["paths"][path][method]["responses"][status]).get("headers", {})


@pytest.mark.parametrize("statuses", ["200", "rest"])
def test_over_limit_answers_match_the_document(client: Any, site: Any, app_settings: Any,
                                               monkeypatch: pytest.MonkeyPatch,
                                               statuses: str) -> None:
    """`busy` on /pow/*, internal_error on the seed API, internal-error on siteverify:
    each in its operation's documented answers, with the Retry-After it declares."""
    from chalice import local
    from jsonschema import Draft202012Validator

    from chalicelib import front_door, limits

    spec = json.loads(SPEC_PATH.read_text())
    app_settings(WORKPROOF_SOURCE_LIMITS="on", WORKPROOF_ERROR_STATUS=statuses)
    monkeypatch.setattr(front_door, "clock", lambda: 1000.0)  # no refill
    monkeypatch.setattr(local.LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.66")
    expected = {"/pow/job": {"success": False, "error": "busy"},
                "/pow/submit": {"success": False, "error": "busy"},
                "/user/top": {"success": False, "error": "internal_error"},
                "/siteverify": {"success": False, "error-codes": ["internal-error"]}}
    try:
        for path, busy in expected.items():
            method = "get" if path == "/user/top" else "post"
            rule = limits.RULES[limits.route_class(path)]
            for _ in range(int(rule.capacity) + 1):
                response = client.http.request(
                    method.upper(), path, body=urlencode({"secret": site.secret, "site": "x"}),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert json.loads(response.body) == busy, path
            status = str(response.status_code)
            assert status == ("200" if statuses == "200" else "429")
            documented = "4XX" if status == "429" and path != "/siteverify" else status
            schema = dict(_response_schema(spec, path, method, documented),
                          components=spec["components"])
            Draft202012Validator(schema).validate(json.loads(response.body))
            assert int(response.headers["Retry-After"]) >= 1
            assert "Retry-After" in _declared_headers(spec, path, method, documented), path
    finally:
        front_door.configure(0.0)
