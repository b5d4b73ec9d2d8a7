"""Served scripts are bundles of their parts (strings first), parts are never
served alone, and the shortlink page comes in the visitor's language under
its own strict CSP."""
from __future__ import annotations

import pytest

from chalicelib import i18n, library, pages


@pytest.mark.parametrize("name", sorted({**library.BUNDLES, **library.HASHED_ONLY}))
def test_every_bundle_starts_with_the_strings_and_holds_its_parts(name):
    source = library.source(name)
    assert source is not None
    parts = {**library.BUNDLES, **library.HASHED_ONLY}[name]
    assert parts[0] == "i18n.js" and source.startswith((library.STATIC_DIR / "i18n.js").read_text()[:200])
    for part in parts:
        text = library.with_hashed_references((library.STATIC_DIR / part).read_text())
        assert text in source


def test_coinhive_urls_serve_the_coinhive_api_and_captcha_min_the_widget():
    assert "root.CoinHive = {" in library.source("coinhive.min.js")
    assert library.source("authedmine.min.js") == library.source("coinhive.min.js")
    assert library.source("captcha.min.js") == library.source("captcha.js")
    assert "root.WorkProofCaptcha = {" in library.source("captcha.js")


@pytest.mark.parametrize("name", ["_miner.js", "_widget.js", "_coinhive.js", "../app.py", ".hidden",
                                  "nope.js", "a/b.js", ""])
def test_parts_and_other_names_are_not_served(name):
    assert library.source(name) is None


def test_plain_files_are_served_as_they_are():
    assert library.source("worker.js") == (library.STATIC_DIR / "worker.js").read_text()
    assert library.source("i18n.js") == (library.STATIC_DIR / "i18n.js").read_text()
    assert library.source("link.css").startswith("/*")


@pytest.mark.parametrize(("accept", "lang"), [(None, "en"), ("ar,en;q=0.5", "ar"), ("ja-JP", "ja"),
                                              ("pt-BR,pt;q=0.8", "pt-BR")])
def test_link_page_in_the_visitors_language(accept, lang):
    html, chosen = pages.render_link_page("example.com", 4194304, "Code1234", "K" * 32,
                                          "https://api.example/api", accept)
    assert chosen == lang
    assert f'<html lang="{lang}" dir="{i18n.direction(lang)}">' in html
    for key in ("linkTitle", "linkTo", "linkWork", "hashesLabel", "linkNote", "noscript"):
        assert i18n.text(lang, key).replace("'", "&#x27;").replace('"', "&quot;") in html, key
    assert f"<title>{i18n.text(lang, 'linkPageTitle', host='example.com')}</title>" in html
    assert "{{" not in html and "style=" not in html and "<style" not in html


def test_link_page_csp_allows_only_the_api():
    csp = pages.link_page_csp("https://api.example/api")
    assert "script-src 'self' https://api.example 'wasm-unsafe-eval'" in csp
    assert "style-src 'self' https://api.example;" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert pages.link_page_csp("").startswith("default-src 'none'; script-src 'self' 'wasm")
