"""The library /lib/ serves: what each name holds, and its immutable, hashed name.

Scripts are bundles assembled from parts at first request, no build step: the
strings (i18n.js) first, then the code, so one <script> tag is all a page needs.
Parts (names starting with "_") are never served alone.

Every served file is also served under a name carrying its content hash
(`captcha.js` -> `captcha.<12 hex>.js`: SHA-256 of the exact bytes served),
cacheable for a year; a new deploy that changes the bytes changes the name.
Files refer to each other by `{{lib/NAME}}`, written as `lib/<hashed NAME>`
when assembled, so one visit loads only immutable URLs. Everything here is
computed once per container.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
HASH_LENGTH = 12
_MINER = ("i18n.js", "_miner.js")
_COMPAT = (*_MINER, "_widget.js", "_compat.js")
BUNDLES: dict[str, tuple[str, ...]] = {
    "workproof.js": _MINER,
    "captcha.js": (*_MINER, "_widget.js"),
    # Coinhive's own URLs, so pages written for Coinhive change only the host.
    "captcha.min.js": (*_MINER, "_widget.js"),
    "coinhive.min.js": (*_MINER, "_coinhive.js"),
    "authedmine.min.js": (*_MINER, "_coinhive.js"),
}
# reCAPTCHA's and Turnstile's script URLs, at the same paths under the API's base: the
# widget behind their browser APIs (_compat.js), so a site switches by changing the host.
# Each redirects to its bundle's hashed name under /lib/ (the bundle has no plain name
# there: its stable URL is the vendor's path, which _compat.js reads its flavor from).
COMPAT_SCRIPTS: dict[str, str] = {
    "/recaptcha/api.js": "recaptcha.js",
    "/turnstile/v0/api.js": "turnstile.js",
}
HASHED_ONLY: dict[str, tuple[str, ...]] = {"recaptcha.js": _COMPAT, "turnstile.js": _COMPAT}
# Everything /lib/{name} serves is a bundle above or one of these files, as
# they are; nothing else. A file added to static/ is served only once it is
# listed here (tests/functional/test_library_files.py fails until it is listed
# here, in INTERNAL_FILES or as a bundle's part).
LIBRARY_FILES = frozenset({
    "worker.js",                     # the miners' Web Worker, WASM inlined
    "i18n.js",                       # the strings alone (bundles start with them)
    "link.js", "link.css",           # the shortlink page's script and style
    "dashboard.js", "dashboard-overview.js", "dashboard-users.js", "dashboard-links.js",
    "dashboard-settings.js", "dashboard.css",  # the dashboard's own files
    "uPlot.iife.min.js", "uPlot.min.css",      # its charts (vendored, MIT: uPlot.LICENSE)
})
# Files of static/ never served as they are: pages the API fills in, and the
# vendored library's license. (Bundle parts, "_*.js", are never served alone.)
INTERNAL_FILES = frozenset({"link.html", "link-disabled.html", "dashboard.html", "uPlot.LICENSE"})
# Served under their plain name (which redirects to the hashed one).
PLAIN_NAMES = frozenset(BUNDLES) | LIBRARY_FILES
REFERENCE = re.compile(r"\{\{lib/([A-Za-z0-9_.-]+)\}\}")
_HASHED_NAME = re.compile(rf"(?P<stem>[A-Za-z0-9_.-]+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})"
                          r"(?P<suffix>\.(?:js|css))")


@lru_cache(maxsize=64)
def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _parts(name: str) -> tuple[str, ...] | None:
    if name in BUNDLES:
        return BUNDLES[name]
    if name in HASHED_ONLY:
        return HASHED_ONLY[name]
    if name in LIBRARY_FILES:
        return (name,)
    return None


@lru_cache(maxsize=32)
def source(name: str) -> str | None:
    """The exact text served for library file `name` (plain name, or a hashed-only
    bundle's), its references written as hashed names; None if not served."""
    parts = _parts(name)
    if parts is None:
        return None
    # ";" between parts: each is a complete statement, whatever its last line.
    return with_hashed_references("\n;\n".join(read(STATIC_DIR / part) for part in parts))


def with_hashed_references(text: str) -> str:
    """`{{lib/NAME}}` written as `lib/<NAME's hashed name>` (KeyError: not served)."""
    return REFERENCE.sub(lambda match: f"lib/{hashed_name(match.group(1))}", text)


@lru_cache(maxsize=32)
def content_hash(name: str) -> str:
    """The first HASH_LENGTH hex digits of SHA-256 of `name`'s served bytes."""
    text = source(name)
    if text is None:
        raise KeyError(name)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def hashed_name(name: str) -> str:
    """`captcha.min.js` -> `captcha.min.<hash>.js` (the hash before the last suffix)."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{content_hash(name)}{dot}{suffix}"


def unhashed(requested: str) -> str | None:
    """The library file a hashed name serves, if its hash is that file's current one."""
    match = _HASHED_NAME.fullmatch(requested)
    if match is None:
        return None
    name = match["stem"] + match["suffix"]
    if _parts(name) is None or content_hash(name) != match["hash"]:
        return None
    return name
