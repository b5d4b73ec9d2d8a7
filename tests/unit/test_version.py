"""One version: the package's __version__, /openapi.json's info.version and the
CHANGELOG's newest release heading are the same string."""
from __future__ import annotations

import json
import re

import chalicelib
from chalicelib import pages
from tests.docs import ROOT

RELEASE_HEADING = re.compile(r"^## \[?(\d+\.\d+\.\d+)\]? — (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def test_the_package_the_openapi_document_and_the_changelog_name_one_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", chalicelib.__version__)
    spec = json.loads((ROOT / "chalicelib" / "openapi.json").read_text(encoding="utf-8"))
    assert spec["info"]["version"] == chalicelib.__version__
    releases = RELEASE_HEADING.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert releases, "CHANGELOG.md has no release heading"
    assert releases[0][0] == chalicelib.__version__


def test_the_served_openapi_document_carries_the_version() -> None:
    answer = pages.openapi_file()  # what GET /openapi.json answers
    assert answer.status_code == 200
    assert json.loads(answer.body)["info"]["version"] == chalicelib.__version__


def test_releases_are_listed_newest_first_with_distinct_versions() -> None:
    releases = RELEASE_HEADING.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    versions = [tuple(int(part) for part in version.split(".")) for version, _ in releases]
    assert versions == sorted(set(versions), reverse=True)
    dates = [date for _, date in releases]
    assert dates == sorted(dates, reverse=True)
