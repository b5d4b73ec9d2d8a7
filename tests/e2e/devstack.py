"""`make store` + stock `chalice local`, on free ports, for the tests.

The dev stage's environment names the store at 127.0.0.1:8001, and
`chalice local` lets the stage's variables win over the process's, so each
test serves a copy of the project whose config names the test's own store
port (everything else is the repository's own file).
"""
from __future__ import annotations

import json
import os
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


def make_store(state_dir: Path) -> tuple[Process, str]:
    """`make store` on a free port, its state in `state_dir`; (process, store URL)."""
    port = _free_port()
    env = clean_env(WORKPROOF_STORE_PORT=str(port), WORKPROOF_STATE_DIR=str(state_dir))
    state_dir.mkdir(parents=True, exist_ok=True)
    process = _spawn(["make", "--no-print-directory", "store"], ROOT, env,
                     state_dir.parent / f"store-{port}.log")
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    deadline = time.time() + 60
    while not (state_dir / "demo.json").exists():  # the tables and the demo site come next
        if process.popen.poll() is not None or time.time() > deadline:
            raise RuntimeError(process.output())
        time.sleep(0.2)
    time.sleep(0.3)  # demo.json is written whole before the "ready" lines
    return process, url


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


def chalice_local(project: Path) -> tuple[Process, str]:
    """Stock `chalice local` (stage dev) in `project`; (process, base URL)."""
    port = _free_port()
    process = _spawn([str(CHALICE), "local", "--no-autoreload", "--port", str(port)],
                     project, clean_env(), project.parent / f"chalice-{port}.log")
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/ready", process)
    return process, base
