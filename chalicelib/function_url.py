"""Lambda function URL events (payload format 2.0) as the REST API proxy
events (payload 1.0) Chalice routes, and Chalice's answers back as 2.0 answers.

Only requests CloudFront sent (chalicelib/lambda_app.py checked its secret)
get here, so the viewer's address (`x-workproof-viewer`, written by the
distribution's viewer-request function) is the request's source and the
viewer's Host (`x-forwarded-host`) its public host; the answer's links are
`https://<that host>/...`, with no stage in the path.

Routing is API Gateway's: the path is matched segment by segment against the
app's route templates, a literal segment beating a `{param}` capture from
the left (the most specific resource), and captures are percent-decoded.
"""
from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

# What the front door adds to every request it sends here.
ORIGIN_HEADER = "x-workproof-origin"  # the origin secret: never passed on
VIEWER_HEADER = "x-workproof-viewer"  # the viewer's address (CloudFront's event.viewer.ip)
HOST_HEADER = "x-forwarded-host"  # the Host the viewer asked for
# A function URL has no stages: Lambda's placeholder.
STAGE = "$default"
# A Host header's value: a DNS name or a bracketed IPv6 address, with a port maybe.
_HOST = re.compile(r"([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")

Event = dict[str, Any]


def is_function_url_event(event: object) -> bool:
    """A function URL's (payload 2.0) event, rather than API Gateway's REST event."""
    if not isinstance(event, Mapping) or event.get("version") != "2.0":
        return False
    context = event.get("requestContext")
    return isinstance(context, Mapping) and isinstance(context.get("http"), Mapping)


def _template_parts(template: str) -> list[str]:
    return [] if template == "/" else template.split("/")[1:]


def match_route(path: str, templates: Iterable[str]) -> tuple[str, dict[str, str]] | None:
    """The route template API Gateway picks for `path`, and its decoded captures;
    None when no template has the path's shape."""
    if not path.startswith("/"):
        return None
    if path != "/" and path.endswith("/"):
        path = path[:-1]  # as API Gateway does (and chalice local)
    segments = [unquote(part) for part in ([] if path == "/" else path[1:].split("/"))]
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for template in templates:
        parts = _template_parts(template)
        if len(parts) != len(segments):
            continue
        rank: list[int] = []
        captured: dict[str, str] = {}
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
                captured[part[1:-1]] = segment
                rank.append(1)
            elif part == segment:
                rank.append(0)
            else:
                break
        else:
            if best is None or tuple(rank) < best[0]:
                best = (tuple(rank), template, captured)
    return None if best is None else (best[1], best[2])


def viewer_address(headers: Mapping[str, str]) -> str:
    """The viewer's address CloudFront wrote, or "" (the source is then `unknown`)."""
    try:
        return str(ipaddress.ip_address(headers.get(VIEWER_HEADER, "").strip()))
    except ValueError:
        return ""


def public_host(headers: Mapping[str, str], fallback: str) -> str:
    """The Host the viewer asked for, if it is one, else `fallback`."""
    host = headers.get(HOST_HEADER, "").strip()
    return host if _HOST.fullmatch(host) else fallback


def _query(raw: str) -> dict[str, list[str]]:
    # Not 2.0's queryStringParameters: it comma-joins a repeated key's values,
    # which cannot be told from one value holding a comma.
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        multi.setdefault(name, []).append(value)
    return multi


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()
               if str(name).lower() != ORIGIN_HEADER}
    cookies = event.get("cookies")
    if isinstance(cookies, list) and cookies:
        headers["cookie"] = "; ".join(str(cookie) for cookie in cookies)
    return headers


def rest_event(event: Mapping[str, Any], templates: Iterable[str]) -> Event | None:
    """The REST proxy event API Gateway would send for this function URL request
    (sent by CloudFront); None if no route has the path's shape (`not_found`)."""
    raw_path = str(event.get("rawPath") or "/")
    matched = match_route(raw_path, templates)
    if matched is None:
        return None
    resource, captured = matched
    context = event["requestContext"]
    method = str(context["http"].get("method", "GET")).upper()
    headers = _headers(event)
    host = public_host(headers, str(headers.get("host") or context.get("domainName") or ""))
    headers.update({"host": host, "x-forwarded-proto": "https"})
    query = _query(str(event.get("rawQueryString") or ""))
    return {
        "resource": resource, "path": raw_path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": captured or None, "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": raw_path, "stage": STAGE,
            "requestId": str(context.get("requestId", "")), "domainName": host,
            "protocol": str(context["http"].get("protocol", "HTTP/1.1")),
            "identity": {"sourceIp": viewer_address(headers),
                         "userAgent": headers.get("user-agent")},
        },
        "body": event.get("body"), "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def url_response(answer: Mapping[str, Any]) -> Event:
    """Chalice's REST proxy answer as a function URL answer: repeated headers
    joined, `Set-Cookie` values in `cookies` (Lambda writes one header each)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    single = ((name, [value]) for name, value in (answer.get("headers") or {}).items())
    for name, values in (*single, *(answer.get("multiValueHeaders") or {}).items()):
        if name.lower() == "set-cookie":
            cookies.extend(str(value) for value in values)
            continue
        known = next((key for key in headers if key.lower() == name.lower()), name)
        headers[known] = ", ".join([*filter(None, [headers.get(known)]), *map(str, values)])
    body = answer.get("body")
    encoded = bool(answer.get("isBase64Encoded"))
    if isinstance(body, bytes):  # a binary answer Chalice did not encode
        body, encoded = base64.b64encode(body).decode("ascii"), True
    response: Event = {"statusCode": int(answer["statusCode"]), "headers": headers,
                       "body": "" if body is None else str(body), "isBase64Encoded": encoded}
    if cookies:
        response["cookies"] = cookies
    return response
