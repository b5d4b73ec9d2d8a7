"""The demo page's routes in `make run`'s server (`/`, `/demo/*`), and the demo secret kept in step.

The page and its backend calls (made with the demo site's secret, exactly as a
site's backend would) are in ops/demo.py; this module routes them and keeps
`.workproof/demo.json` current when the dashboard rotates the demo secret.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ops.addresses import url_host
from ops.paths import DEMO_FILE

# Everything printable in ASCII stays as sent; only other bytes are escaped.
_ASCII_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def utf8_path(path: str) -> str | None:
    """The request target with raw UTF-8 bytes percent-encoded, as API Gateway reads them.

    http.server decodes the request line as Latin-1, so raw UTF-8 in a query
    would reach the app as mojibake; None when the bytes are not UTF-8.
    """
    if path.isascii():
        return path
    raw = path.encode("latin-1")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return quote(raw, safe=_ASCII_SAFE)


DEMO_PATHS = ("/", "/demo/demo.js", "/demo/demo.css", "/demo/verify", "/demo/link")


def demo_response(method: str, path: str, body: bytes, server: Any) -> tuple[int, dict[str, str], str]:
    """The demo page, and its backend calls made with the demo site's secret."""
    import urllib.parse
    import urllib.request

    from ops import demo

    site = json.loads(DEMO_FILE.read_text())
    if path == "/":
        return (200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
                demo.render_demo_page(site["site_key"]))
    if path == "/demo/demo.js":
        return (200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store"},
                demo.demo_script())
    if path == "/demo/demo.css":
        return (200, {"Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-store"},
                demo.demo_style())
    if method != "POST":
        return 200, {"Content-Type": "application/json"}, '{"success":false,"error":"wrong_method"}'
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    api = f"http://{url_host(server.server_address[0])}:{server.server_address[1]}"

    def call(endpoint: str, **params: Any) -> dict[str, Any]:
        # Exactly what a site's backend does: POST the parameters with the secret.
        data = urllib.parse.urlencode({"secret": site["secret"], **params}).encode()
        with urllib.request.urlopen(f"{api}{endpoint}", data=data, timeout=10) as answer:
            decoded: dict[str, Any] = json.loads(answer.read())
            return decoded

    if path == "/demo/verify":
        result = demo.verify_demo_form(
            form, lambda token, hashes: call("/token/verify", token=token, hashes=hashes))
    else:
        result = demo.create_demo_link(
            form, lambda url, hashes: call("/link/create", url=url, hashes=hashes))
    return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(result)


DASHBOARD_ROTATE_PATH = "/dashboard/settings/rotate"


def remember_rotated_demo_secret(path: str, body: str | bytes) -> bool:
    """Keep `.workproof/demo.json` in step when the dashboard rotates the demo site's
    secret: the demo page's backend calls use that file's secret. True if it changed."""
    if path != DASHBOARD_ROTATE_PATH or not DEMO_FILE.exists():
        return False
    try:
        answer = json.loads(body)
        demo = json.loads(DEMO_FILE.read_text())
    except ValueError:
        return False
    if not isinstance(answer, dict) or answer.get("success") is not True \
            or answer.get("siteKey") != demo.get("site_key") or not answer.get("secret"):
        return False
    demo["secret"] = answer["secret"]
    partial = DEMO_FILE.with_suffix(".tmp")
    partial.touch(mode=0o600)
    partial.write_text(json.dumps(demo, indent=2) + "\n")
    partial.replace(DEMO_FILE)
    return True


