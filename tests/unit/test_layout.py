"""The README's Layout section is the tree, and the tree keeps its import rules.

Every Python module under chalicelib/ and ops/ is listed once in the Layout
(packages' __init__.py aside) and nothing listed is missing; ops/ is never
imported by what ships (app.py, chalicelib/), chalicelib/ never imports app,
and the endpoint modules never import each other.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED_TREES = ("chalicelib", "ops")
# Module paths, as the README's import rules name them.
ENDPOINTS = ("chalicelib/api.py", "chalicelib/mining.py", "chalicelib/siteverify.py",
             "chalicelib/pages.py", "chalicelib/dashboard/auth.py",
             "chalicelib/dashboard/views.py", "chalicelib/dashboard/link_views.py")
# In the Layout block, names sit left of this column, descriptions from it on.
DESCRIPTION_COLUMN = 24


def layout_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n", 2)[1].splitlines()


def listed_modules() -> list[str]:
    """Every `.py` path the Layout block names (directories from the indentation)."""
    parents: list[str] = []
    found = []
    for line in layout_block():
        names = line[:DESCRIPTION_COLUMN].strip()
        if not names:
            continue  # a description's continuation
        depth = (len(line) - len(line.lstrip(" "))) // 2
        parents = parents[:depth]
        for name in re.split(r"[,\s]+", names):
            if name.endswith("/"):
                parents.append(name)
            elif name.endswith(".py"):
                found.append("".join(parents) + name)
    return found


def tree_modules() -> set[str]:
    return {path.relative_to(ROOT).as_posix() for tree in CHECKED_TREES
            for path in (ROOT / tree).rglob("*.py")
            if path.name != "__init__.py" and "static" not in path.parts}


def test_every_module_is_listed_once_and_every_listed_module_exists() -> None:
    listed = listed_modules()
    assert [name for name, n in Counter(listed).items() if n > 1] == []
    in_trees = {name for name in listed if name.startswith(tuple(f"{t}/" for t in CHECKED_TREES))}
    assert sorted(tree_modules() - in_trees) == [], "modules missing from the README's Layout"
    assert sorted(name for name in listed if not (ROOT / name).is_file()) == [], \
        "listed in the README's Layout, absent from the tree"


def _module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (run as a script, never on import)."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def imports_of(path: str) -> set[str]:
    """The modules a file imports anywhere (functions included) outside its
    `__main__` guard; `from a import b` counts as both `a` and `a.b`."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    pending: list[ast.AST] = [stmt for stmt in tree.body if not _is_main_guard(stmt)]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _shipped() -> list[str]:
    return ["app.py", *sorted(p.relative_to(ROOT).as_posix()
                              for p in (ROOT / "chalicelib").rglob("*.py"))]


def _hits(imports: set[str], root: str) -> list[str]:
    return sorted(name for name in imports if name == root or name.startswith(root + "."))


def test_nothing_shipped_imports_ops() -> None:
    found = {path: _hits(imports_of(path), "ops") for path in _shipped()}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_chalicelib_never_imports_app() -> None:
    found = {path: _hits(imports_of(path), "app") for path in _shipped() if path != "app.py"}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_endpoint_modules_never_import_each_other() -> None:
    names = {_module_name(path) for path in ENDPOINTS}
    found = {path: sorted(imports_of(path) & (names - {_module_name(path)})) for path in ENDPOINTS}
    assert {path: hits for path, hits in found.items() if hits} == {}


def test_the_endpoint_list_is_the_one_the_readme_states() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rules = text.split("\nImport rules", 1)[1].split("\n## ", 1)[0]
    listing = rules.split("The endpoint modules", 1)[1].split("never import each other", 1)[0]
    stated = re.findall(r"`((?:dashboard/)?\w+\.py)`", listing)
    assert sorted(f"chalicelib/{name}" for name in stated) == sorted(ENDPOINTS)


def test_the_checks_see_an_import_where_one_is() -> None:
    """The import reader itself: a known arrow is found, a known absence is not."""
    assert "chalicelib.store.models" in imports_of("chalicelib/ledger.py")
    assert "chalicelib.dashboard.session" in imports_of("chalicelib/dashboard/throttle.py")
    # chalicelib/admin.py imports ops.admin, under its __main__ guard only.
    assert "from ops.admin import main" in (ROOT / "chalicelib/admin.py").read_text()
    assert _hits(imports_of("chalicelib/admin.py"), "ops") == []
