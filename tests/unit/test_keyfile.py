"""A dev run's signing key comes from the file `make store` writes; without it,
`not_configured` with one line saying what to run."""
from __future__ import annotations

import base64

import pytest

from chalicelib import config, pow
from chalicelib.errors import NotConfigured
from chalicelib.keyfile import PROJECT_ROOT, key_file_path


def use(**environ: str) -> None:
    """Run with the settings of a function started with `environ`."""
    config.use(config.Settings.from_environ(environ))


@pytest.fixture
def key_file_env(tmp_path):
    before = config.settings()
    yield tmp_path
    config.use(before)  # the test run's own settings again


def test_keys_are_read_from_the_file(key_file_env):
    key = base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")
    path = key_file_env / "signing.key"
    path.write_text(f"local1:{key}\n")
    use(WORKPROOF_SIGNING_KEY_FILE=str(path))
    assert pow.signing_keys() == (("local1", b"k" * 32),)


def test_an_explicit_key_wins_over_the_file(key_file_env):
    use(WORKPROOF_SIGNING_KEY_FILE=str(key_file_env / "absent.key"),
        WORKPROOF_SIGNING_KEYS="x:" + base64.urlsafe_b64encode(b"z" * 16).decode())
    assert pow.signing_keys() == (("x", b"z" * 16),)


def test_missing_file_is_not_configured_with_one_line(key_file_env):
    use(WORKPROOF_SIGNING_KEY_FILE=str(key_file_env / "absent.key"))
    with pytest.raises(NotConfigured) as raised:
        pow.signing_keys()
    message = str(raised.value)
    assert "\n" not in message and "absent.key" in message and "make store" in message
    assert raised.value.code == "not_configured"


def test_empty_file_is_not_configured(key_file_env):
    (key_file_env / "empty.key").write_text("\n")
    use(WORKPROOF_SIGNING_KEY_FILE=str(key_file_env / "empty.key"))
    with pytest.raises(NotConfigured):
        pow.signing_keys()


def test_relative_paths_start_at_the_project_root():
    assert key_file_path(".workproof/signing.key") == PROJECT_ROOT / ".workproof" / "signing.key"
    assert (PROJECT_ROOT / "app.py").is_file()
    assert key_file_path("/etc/k") == PROJECT_ROOT.joinpath("/etc/k")
