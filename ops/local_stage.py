"""The project `chalice local` serves against `make store`, generated for the store's real port.

Chalice reads its stages only from the project's `.chalice/config.json` and
lets a stage's environment win over the shell's, so another store port or
state directory cannot be passed in by the environment. `make store` writes
a project of its own into the (git-ignored) state directory instead: links to
the repository's app.py and chalicelib/, and the repository's config with the
dev stage's store URL and signing-key file replaced by the ones in use. No
tracked file changes; `chalice --project-dir <it> local` serves it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ops.paths import ROOT, SIGNING_FILE, STATE_DIR

PROJECT_DIR = STATE_DIR / "chalice"
STAGE = "dev"
DEFAULT_HOST, DEFAULT_API_PORT = "127.0.0.1", 8000  # chalice local's own defaults
_LINKED = ("app.py", "chalicelib", "requirements.txt")


def stage_config(store_url: str, signing_file: Path = SIGNING_FILE) -> dict[str, Any]:
    """The repository's Chalice config, its dev stage pointed at this store and key file."""
    config: dict[str, Any] = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = config["stages"][STAGE]["environment_variables"]
    variables["AWS_ENDPOINT_URL_DYNAMODB"] = store_url
    variables["WORKPROOF_SIGNING_KEY_FILE"] = str(signing_file.resolve())
    return config


def write_project(store_url: str, target: Path = PROJECT_DIR) -> Path:
    """(Re)write the generated project in `target`; its path."""
    (target / ".chalice").mkdir(parents=True, exist_ok=True)
    for name in _LINKED:
        link = target / name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(ROOT / name, link)
    config_file = target / ".chalice" / "config.json"
    config_file.write_text(json.dumps(stage_config(store_url), indent=2) + "\n")
    return target


def repository_stage_fits(store_url: str, signing_file: Path = SIGNING_FILE) -> bool:
    """Whether the repository's own dev stage already names this store and key file."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = config["stages"][STAGE]["environment_variables"]
    return (variables["AWS_ENDPOINT_URL_DYNAMODB"] == store_url
            and (ROOT / variables["WORKPROOF_SIGNING_KEY_FILE"]).resolve() == signing_file.resolve())


def serve_command(store_url: str, host: str, api_port: int, project: Path = PROJECT_DIR,
                  signing_file: Path = SIGNING_FILE) -> str:
    """The command that serves the API against this store, typed from the repository's root.

    Plain `chalice local` when the repository's dev stage fits (it reloads on
    every edit); otherwise the generated project (Chalice changes into it, so
    the program's path is absolute; it reloads on edits to app.py, not to the
    linked chalicelib/).
    """
    options = "" if host == DEFAULT_HOST else f" --host {host}"
    options += "" if api_port == DEFAULT_API_PORT else f" --port {api_port}"
    if repository_stage_fits(store_url, signing_file):
        return f".venv/bin/chalice local{options}"
    return f"{ROOT / '.venv' / 'bin' / 'chalice'} --project-dir {project} local{options}"
