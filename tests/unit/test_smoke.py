"""`make smoke`'s parts: its solver answers what the contract's rule accepts, it needs
nothing but the standard library, and the refusals it expects are the app's own."""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from ops import pow_solver, smoke
from tests.solver import solves

ROOT = Path(__file__).resolve().parents[2]
SMOKE_MODULES = ("ops/smoke.py", "ops/smoke_http.py", "ops/pow_solver.py")


@pytest.mark.parametrize("difficulty,count", [(1, 1), (7, 3), (300, 8), (4096, 32)])
def test_the_solvers_nonces_hold_under_the_contracts_rule(difficulty: int, count: int) -> None:
    job = f"v1.eyJ0ZXN0IjoxfQ.mac-{difficulty}-{count}"
    nonces = [int(n) for n in pow_solver.solve(job, difficulty, count).split(",")]
    assert len(nonces) == count
    assert all(solves(job, index, nonce, difficulty) for index, nonce in enumerate(nonces))
    # The first nonce that holds, each time: no nonce before it does.
    assert all(not solves(job, index, earlier, difficulty)
               for index, nonce in enumerate(nonces) for earlier in range(nonce))


def _top_level_imports(path: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module if node.module.startswith("ops.") else node.module.split(".")[0])
    return found


def test_the_smoke_test_needs_only_the_standard_library() -> None:
    own = {name.removesuffix(".py").replace("/", ".") for name in SMOKE_MODULES}
    imported = set().union(*(_top_level_imports(path) for path in SMOKE_MODULES))
    assert sorted(imported - set(sys.stdlib_module_names) - own - {"__future__"}) == []


def test_the_busy_it_expects_is_the_front_doors() -> None:
    from chalicelib import http

    for route in ("pow_job", "pow_submit"):
        answer = http.busy_response(route, 3)
        assert json.loads(answer.body) == smoke.BUSY
        assert answer.headers["Retry-After"] == "3"


def test_the_replay_it_expects_is_siteverifys_refusal() -> None:
    from chalicelib import siteverify

    answer = siteverify._refused(["timeout-or-duplicate"])
    assert json.loads(answer.body) == smoke.REPLAYED


def test_a_refused_secret_names_the_argument_to_check() -> None:
    assert smoke.refused("stats/site", {"success": False, "error": "invalid_secret"}) == \
        "stats/site: refused {'success': False, 'error': 'invalid_secret'} (is SECRET the secret of SITE?)"
    assert smoke.refused("siteverify", {"success": False, "error-codes": ["invalid-input-secret"]}) \
        .endswith("(is SECRET the secret of SITE?)")
    assert smoke.refused("captcha job", {"success": False, "error": "invalid_site"}) == \
        "captcha job: refused {'success': False, 'error': 'invalid_site'}"


@pytest.mark.parametrize("argv,message", [
    (["--url", "http://127.0.0.1:1", "--site", "s"], "SECRET is empty"),
    (["--url", "", "--site", "s", "--secret", "x"], "URL is empty"),
    (["--url", "127.0.0.1:8000", "--site", "s", "--secret", "x"], "is not an http(s) URL"),
])
def test_missing_or_bad_arguments_are_one_clear_line(argv: list[str], message: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(smoke.SECRET_VARIABLE, raising=False)
    with pytest.raises(SystemExit) as stopped:
        smoke.main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_stack_is_a_failure_line_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert smoke.main(["--url", f"http://127.0.0.1:{port}", "--site", "s", "--secret", "x"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(smoke.CHECKS)
    assert all(line.startswith(f"FAIL  http://127.0.0.1:{port}/") for line in lines)
