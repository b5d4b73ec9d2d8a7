"""Lambda function URL events (payload format 2.0), as CloudFront's requests
reach the API function, built from AWS's documented sample.

tests/deploy/events/lambda-function-url.json is the request payload of the
Lambda developer guide, "Invoking Lambda function URLs" > "Request payload
format" (docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html), as
published. `url_event` fills in one request the way the front door sends
it: the origin secret in `x-workproof-origin`, the viewer's address in
`x-workproof-viewer` and its Host in `x-forwarded-host` (the distribution's
viewer-request function), Host the function URL's own domain, the TCP peer
a CloudFront edge.
"""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

SAMPLE = json.loads((Path(__file__).resolve().parent / "deploy" / "events"
                     / "lambda-function-url.json").read_text())
URL_HOST = "abcdefghij0123456789abcdefghij01.lambda-url.us-east-1.on.aws"
VIEWER_HOST = "workproof.example.org"
EDGE_ADDRESS = "130.176.0.10"  # a CloudFront edge: the function URL's TCP peer
FORM = "application/x-www-form-urlencoded"
_UNSET: Any = object()


def url_event(method: str, path: str, *, query: str = "", body: str | bytes | None = None,
              base64_body: bool = False, headers: dict[str, str] | None = None,
              cookies: list[str] | None = None, origin: str | None = _UNSET,
              viewer: str | None = "203.0.113.7", host: str | None = VIEWER_HOST,
              request_id: str = "c0ffee00-0000-4000-8000-000000000001",
              secret: str = "", url_host: str = URL_HOST) -> dict[str, Any]:
    """One function URL request. `origin` is the `x-workproof-origin` value sent
    (default: `secret`; None: no header), `viewer` and `host` CloudFront's
    headers (None: absent), `url_host` the function URL's domain (its Host)."""
    event = copy.deepcopy(SAMPLE)
    sent = {"host": url_host, "user-agent": "Amazon CloudFront", "via": "2.0 abc.cloudfront.net",
            "x-forwarded-for": f"{viewer or '192.0.2.99'}, {EDGE_ADDRESS}",
            "x-forwarded-proto": "https", "x-forwarded-port": "443"}
    origin = secret if origin is _UNSET else origin
    if origin is not None:
        sent["x-workproof-origin"] = origin
    if viewer is not None:
        sent["x-workproof-viewer"] = viewer
    if host is not None:
        sent["x-forwarded-host"] = host
    sent.update({name.lower(): value for name, value in (headers or {}).items()})
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None and base64_body:
        body_text: str | None = base64.b64encode(body).decode("ascii")
    else:
        body_text = None if body is None else body.decode("utf-8")
    event.update(rawPath=path, rawQueryString=query, headers=sent, body=body_text,
                 isBase64Encoded=bool(base64_body and body is not None))
    if body is None:
        del event["body"]
    if cookies:
        event["cookies"] = cookies
    else:
        event.pop("cookies")
    # What Lambda derives, comma-joined; the app must not read it (ambiguous).
    event["queryStringParameters"] = _joined(query) or None
    context = event["requestContext"]
    context.update(domainName=url_host, domainPrefix=url_host.split(".")[0], requestId=request_id,
                   authorizer=None)
    context["http"].update(method=method, path=path, sourceIp=EDGE_ADDRESS,
                           userAgent=sent["user-agent"])
    return event


def _joined(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    joined: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def answer_of(response: dict[str, Any]) -> dict[str, Any]:
    """A function URL answer's JSON body."""
    assert response["headers"]["Content-Type"].startswith("application/json"), response
    body = response["body"]
    if response["isBase64Encoded"]:
        body = base64.b64decode(body).decode("utf-8")
    return dict(json.loads(body))
