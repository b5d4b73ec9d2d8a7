"""The default door's checks in the deploy rehearsal (tests/deploy/test_rehearsal.py),
run against the packaged API function after the scenario (docs/contract.md,
"function URL"):

- a direct hit on the function URL (no `x-workproof-origin`, or a wrong
  one) is answered exactly `forbidden`, with no DynamoDB call recorded for
  that request (the calls the process recorded while it ran);
- the viewer's address is the one the viewer function wrote, and only with
  the origin secret: a `/pow/job` flood from one `x-workproof-viewer`
  address runs out of its bucket and is answered `busy` (before any DynamoDB
  call) while another address is still served; an `X-Forwarded-For` naming
  a fresh address changes nothing; the same requests, or any viewer address,
  without the secret or with a wrong one are `forbidden`.

The flood is bounded (FLOOD_BOUND requests) and stops at the first `busy`.
"""
from __future__ import annotations

from typing import Any

from tests.deploy.rehearsal_lambda import UrlApi
from tests.url_events import EDGE_ADDRESS

FORBIDDEN = {"success": False, "error": "forbidden"}
BUSY = {"success": False, "error": "busy"}
FLOODER, NEIGHBOUR = "198.51.100.20", "198.51.100.21"
FRESH = ("192.0.2.55", "192.0.2.56", "192.0.2.57")  # addresses this container never saw
FLOOD_BOUND = 40  # a new source holds 4 job tokens, refilled at 1 a second


def _dynamodb(api: UrlApi) -> list[str]:
    return [f"{c['operation']} {c['params']}" for c in api.last_calls if c["service"] == "dynamodb"]


def _captcha(site_key: str) -> dict[str, Any]:
    """A captcha's job request (valid: it would be served)."""
    return {"site": site_key, "token": "", "hashes": 1}


def _wrong(secret: str) -> str:
    """The secret with its last character changed: as long, not it."""
    return secret[:-1] + ("a" if secret[-1] != "a" else "b")


def _forbidden(api: UrlApi, what: str, method: str, path: str, **params: Any) -> dict[str, Any]:
    body = api(method, path, **params)
    assert body == FORBIDDEN, f"{what}: {method} {path} answered {body}\n{api.explain()}"
    assert not _dynamodb(api), f"{what}: refused after DynamoDB calls {_dynamodb(api)}"
    return body


def direct_hits(url: UrlApi, site: dict[str, str]) -> dict[str, Any]:
    """The function URL hit without CloudFront: forbidden before any DynamoDB call."""
    assert url.origin
    answers = {}
    for what, origin in (("no origin header", None), ("a wrong origin header", _wrong(url.origin))):
        direct = url.sent(origin=origin)
        answers[what] = [
            _forbidden(direct, what, "POST", "/pow/job", **_captcha(site["site_key"])),
            _forbidden(direct, what, "POST", "/user/withdraw", secret=site["secret"], name="alice",
                       amount=1),
            _forbidden(direct, what, "GET", "/user/balance", secret=site["secret"], name="alice")]
    # The same read through CloudFront is served from DynamoDB: the calls a request makes are seen.
    url.expect("GET", "/user/balance", secret=site["secret"], name="alice")
    assert _dynamodb(url), "a served balance read recorded no DynamoDB call"
    return answers


def _flood(flooder: UrlApi, site_key: str) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    while len(answers) < FLOOD_BOUND and BUSY not in answers:
        answers.append(flooder("POST", "/pow/job", **_captcha(site_key)))
    assert answers[-1] == BUSY, \
        f"{len(answers)} job requests from one viewer address and none answered busy: {answers[-1]}"
    assert all(a.get("success") is True for a in answers[:-1]), answers
    assert not _dynamodb(flooder), f"busy after DynamoDB calls {_dynamodb(flooder)}"
    headers = {name.lower() for name in flooder.last_response["headers"]}
    assert "retry-after" in headers, flooder.last_response
    return answers


def viewer_address(url: UrlApi, site: dict[str, str]) -> dict[str, Any]:
    """A flood from one viewer address runs dry; the address counts only with the secret."""
    assert url.origin
    key = site["site_key"]
    flood = _flood(url.sent(viewer=FLOODER), key)
    spoofed = url.sent(viewer=FLOODER, headers={"X-Forwarded-For": f"{FRESH[0]}, {EDGE_ADDRESS}"})
    after_spoof = spoofed("POST", "/pow/job", **_captcha(key))
    assert after_spoof == BUSY, f"an X-Forwarded-For of a fresh address got the flooder {after_spoof}"
    neighbour = url.sent(viewer=NEIGHBOUR).expect("POST", "/pow/job", **_captcha(key))
    unsecret = {}
    for what, origin in (("no origin header", None), ("a wrong origin header", _wrong(url.origin))):
        unsecret[what] = [_forbidden(url.sent(origin=origin, viewer=viewer), f"{what}, viewer {viewer}",
                                     "POST", "/pow/job", **_captcha(key))
                          for viewer in (FLOODER, NEIGHBOUR, *FRESH)]
    return {"flood": flood, "x-forwarded-for": after_spoof, "neighbour": neighbour,
            "without the secret": unsecret}
