"""`make smoke`'s HTTP client: urllib only, so the smoke test runs from a bare python3.

Every answer comes back as it arrived (status, headers, body), non-2xx
included: the smoke test judges statuses itself.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 60
USER_AGENT = "workproof-smoke/1"


class Unreachable(Exception):
    """The API did not answer at all (DNS, refused connection, timeout)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, if it is one and is labelled JSON."""
        if not self.headers.get("content-type", "").startswith("application/json"):
            return None
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def shown(self, limit: int = 160) -> str:
        """The answer on one line, for a failure message."""
        text = " ".join(self.text().split())
        return f"HTTP {self.status}: {text[:limit]}{'…' if len(text) > limit else ''}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer to judge, not to follow (the API never redirects).
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Client:
    """Calls one deployment's API under its base URL (a stage path included)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(_NoRedirects)

    def post(self, path: str, params: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        """A form POST, as the sites' backends and the browser client send them."""
        body = urllib.parse.urlencode(params).encode("ascii")
        return self.send(urllib.request.Request(
            self.base + path, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}))

    def get(self, path: str, **params: str) -> Reply:
        query = urllib.parse.urlencode(params)
        return self.fetch(self.base + path + (f"?{query}" if query else ""))

    def fetch(self, url: str) -> Reply:
        """GET an absolute URL (a shortlink's page)."""
        return self.send(urllib.request.Request(url, method="GET"))

    def send(self, request: urllib.request.Request) -> Reply:
        request.add_header("User-Agent", USER_AGENT)
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return Reply(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, _lower(error.headers.items()), error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"{request.full_url.split('?', 1)[0]}: {reason}") from None


def _lower(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}
