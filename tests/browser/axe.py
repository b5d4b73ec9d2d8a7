"""axe-core (npm, pinned in tests/browser/vendor) run inside the page under test.

axe cannot see into closed shadow roots, and every Workproof widget draws in
one; pages audited here get OPEN_SHADOW_ROOTS as an init script, which makes
attachShadow create open roots (same content, same styles) so axe audits what
the visitor sees. The CSP tests never use it: there the roots stay closed.
"""
from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

OPEN_SHADOW_ROOTS = """
(function () {
  var attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    return attach.call(this, Object.assign({}, init, {mode: 'open'}));
  };
})();
"""


@lru_cache(maxsize=1)
def axe_source() -> str:
    if not AXE_JS.exists():
        subprocess.run(["bash", str(VENDOR / "install.sh")], check=True, timeout=300)
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Any, selector: str | None = None) -> list[dict[str, Any]]:
    """axe's WCAG 2.2 AA violations on the page (or the elements matching `selector`)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    return page.evaluate(
        """async ([selector, tags]) => {
             const context = selector ? {include: [[selector]]} : document;
             const result = await axe.run(context, {runOnly: {type: 'tag', values: tags},
                                                    resultTypes: ['violations']});
             return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}));
           }""", [selector, WCAG_22_AA])


def assert_accessible(page: Any, what: str, selector: str | None = None) -> None:
    found = violations(page, selector)
    assert found == [], f"axe WCAG 2.2 AA violations on {what}: {found}"


def passes_checked(page: Any) -> int:
    """How many axe rules passed on the page (proof that the audit looked at something)."""
    return page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                     resultTypes: ['passes']})).passes.length""",
        WCAG_22_AA)
