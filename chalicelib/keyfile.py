"""The signing key of a dev run, read from the file `make run` / `make store` write.

Only `chalice local` uses it (the dev stage sets WORKPROOF_SIGNING_KEY_FILE);
deployed stages read Secrets Manager. A missing or empty file is the
operator's to fix, so it is `not_configured` with one line saying how,
never `internal_error`.
"""
from __future__ import annotations

from pathlib import Path

from chalicelib.errors import NotConfigured

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def key_file_path(configured: str) -> Path:
    """`configured` as an absolute path (relative ones from the project's root)."""
    path = Path(configured).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def read_key_file(configured: str) -> str:
    """The key spec (`kid:base64key[,...]`) held in the file."""
    path = key_file_path(configured)
    try:
        spec = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NotConfigured(
            f"no proof-of-work signing key: {path} does not exist; run `make store` "
            "(or `make run`) once to generate it, or set WORKPROOF_SIGNING_KEYS") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotConfigured(f"cannot read the proof-of-work signing key {path}: {exc}") from None
    if not spec:
        raise NotConfigured(f"the proof-of-work signing key file {path} is empty; delete it and "
                            "run `make store` to generate a new one")
    return spec
