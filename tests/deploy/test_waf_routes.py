"""The WAF rules that block what the API does not serve, against app.py's own routes.

`unserved-paths` answers not_found to a path no route serves, and
`unserved-methods` answers wrong_method to a method a served path's view
refuses, at WAF: junk never reaches API Gateway or Lambda (neither bills a
request WAF blocked). Both directions are checked: every (path, method) a
route of app.py serves is let through, and every path the rules let through
is one a route serves (the rules' regexes are expanded into the paths they
match and each is looked up among the routes).
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from functools import cache
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest

from bench import bill, waf_rules

TEMPLATE = bill.load_template()
STAGE = "api"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# A sample value of each path parameter that its view serves.
CODE_SAMPLE = "AbC123xyz789"


@cache
def _app() -> Any:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import app

    return app.app


def _accepted(view: Any) -> frozenset[str] | None:
    """The methods a contract or dashboard view answers (its closure's `accepted`), if it checks one."""
    from chalicelib import http, siteverify

    if getattr(view, "__module__", "") == siteverify.__name__:
        return frozenset(siteverify.ACCEPTED_METHODS)
    stack, seen = [view], set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen or not inspect.isfunction(fn):
            continue
        seen.add(id(fn))
        names = inspect.getclosurevars(fn).nonlocals
        if isinstance(names.get("accepted"), str):
            return frozenset(m for m in METHODS if _allowed(http.check_method, m, names["accepted"]))
        stack.extend(names.values())
    return None


def _allowed(check: Any, method: str, accepted: str) -> bool:
    from chalicelib.errors import WrongMethod

    try:
        check(method, accepted)
    except WrongMethod:
        return False
    return True


def _answers(path: str, method: str) -> bool:
    """A view that checks its method itself: whether it answers `method` (not wrong_method)."""
    from chalice.test import Client

    with Client(_app()) as client:
        response = client.http.request(method, _samples(path)[0])
    return b'"error":"wrong_method"' not in response.body.replace(b" ", b"")


def _samples(path: str) -> list[str]:
    """Concrete paths a route template serves."""
    from chalicelib import library

    if "{name}" in path:  # the stable names and the current hashed ones
        names = {*library.PLAIN_NAMES, *map(library.hashed_name, library.PLAIN_NAMES | set(library.HASHED_ONLY))}
        return [path.replace("{name}", n) for n in sorted(names)]
    if "{code}" in path:
        return [path.replace("{code}", code) for code in (CODE_SAMPLE, "a", "Z" * 64)]
    return [path]


@cache
def served() -> dict[str, frozenset[str]]:
    """Concrete path -> the methods API Gateway hands to a view that answers them."""
    out: dict[str, frozenset[str]] = {}
    for path, entries in _app().routes.items():
        for method, entry in entries.items():
            if entry.view_name.startswith("not_found"):
                continue
            accepted = _accepted(entry.view_function)
            if accepted is not None:
                ok = method in accepted
            else:  # a view of one declared method serves it; else it checks the method itself
                ok = len(entries) == 1 or _answers(path, method)
            if entry.cors and method == "POST":
                for sample in _samples(path):
                    out[sample] = out.get(sample, frozenset()) | {"OPTIONS"}
            if ok:
                for sample in _samples(path):
                    out[sample] = out.get(sample, frozenset()) | {method}
    return out


def _route_serves(path: str) -> bool:
    """Whether a route of app.py serves `path` at all (any method)."""
    from chalicelib import library

    if path in served():
        return True
    if path.startswith("/lib/"):  # a stable name, or a hashed name's shape (any hash)
        name = re.sub(r"\.[0-9a-f]{12}(\.(js|css))$", r"\1", path[5:])
        return path[5:] in library.PLAIN_NAMES or (
            name != path[5:] and name in library.PLAIN_NAMES | set(library.HASHED_ONLY))
    return re.fullmatch(r"/l/[A-Za-z0-9]{1,64}", path) is not None


def _blocked(path: str, method: str) -> str | None:
    params = bill.parameters(TEMPLATE)
    for rule in waf_rules.rules(TEMPLATE, params, STAGE):
        if rule.limit is None and waf_rules.matches(rule.statement, path, method):
            return rule.name
    return None


def test_every_route_and_method_app_py_serves_passes_waf() -> None:
    assert len(served()) > 20
    for path, methods in served().items():
        for prefix in ("", f"/{STAGE}"):
            for method in methods:
                assert _blocked(prefix + path, method) is None, (path, method)


def test_methods_a_served_path_refuses_answer_wrong_method_at_waf() -> None:
    from chalicelib import siteverify

    for path, methods in served().items():
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method in methods:
                continue
            # siteverify answers in reCAPTCHA's shape, not the contract's: left to the app.
            expected = None if path in siteverify.PATHS else "unserved-methods"
            assert _blocked(path, method) == expected, (path, method)


@pytest.mark.parametrize("path", [
    "/", "/wp-login.php", "/pow", "/pow/", "/pow/job/", "/pow/jobs", "/POW/job", "/api/api/pow/job",
    "/lib/", "/lib/secret.py", "/lib/link.html", "/lib/dashboard.html", "/lib/recaptcha.js",
    "/lib/captcha.0123456789a.js", "/lib/link.0123456789ab.html", "/lib/_miner.0123456789ab.js", "/l/", "/l/" + "a" * 65,
    "/l/abc/def", "/l/ab-cd", "/token/verify/x", "/x/token/verify", "/dashboard/", "/dashboard/x",
    "/openapi.yaml", "/siteverify/x", "/stats", "/user", "/recaptcha/api2.js", "/%2e%2e/etc/passwd",
])
def test_paths_no_route_serves_answer_not_found_at_waf(path: str) -> None:
    assert not _route_serves(path)
    for method in METHODS:
        assert _blocked(path, method) == "unserved-paths", (path, method)


def _expand(tokens: Any) -> Iterator[str]:
    """Every string a (finite, anchored) regex matches, a character class's
    repetition stood for by its shortest and longest run of one sample character."""
    if not tokens:
        yield ""
        return
    (op, value), rest = tokens[0], tokens[1:]
    heads: list[str]
    if op is sre_constants.LITERAL:
        heads = [chr(value)]
    elif op is sre_constants.AT:
        heads = [""]
    elif op is sre_constants.SUBPATTERN:
        heads = list(_expand(list(value[-1])))
    elif op is sre_constants.BRANCH:
        heads = [s for branch in value[1] for s in _expand(list(branch))]
    elif op is sre_constants.MAX_REPEAT:
        low, high, body = value
        one = list(_expand(list(body)))
        heads = [h * n for h in one for n in sorted({low, high})]
    elif op is sre_constants.IN:  # the class's first character
        kind, first = value[0]
        heads = [chr(first[0] if kind is sre_constants.RANGE else first)]
    else:
        raise AssertionError(f"regex construct not expected in a served path: {op}")
    for head in heads:
        for tail in _expand(rest):
            yield head + tail


def _served_regexes() -> list[str]:
    (rule,) = [r for r in waf_rules.rules(TEMPLATE, bill.parameters(TEMPLATE), "")
               if r.name == "unserved-paths"]
    statements = rule.statement["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    return [s["RegexMatchStatement"]["RegexString"] for s in statements]


def test_every_path_the_rules_let_through_is_served_by_a_route() -> None:
    expanded = set()
    for regex in _served_regexes():
        assert regex.startswith("^(/)?/"), regex  # the stage, substituted empty
        for path in _expand(list(sre_parse.parse(regex.replace("^(/)?", "^", 1)))):
            expanded.add(path)
    assert len(expanded) > 30
    for path in expanded:
        assert _route_serves(path), path
    # ...and every route's path is among them (a param's sample aside).
    assert {p for p in served() if not p.startswith(("/l/", "/lib/"))} <= expanded
