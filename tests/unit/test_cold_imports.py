"""The function's cold start imports what every request needs, not what only some do
(`make bench-cold`): the dashboard, the stats and ranks, the stream consumer, the
shortlink targets' parser, the link page's languages and idempotency records load
with the first call that uses them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOADED_WHEN_USED = (
    "chalicelib.dashboard.auth", "chalicelib.dashboard.views", "chalicelib.dashboard.wire",
    "chalicelib.dashboard.session", "chalicelib.dashboard.throttle", "http.cookies",
    "chalicelib.stats", "chalicelib.ranks", "chalicelib.streams", "chalicelib.pressure_feed",
    "chalicelib.targets", "ada_url", "chalicelib.i18n", "chalicelib.store.idempotency",
)


def modules_after(statement: str) -> set[str]:
    """sys.modules of a fresh interpreter after `statement` (the tests' environment)."""
    done = subprocess.run([sys.executable, "-c", f"{statement}\nimport sys, json\n"
                           "print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_handler_leaves_what_only_some_requests_need() -> None:
    loaded = modules_after("import app")
    assert "chalicelib.mining" in loaded and "chalicelib.dashboard.routes" in loaded
    assert sorted(loaded & set(LOADED_WHEN_USED)) == []


def test_a_link_target_and_the_link_page_load_theirs_when_used() -> None:
    loaded = modules_after("import app\nfrom chalicelib import links, pages\n"
                           "links.validate_url('https://example.com/')\n"
                           "pages.render_link_page('example.com', 1, 'code', 'site', '', None)")
    assert {"chalicelib.targets", "ada_url", "chalicelib.i18n"} <= loaded
