"""`make store` + stock `chalice local`, on free ports, for the tests.

`make store` on other ports than the dev stage's prints the command that serves
the API against it (a generated project, ops/local_stage.py); the tests run
exactly that command. `project_copy` makes a copy of the project with its own
config, for a stack the generated project does not describe (no signing key).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures import ROOT, _free_port

CHALICE = ROOT / ".venv" / "bin" / "chalice"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without AWS settings or a signing key (a fresh shell)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("WORKPROOF_")}
    env.update(extra)
    return env


@dataclass
class Process:
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)


def _spawn(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Process:
    handle = open(log, "w")
    popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                             start_new_session=True)
    return Process(popen, log)


def _wait(url: str, process: Process, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            if process.popen.poll() is not None or time.time() > deadline:
                raise RuntimeError(process.output()) from None
            time.sleep(0.3)


def make_store(state_dir: Path) -> tuple[Process, str, list[str]]:
    """`make store` on free ports, its state in `state_dir`; (process, store URL, the
    command it printed to serve the API)."""
    port, api_port = _free_port(), _free_port()
    env = clean_env(WORKPROOF_STORE_PORT=str(port), WORKPROOF_PORT=str(api_port),
                    WORKPROOF_STATE_DIR=str(state_dir))
    state_dir.mkdir(parents=True, exist_ok=True)
    process = _spawn(["make", "--no-print-directory", "store"], ROOT, env,
                     state_dir.parent / f"store-{port}.log")
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    deadline = time.time() + 60
    while not (found := re.search(r"Serve the API on \S+ with:\n  (.+)\n", process.output())):
        if process.popen.poll() is not None or time.time() > deadline:  # tables, demo site come next
            raise RuntimeError(process.output())
        time.sleep(0.2)
    return process, url, shlex.split(found.group(1))


def project_copy(target: Path, store_url: str) -> Path:
    """The app as `chalice local` sees it, with the dev stage naming `store_url`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "app.py", target / "app.py")
    shutil.copy(ROOT / "requirements.txt", target / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", target / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    (target / ".chalice").mkdir(exist_ok=True)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    dev_env = config["stages"]["dev"]["environment_variables"]
    assert dev_env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8001"
    dev_env["AWS_ENDPOINT_URL_DYNAMODB"] = store_url
    (target / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    return target


def chalice_local(command: list[str], log_dir: Path, cwd: Path = ROOT,
                  **env: str) -> tuple[Process, str]:
    """Stock `chalice local` run as `command` (without reloader) in a fresh shell plus `env`,
    its log in `log_dir`; (process, base URL)."""
    port = command[command.index("--port") + 1] if "--port" in command else str(_free_port())
    if "--port" not in command:
        command = [*command, "--port", port]
    process = _spawn([*command, "--no-autoreload"], cwd, clean_env(**env), log_dir / f"chalice-{port}.log")
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/ready", process)
    return process, base


def stock_chalice_local(project: Path) -> tuple[Process, str]:
    """Stock `chalice local` (stage dev) in `project`, on a free port."""
    return chalice_local([str(CHALICE), "local"], project.parent, project)
