"""Where `make run` keeps its state, and the variables that move it."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_STATE_DIR = "WORKPROOF_STATE_DIR"
STATE_DIR = Path(os.environ.get(ENV_STATE_DIR) or ROOT / ".workproof")
DEMO_FILE = STATE_DIR / "demo.json"
SIGNING_FILE = STATE_DIR / "signing.key"
SNAPSHOT_FILE = STATE_DIR / "store.json"
