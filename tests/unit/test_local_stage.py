"""What `make store` tells the operator to run: plain `chalice local` where the tracked dev
stage fits the store, else the project it generated for its real ports."""
from __future__ import annotations

from pathlib import Path

from ops.local_stage import serve_command, stage_config
from ops.paths import ROOT

CHALICE = ROOT / ".venv" / "bin" / "chalice"
KEY = ROOT / ".workproof" / "signing.key"


def test_default_ports_and_state_use_the_repositorys_dev_stage() -> None:
    assert serve_command("http://127.0.0.1:8001", "127.0.0.1", 8000, signing_file=KEY) == \
        ".venv/bin/chalice local"
    assert serve_command("http://127.0.0.1:8001", "127.0.0.1", 9000, signing_file=KEY) == \
        ".venv/bin/chalice local --port 9000"


def test_another_store_port_or_state_directory_uses_the_generated_project(tmp_path: Path) -> None:
    project = tmp_path / "chalice"
    assert serve_command("http://127.0.0.1:9001", "127.0.0.1", 9000, project, KEY) == \
        f"{CHALICE} --project-dir {project} local --port 9000"
    assert serve_command("http://127.0.0.1:8001", "127.0.0.1", 8000, project,
                         tmp_path / "signing.key") == f"{CHALICE} --project-dir {project} local"
    assert serve_command("http://[::1]:8001", "::1", 8000, project, KEY) == \
        f"{CHALICE} --project-dir {project} local --host ::1"


def test_the_generated_stage_names_the_store_and_key_and_keeps_the_rest(tmp_path: Path) -> None:
    config = stage_config("http://127.0.0.1:9001", tmp_path / "signing.key")
    variables = config["stages"]["dev"]["environment_variables"]
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:9001"
    assert variables["WORKPROOF_SIGNING_KEY_FILE"] == str(tmp_path / "signing.key")
    assert variables["AWS_DEFAULT_REGION"] == "us-east-1" and config["app_name"] == "workproof"
