"""docs/captcha.md's backend recipes (section "Backend recipes"), each run as written
there against a `make run` stack: a solved token signs up once; the same token again and
a tampered one are refused with HTTP 403. The code is read from that page, so the text
and the test cannot drift apart."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.docs import page
from tests.solver import solve

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "browser" / "vendor" / "node_modules"
HASHES = 65536
FIELD = "g-recaptcha-response"
Check = Callable[[str], int]  # token -> the HTTP status of POST /signup


def recipe(name: str) -> str:
    """The code block after `<!-- recipe: NAME -->` in docs/captcha.md."""
    text = page("captcha.md")
    found = re.search(rf"<!-- recipe: {name} -->\n```\w+\n(.*?)\n```\n", text, re.DOTALL)
    assert found, f"docs/captcha.md has no recipe {name}"
    return found.group(1) + "\n"


def solved_token(live: Any) -> str:
    """A token as the widget leaves it: /pow/job for HASHES, solved, submitted."""
    job = requests.post(f"{live.base_url}/pow/job", timeout=30,
                        data={"site": live.site_key, "token": "", "hashes": HASHES}).json()
    done = requests.post(f"{live.base_url}/pow/submit", timeout=30, data={
        "job": job["job"], "nonce": solve(job["job"], job["difficulty"], job["count"])}).json()
    assert done["success"] is True and done["total"] >= HASHES, done
    return str(job["token"])


def tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def env(live_server: Any) -> dict[str, str]:
    return {**os.environ, "WORKPROOF_API": live_server.base_url, "WORKPROOF_SECRET": live_server.secret}


def check_recipe(live: Any, signup: Check) -> None:
    token = solved_token(live)
    assert signup(tampered(token)) == 403
    assert signup(token) == 200
    assert signup(token) == 403, "a token is good once"


@contextmanager
def served(command: list[str], port: int, env: dict[str, str], cwd: Path) -> Iterator[Check]:
    """Runs a recipe's server on `port`; POST /signup through HTTP."""
    process = subprocess.Popen(command, cwd=cwd, env={**env, "PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    out = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(out) from None
                time.sleep(0.1)

        def signup(token: str) -> int:
            answer = requests.post(f"http://127.0.0.1:{port}/signup", data={FIELD: token}, timeout=30)
            assert answer.text == ("welcome" if answer.status_code == 200 else "refused")
            return answer.status_code
        yield signup
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_flask_recipe(live_server, env, monkeypatch):
    monkeypatch.setenv("WORKPROOF_API", env["WORKPROOF_API"])
    monkeypatch.setenv("WORKPROOF_SECRET", env["WORKPROOF_SECRET"])
    namespace: dict[str, Any] = {"__name__": "recipe_flask"}
    exec(compile(recipe("flask"), "docs/captcha.md (flask)", "exec"), namespace)
    client = namespace["app"].test_client()

    def signup(token: str) -> int:
        answer = client.post("/signup", data={FIELD: token})
        assert answer.status_code != 200 or answer.get_data(as_text=True) == "welcome"
        return int(answer.status_code)
    check_recipe(live_server, signup)


DJANGO_RUNNER = '''
import json, sys
import django
from django.conf import settings
settings.configure(DEBUG=False, SECRET_KEY="recipe-test", ALLOWED_HOSTS=["testserver"])
django.setup()
exec(compile(open(sys.argv[1]).read(), "docs/captcha.md (django)", "exec"))
from django.test import RequestFactory
answers = []
for token in sys.argv[2:]:
    response = signup(RequestFactory().post("/signup", {"g-recaptcha-response": token}))
    answers.append([response.status_code, response.content.decode()])
print(json.dumps(answers))
'''


def test_django_recipe(live_server, env, tmp_path):
    (tmp_path / "recipe.py").write_text(recipe("django"))
    (tmp_path / "runner.py").write_text(DJANGO_RUNNER)

    def signup(token: str) -> int:
        out = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "recipe.py"),
                              token], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        status, body = json.loads(out.stdout)[0]
        assert body == ("welcome" if status == 200 else "refused")
        return int(status)
    check_recipe(live_server, signup)


def test_express_recipe(live_server, env, tmp_path):
    if not shutil.which("node") or not (NODE_MODULES / "express").is_dir():
        pytest.skip("needs node and express (make browser-deps installs tests/browser/vendor)")
    (tmp_path / "recipe.js").write_text(recipe("express"))
    node_env = {**env, "NODE_PATH": str(NODE_MODULES)}
    port = free_port()
    with served(["node", "recipe.js"], port, node_env, tmp_path) as signup:
        check_recipe(live_server, signup)


def test_php_recipe(live_server, env, tmp_path):
    if not shutil.which("php"):
        pytest.skip("needs php (apt-get install php-cli)")
    (tmp_path / "signup.php").write_text(recipe("php"))
    port = free_port()
    with served(["php", "-S", f"127.0.0.1:{port}", "signup.php"], port, env, tmp_path) as signup:
        check_recipe(live_server, signup)
