"""The documentation as the tests read it: the README and the pages under docs/."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def page(name: str) -> str:
    """One page: "README.md", or a page under docs/ by its file name ("captcha.md")."""
    path = ROOT / name if name == "README.md" else ROOT / "docs" / name
    return path.read_text(encoding="utf-8")


def pages() -> list[str]:
    """Every page under docs/, by file name."""
    return sorted(path.name for path in (ROOT / "docs").glob("*.md"))
