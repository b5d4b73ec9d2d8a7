"""What `make store` tells the operator to run: `chalice local` over the project it generated
for the store and ports in use."""
from __future__ import annotations

from pathlib import Path

from ops.local_stage import serve_command, stage_config
from ops.paths import ROOT

CHALICE = ROOT / ".venv" / "bin" / "chalice"


def test_the_command_serves_the_generated_project_on_the_ports_in_use(tmp_path: Path) -> None:
    project = tmp_path / "chalice"
    assert serve_command("127.0.0.1", 8000, project) == f"{CHALICE} --project-dir {project} local"
    assert serve_command("127.0.0.1", 9000, project) == \
        f"{CHALICE} --project-dir {project} local --port 9000"
    assert serve_command("::1", 8000, project) == f"{CHALICE} --project-dir {project} local --host ::1"


def test_the_generated_stage_names_the_store_and_key_and_keeps_the_rest(tmp_path: Path) -> None:
    config = stage_config("http://127.0.0.1:9001", tmp_path / "signing.key")
    variables = config["stages"]["dev"]["environment_variables"]
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:9001"
    assert variables["WORKPROOF_SIGNING_KEY_FILE"] == str(tmp_path / "signing.key")
    assert variables["AWS_DEFAULT_REGION"] == "us-east-1" and config["app_name"] == "workproof"
