"""Every locale of static/i18n.js has every key, none empty, with the same
placeholders as English; 40+ languages; the server's language choice."""
from __future__ import annotations

import re

import pytest

from chalicelib import i18n

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_forty_or_more_languages_including_the_rtl_ones():
    codes = set(i18n.strings())
    assert len(codes) >= 40
    assert {"ar", "he", "fa", "ur"} <= codes
    assert {"en", "de", "fr", "es", "ja", "zh-CN", "zh-TW", "pt-BR", "ru", "hi"} <= codes


@pytest.mark.parametrize("code", sorted(i18n.strings()))
def test_locale_has_every_key_non_empty_with_english_placeholders(code):
    english = i18n.strings()["en"]
    table = i18n.strings()[code]
    assert set(table) == set(english), set(english) ^ set(table)
    for key, value in table.items():
        assert isinstance(value, str) and value.strip(), f"{code}.{key} is empty"
        assert value == value.strip(), f"{code}.{key} has surrounding blanks"
        assert sorted(PLACEHOLDER.findall(value)) == sorted(PLACEHOLDER.findall(english[key])), \
            f"{code}.{key} placeholders differ from English"


def test_translations_are_not_english_copies():
    english = i18n.strings()["en"]
    # Short UI words may coincide across languages (Pause, Link...); whole
    # sentences may not: a copied English sentence is an untranslated string.
    sentences = [k for k, v in english.items() if len(v.split()) >= 5]
    for code, table in i18n.strings().items():
        if code == "en":
            continue
        copied = [k for k in sentences if table[k] == english[k]]
        assert not copied, f"{code} leaves English in {copied}"


@pytest.mark.parametrize(("header", "expected"), [
    ("de-AT,de;q=0.9,en;q=0.8", "de"),
    ("xx-YY, fr;q=0.5", "fr"),
    ("en;q=0.1, ja;q=0.9", "ja"),
    ("zh-Hant-HK", "zh-TW"),
    ("zh-HK", "zh-TW"),
    ("zh", "zh-CN"),
    ("zh-Hans-CN", "zh-CN"),
    ("pt-BR", "pt-BR"),
    ("pt-PT", "pt"),
    ("pt", "pt"),
    ("no", "nb"),
    ("nn-NO", "nb"),
    ("tl", "fil"),
    ("iw", "he"),
    ("ar-EG", "ar"),
    ("fr;q=0, es", "es"),
    ("*", "en"),
    ("", "en"),
    (None, "en"),
    ("de;q=abc, it", "it"),
])
def test_accept_language_choice(header, expected):
    assert i18n.choose(i18n.accept_language(header)) == expected


def test_direction_and_placeholders():
    assert i18n.direction("ar") == "rtl" and i18n.direction("he") == "rtl"
    assert i18n.direction("fa") == "rtl" and i18n.direction("ur") == "rtl"
    assert i18n.direction("en") == "ltr" and i18n.direction("zh-TW") == "ltr"
    assert i18n.text("de", "linkPageTitle", host="example.com") == "Link zu example.com"
