"""The browser text's languages, server side: the shortlink page is rendered in
the visitor's language from the same strings the scripts use.

The strings live once, in static/i18n.js, between its @@STRINGS markers (plain
JSON); the language choice mirrors that file's `match` (tests keep them equal).
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

I18N_JS = Path(__file__).parent / "static" / "i18n.js"
_BLOCK = re.compile(r"//\s*@@STRINGS_BEGIN\s*\n(.*?)\n\s*//\s*@@STRINGS_END", re.S)
RTL = frozenset({"ar", "he", "fa", "ur"})
ALIASES = {
    "no": "nb", "nn": "nb", "tl": "fil", "iw": "he", "in": "id",
    "zh": "zh-CN", "zh-hans": "zh-CN", "zh-sg": "zh-CN", "zh-my": "zh-CN",
    "zh-hant": "zh-TW", "zh-hk": "zh-TW", "zh-mo": "zh-TW",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """Every locale's strings, keyed by code ("en", "pt-BR", "zh-TW", ...)."""
    found = _BLOCK.search(I18N_JS.read_text(encoding="utf-8"))
    if not found:
        raise RuntimeError(f"{I18N_JS} has no @@STRINGS block")
    table: dict[str, dict[str, str]] = json.loads(found.group(1))
    return table


def match_tag(tag: str) -> str | None:
    """The code we have for one language tag, or None (same rules as i18n.js)."""
    t = tag.strip().replace("_", "-").lower()
    if not t:
        return None
    by_lower = {code.lower(): code for code in strings()}
    if t in ALIASES:
        return ALIASES[t]
    if t in by_lower:
        return by_lower[t]
    parts = t.split("-")
    base = parts[0]
    if base == "zh":
        return "zh-TW" if any(p in ("hant", "tw", "hk", "mo") for p in parts) else "zh-CN"
    if base == "pt":
        return "pt-BR" if "br" in parts[1:] else "pt"
    return ALIASES.get(base) or by_lower.get(base)


def accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and tag.strip() != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose(tags: list[str]) -> str:
    """The first tag we have a locale for, else "en"."""
    for tag in tags:
        code = match_tag(tag)
        if code:
            return code
    return "en"


def direction(code: str) -> str:
    return "rtl" if code.split("-")[0] in RTL else "ltr"


def text(code: str, key: str, **values: str) -> str:
    """One string of a locale with its {placeholders} filled in."""
    template = strings()[code].get(key) or strings()["en"][key]
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
