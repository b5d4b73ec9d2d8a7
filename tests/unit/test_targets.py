"""Shortlink targets are read as browsers read them (chalicelib/targets.py).

The WHATWG URL test data of web-platform-tests (tests/data/wpt) is the
reference: every http/https case is either refused, or shown and stored
exactly as the standard (and so every browser) reads it.
"""
from __future__ import annotations

import json
import re
import string
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ada_url import URL
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib import targets
from chalicelib.errors import InvalidUrl

WPT_FILE = Path(__file__).resolve().parents[1] / "data" / "wpt" / "urltestdata.json"
WPT_CASES = [case for case in json.loads(WPT_FILE.read_text(encoding="utf-8")) if isinstance(case, dict)]
# The URL parser drops these before reading anything (leading/trailing C0 or
# space; tab and newlines anywhere): what is left decides whether an input is
# an absolute http(s) URL, whose meaning does not depend on the test's base.
_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))
_ABSOLUTE_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_HTTP_SCHEME = re.compile(r"^https?:", re.IGNORECASE)


def _as_parsed(text: str) -> str:
    return re.sub(r"[\t\n\r]", "", text).strip(_C0_OR_SPACE)


def _base_free(case: dict) -> bool:
    """Our targets have no base: cases whose result depends on theirs do not apply."""
    return case.get("base") is None or bool(_ABSOLUTE_HTTP.match(_as_parsed(case["input"])))


def wpt_http_cases() -> tuple[list[dict], list[dict]]:
    """(cases the standard parses to http/https, http/https inputs it refuses)."""
    parsed = [c for c in WPT_CASES if not c.get("failure") and c["protocol"] in ("http:", "https:")
              and _base_free(c)]
    failing = [c for c in WPT_CASES if c.get("failure") and _HTTP_SCHEME.match(_as_parsed(c["input"]))
               and _base_free(c)]
    return parsed, failing


def outcome(text: str) -> targets.Target | None:
    try:
        return targets.parse(text)
    except InvalidUrl:
        return None


# --- the WHATWG URL test data ----------------------------------------------------------

def test_every_wpt_http_case_is_refused_or_shown_and_stored_as_the_standard_says():
    parsed, _failing = wpt_http_cases()
    accepted, wrong = 0, []
    for case in parsed:
        target = outcome(case["input"])
        if target is None:
            continue
        accepted += 1
        if (target.host, target.href) != (case["hostname"], case["href"]):
            wrong.append((case["input"], target, case["hostname"], case["href"]))
    assert wrong == []
    # Not vacuous: plenty of the standard's own cases are served.
    assert accepted >= 100, accepted


def test_every_wpt_http_failure_is_refused():
    _parsed, failing = wpt_http_cases()
    assert len(failing) >= 50
    assert [c["input"] for c in failing if outcome(c["input"]) is not None] == []


def test_wpt_data_is_the_full_file_with_its_licence():
    assert len(WPT_CASES) > 800
    assert "3-Clause BSD" in (WPT_FILE.parent / "LICENSE.md").read_text(encoding="utf-8")


# --- what the rules refuse, and why ----------------------------------------------------

@pytest.mark.parametrize("url", [
    # userinfo, even empty: the reader sees one host, the browser uses another
    "https://paypal.com@evil.example/", "https://user:pw@example.com/", "https://:@example.com/",
    "https://@example.com/", "http://example.com:80@evil.example/",
    # backslashes: browsers read `\` as `/`, urlsplit does not (`a` vs `b` here)
    "https://a\\@b/", "http:\\\\example.com/", "https://example.com\\path",
    # control, format and whitespace characters
    "http://exa mple.com/", "http://a\nb.com/", "http://example.com/\t", " http://example.com/",
    "http://example.com/\x00", "http://example.com/\x7f", "http://example.com/\x85",
    "http://exa\u00admple.com/", "http://exa\u200bmple.com/", "http://example.com/\u202e",
    "http://example.com/\u00a0", "http://example.com/\u2028", "http://example.com/\u3000",
    "http://example.com/\ud800",
    # numeric IPv4 shorthands: dotted decimal as written, or nothing
    "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/",
    "http://127.0.0.1./", "http://0x7f000001/", "http://127.0.0.01/", "http://%31%32%37.0.0.1/",
    "http://\uff11\uff12\uff17.0.0.1/",
    # not http(s), not absolute, not a URL
    "ftp://example.com/file", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi",
    "example.com/page", "//example.com/", "http://", "https:///", "http://example.com:99999/",
    "mailto:someone@example.com", "http:example.com", "http:/example.com", "https:///example.com", "http://1.2.3.4.5/", "http://foo.0x10/", "http://[::1/",
    # names DNS cannot hold
    "http://" + "a" * 64 + ".com/", "http://" + ("a" * 60 + ".") * 5 + "com/", "http://a..b/",
    'https://ex"ample.com/', "https://exa'mple.com/", "https://{{api}}.example/",
    "https://a_b.example/", "https://a*b.example/", "https://a$b.example/", "https://a~b.example/",
    "https://a(b).example/", "https://a=b.example/", "https://a,b.example/",
])
def test_refused(url):
    assert outcome(url) is None


