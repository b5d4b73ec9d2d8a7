"""No link in the repository points outside it (docs/contract.md is the
contract, LICENSE the licence): a relative link in a Markdown or HTML file
resolves inside the repository, to a file that exists, and no tracked file
names the shared notes beside the repository."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
# A scheme (https:, mailto:, data:), a fragment of this page, or an absolute
# path (a URL path the API serves, never a file of the repository).
NOT_A_FILE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#|/|\$\{|\{)")


def tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                                capture_output=True).stdout.decode("utf-8")
        return [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an export without .git
        return [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()
                and not any(part.startswith(".") or part == "node_modules"
                            for part in p.relative_to(ROOT).parts)]


def links_of(name: str, text: str) -> list[str]:
    found = HTML_LINK.findall(text) if name.endswith((".md", ".html", ".htm")) else []
    if name.endswith(".md"):
        found += MARKDOWN_LINK.findall(text)
    return found


def escapes(name: str, target: str) -> str | None:
    """Why a relative link of file `name` is wrong (None: it is fine)."""
    if NOT_A_FILE.match(target):
        return None
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    parts: list[str] = []
    for part in (PurePosixPath(name).parent / path).parts:
        if part == "..":
            if not parts:
                return "leaves the repository"
            parts.pop()
        elif part != ".":
            parts.append(part)
    return None if (ROOT.joinpath(*parts)).exists() else "names no file of the repository"


def test_no_relative_link_leaves_the_repository_or_points_at_nothing() -> None:
    wrong = []
    for name in tracked_files():
        if not name.endswith((".md", ".html", ".htm")):
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        wrong += [f"{name}: {target} ({why})" for target in links_of(name, text)
                  if (why := escapes(name, target))]
    assert wrong == []


def test_no_tracked_file_names_the_notes_outside_the_repository() -> None:
    outside = "../" + "shared"  # spelled apart, so this file does not name it
    named = [name for name in tracked_files() if (ROOT / name).is_file()
             and outside in (ROOT / name).read_text(encoding="utf-8", errors="replace")]
    assert named == []


def test_the_contract_and_the_licence_are_linked_from_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {"docs/contract.md", "LICENSE"} <= set(links_of("README.md", text))


def test_every_docs_page_the_changelog_and_the_security_policy_are_in_the_readmes_contents() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    contents = text.split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    listed = {link.split("#", 1)[0] for link in links_of("README.md", contents)}
    pages = {path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md")}
    assert sorted((pages | {"CHANGELOG.md", "SECURITY.md"}) - listed) == []


def test_the_checks_tell_a_link_out_from_a_link_in() -> None:
    assert escapes("README.md", "../outside/notes.md") == "leaves the repository"
    assert escapes("docs/contract.md", "../../notes.md") == "leaves the repository"
    assert escapes("docs/contract.md", "../LICENSE") is None
    assert escapes("README.md", "docs/missing.md") == "names no file of the repository"
    assert escapes("README.md", "https://aws.github.io/chalice/") is None
    assert links_of("a.md", '[x](docs/contract.md) <a href="../y">') == ["../y", "docs/contract.md"]


def test_the_licence_is_the_one_openapi_json_names() -> None:
    import json

    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert " ".join(licence.split()[:5]) == "Apache License Version 2.0, January"
    spec = json.loads((ROOT / "chalicelib" / "openapi.json").read_text(encoding="utf-8"))
    assert spec["info"]["license"] == {"name": "Apache-2.0", "identifier": "Apache-2.0"}
