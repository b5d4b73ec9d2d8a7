"""make run: a dashboard rotation of the demo site's secret updates demo.json,
so the demo page's backend calls keep working; nothing else touches it."""
from __future__ import annotations

import json
import os
import stat

import pytest

from ops import demo_server

DEMO = {"name": "demo", "site_key": "D" * 32, "secret": "old" + "x" * 29}


@pytest.fixture
def demo_file(tmp_path, monkeypatch):
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(DEMO))
    os.chmod(path, 0o600)
    monkeypatch.setattr(demo_server, "DEMO_FILE", path)
    return path


def answer(**fields) -> str:
    return json.dumps({"success": True, "siteKey": "D" * 32, "secret": "new" + "y" * 29, **fields})


def test_rotation_of_the_demo_site_is_written_back(demo_file):
    assert demo_server.remember_rotated_demo_secret("/dashboard/settings/rotate", answer()) is True
    assert json.loads(demo_file.read_text()) == {**DEMO, "secret": "new" + "y" * 29}
    assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("path,body", [
    ("/dashboard/settings/rotate", answer(siteKey="E" * 32)),  # another site
    ("/dashboard/settings/rotate", answer(success=False)),
    ("/dashboard/settings/rotate", '{"success":false,"error":"invalid_csrf"}'),
    ("/dashboard/settings/rotate", "not json"),
    ("/dashboard/settings/origins", answer()),
])
def test_anything_else_leaves_demo_json_alone(demo_file, path, body):
    assert demo_server.remember_rotated_demo_secret(path, body) is False
    assert json.loads(demo_file.read_text()) == DEMO