def test_over_2048_characters_is_refused():
    base = "https://example.com/"
    assert outcome(base + "a" * (2048 - len(base))) is not None
    assert outcome(base + "a" * (2049 - len(base))) is None


@pytest.mark.parametrize("url,href,host", [
    ("https://example.com", "https://example.com/", "example.com"),
    ("HTTPS://EXAMPLE.COM:443/A?B#C", "https://example.com/A?B#C", "example.com"),
    ("http://example.com:8080/p", "http://example.com:8080/p", "example.com"),
    ("http://ex%61mple.com/", "http://example.com/", "example.com"),
    ("https://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com/", "https://example.com/", "example.com"),
    ("https://faß.de/", "https://xn--fa-hia.de/", "xn--fa-hia.de"),
    ("https://bücher.example/kaufen", "https://xn--bcher-kva.example/kaufen", "xn--bcher-kva.example"),
    ("https://ΣΊΣΥΦΟΣ.gr/", "https://xn--kxa6akbbkh.gr/", "xn--kxa6akbbkh.gr"),
    ("https://例え。テスト/", "https://xn--r8jz45g.xn--zckzah/", "xn--r8jz45g.xn--zckzah"),
    ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x", "127.0.0.1"),
    ("http://[0:0::1]:80/", "http://[::1]/", "[::1]"),
    ("https://example.com/ä?q=ü#ö", "https://example.com/%C3%A4?q=%C3%BC#%C3%B6", "example.com"),
    ("https://example.com/{{code}}?{{host}}", "https://example.com/%7B%7Bcode%7D%7D?{{host}}",
     "example.com"),
    ("https://example.com/a/../b/./c", "https://example.com/b/c", "example.com"),
])
def test_accepted_targets_are_stored_serialized(url, href, host):
    assert targets.parse(url) == targets.Target(href, host)


# --- properties over generated URL strings ---------------------------------------------

# Characters that parsers read differently: delimiters, escapes, dots and
# digits that IPv4 parsing looks at, IDNA mappings, spaces and controls.
TRICKY = (string.ascii_letters[:8] + "XZ" + string.digits + "./:@\\%?#[]-_~!$&'()*+,;=" +
          "\t\n \x00\x7f\u00a0\u00ad\u00df\u03c2\u200b\u200d\u2024\u3002\uff0e\uff10\uff21\u0130"
          "\u212a\ufb00\ud800")
# What a path, query or fragment may hold that a browser still accepts.
PATHLIKE = string.ascii_letters[:6] + string.digits[:4] + "./:@%?#[]{}-_~!$&'()*+,;=|^`\"<>\u00e4\u00df\u4f8b\U0001f600"
HOSTS = st.sampled_from(["example.com", "127.0.0.1", "0x7f.1", "[::1]", "faß.de", "xn--fa-hia.de",
                         "a.b.c", "2130706433", "ex%61mple.com", "EXAMPLE.com.", "例え.テスト", ""])


@st.composite
def hostile_urls(draw) -> str:
    scheme = draw(st.sampled_from(["http://", "https://", "HTTP://", "http:", "https:/", "", "ftp://"]))
    userinfo = draw(st.sampled_from(["", "", "", "u@", ":@", "a:b@"]))
    host = draw(st.one_of(HOSTS, st.text(TRICKY, max_size=12)))
    port = draw(st.sampled_from(["", "", ":80", ":443", ":8080", ":0", ":65536", ":x"]))
    return scheme + userinfo + host + port + draw(st.text(TRICKY, max_size=20))


@st.composite
def plausible_urls(draw) -> str:
    scheme = draw(st.sampled_from(["http://", "https://", "HTTPS://", "http:"]))
    host = draw(HOSTS)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    return scheme + host + port + "/" + draw(st.text(PATHLIKE, max_size=24))


url_strings = st.one_of(plausible_urls(), hostile_urls())


def _host_by_urlsplit(href: str) -> str:
    host = urlsplit(href).hostname or ""
    return f"[{host}]" if ":" in host else host


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(url_strings)
@example("https://a\\@b/")
@example("http://0x7f.1/")
@example("https://faß.de/")
def test_accepted_targets_mean_one_host_to_every_reader(text):
    target = outcome(text)
    if target is None:
        return
    reparsed = URL(target.href)
    # The browser, reading what we store, goes to the host we show...
    assert reparsed.hostname == target.host
    # ...what we store is its own serialization (a stored link re-reads the same)...
    assert reparsed.href == target.href
    assert targets.parse(target.href) == target
    # ...and it is plain: ASCII, no userinfo, backslash, control or space, so
    # even a parser that is not the browser's (urlsplit) reads the same host.
    assert target.href.isascii() and "\\" not in target.href
    assert not any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target.href)
    assert "@" not in urlsplit(target.href).netloc
    assert _host_by_urlsplit(target.href) == target.host
    assert target.href.split(":", 1)[0] in ("http", "https")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=64))
def test_any_text_is_a_target_or_invalid_url(text):
    # Nothing but the contract's error comes out, whatever goes in.
    target = outcome(text)
    assert target is None or target.href.startswith(("http://", "https://"))
