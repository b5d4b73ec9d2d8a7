"""What one visit costs the origin in library requests and bytes, first and again.

A page that embeds the captcha loads its script from a stable URL (`/lib/captcha.js`,
`/recaptcha/api.js`, `/turnstile/v0/api.js`), which redirects to the bundle's hashed,
immutable name; solving starts the miner's workers, which load `worker.<hash>.js`
(each thread asks; the browser's cache answers all but the first). The shortlink
and dashboard pages (no-store HTML) name their hashed files directly.

The app answers through chalice.test.Client (no AWS: /lib/ reads no table); a
browser's HTTP cache is modelled by RFC 9111's rules the answers rely on: a
response is reused while younger than its max-age (a 307 included, as browsers
do when it says so), a stale one with an ETag is revalidated (304: no bytes).
"before" is the same visits under the previous headers: every name plain,
`public, max-age=300`, no ETag, no redirect.

Usage: .venv/bin/python bench/widget_loads.py   (prints one table; about a second)
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

THREADS = 2  # the widget's default solver threads, each a Worker loading worker.js
REVISITS = {"first visit": 0, "again, 1 min later": 60, "again, 1 day later": 86_400}
_MAX_AGE = re.compile(r"max-age=(\d+)")
_LIB_REF = re.compile(r"""["'](/lib/[^"'?#]+)["']""")


@dataclass
class Cached:
    stored_at: float
    max_age: int
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Browser:
    """One browser profile's HTTP cache over an origin (`fetch(path, headers)`)."""

    fetch: Any
    now: float = 0.0
    cache: dict[str, Cached] = field(default_factory=dict)
    requests: int = 0
    library_bytes: int = 0
    from_cache: int = 0

    def get(self, path: str) -> bytes:
        """GET path as a browser does, redirects followed; the final body."""
        for _hop in range(5):
            status, headers, body = self._one(path)
            if status not in (301, 302, 307, 308):
                return body
            path = urljoin(path, headers["Location"])
        raise RuntimeError(f"redirect loop at {path}")

    def _one(self, path: str) -> tuple[int, dict[str, str], bytes]:
        key = urlsplit(path)._replace(fragment="").geturl()
        entry = self.cache.get(key)
        if entry and self.now - entry.stored_at < entry.max_age:
            self.from_cache += 1
            return entry.status, entry.headers, entry.body
        conditional = {"If-None-Match": entry.headers["ETag"]} if entry and "ETag" in entry.headers else {}
        status, headers, body = self.fetch(path, conditional)
        self.requests += 1
        if status == 304 and entry:
            entry.stored_at = self.now
            return entry.status, entry.headers, entry.body
        self.library_bytes += len(body) if urlsplit(path).path.startswith(("/lib/", "/recaptcha/",
                                                                           "/turnstile/")) else 0
        cache_control = headers.get("Cache-Control", "")
        match = _MAX_AGE.search(cache_control)
        if match and "no-store" not in cache_control:
            self.cache[key] = Cached(self.now, int(match[1]), status, headers, body)
        return status, headers, body


def app_origin() -> Any:
    from chalice.test import Client

    import app

    client = Client(app.app)

    def fetch(path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        response = client.http.get(path, headers=headers)
        return response.status_code, dict(response.headers), response.body

    return fetch


def before_origin() -> Any:
    """The previous answers: plain names only, max-age=300, no ETag, no redirect."""
    from chalicelib import library

    plain = {f"/lib/{name}": name for name in library.PLAIN_NAMES}
    hashed = {f"/lib/{library.hashed_name(name)}": name for name in library.PLAIN_NAMES}
    compat = {path: name for path, name in library.COMPAT_SCRIPTS.items()}

    def fetch(path: str, _headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        route = urlsplit(path).path
        name = plain.get(route) or hashed.get(route) or compat.get(route)
        if name is None:
            return 200, {}, b'{"success":false,"error":"not_found"}'
        return 200, {"Cache-Control": "public, max-age=300"}, (library.source(name) or "").encode()

    return fetch


def captcha_visit(script: str) -> Any:
    def visit(browser: Browser) -> None:
        bundle = browser.get(script).decode()
        (worker,) = set(_LIB_REF.findall(bundle))
        for _thread in range(THREADS):
            browser.get(worker)
    return visit


def page_visit(html: str) -> Any:
    def visit(browser: Browser) -> None:
        for path in _LIB_REF.findall(html):
            body = browser.get(path).decode()
            for worker in set(_LIB_REF.findall(body)):  # the link page's miner
                for _thread in range(THREADS):
                    browser.get(worker)
    return visit


def scenarios() -> dict[str, Any]:
    from chalicelib import pages

    link_html = pages.render_link_page("example.com", 1, "Code", "K" * 32, "", None)[0]
    dashboard_html = str(pages.dashboard_page("", local=False).body)
    return {"captcha (/lib/captcha.js)": captcha_visit("/lib/captcha.js?render=explicit"),
            "reCAPTCHA switch (/recaptcha/api.js)": captcha_visit("/recaptcha/api.js?onload=ready"),
            "Turnstile switch (/turnstile/v0/api.js)": captcha_visit("/turnstile/v0/api.js"),
            "shortlink page (/l/<code>)": page_visit(link_html),
            "dashboard (/dashboard)": page_visit(dashboard_html)}


def run() -> list[tuple[str, str, str, int, int, int]]:
    rows = []
    origins = {"now": app_origin(), "before": before_origin()}
    for name, visit in scenarios().items():
        for origin_name, fetch in origins.items():
            browser = Browser(fetch)
            for label, at in REVISITS.items():
                browser.now = at
                counts = (browser.requests, browser.library_bytes, browser.from_cache)
                visit(browser)
                rows.append((name, origin_name, label, browser.requests - counts[0],
                             browser.library_bytes - counts[1], browser.from_cache - counts[2]))
    return rows


def main() -> None:
    import logging

    logging.getLogger("workproof").setLevel(logging.WARNING)  # no request log lines
    print(f"{'visit':42} {'headers':7} {'when':20} {'requests':>8} {'library bytes':>14} {'from cache':>10}")
    for name, origin, label, requests, size, cached in run():
        print(f"{name:42} {origin:7} {label:20} {requests:8d} {size:14,d} {cached:10d}")


if __name__ == "__main__":
    main()
