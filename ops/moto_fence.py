"""The fence around ops/'s moto patches: they replace moto internals as moto 5.2.5 has them.

moto's internals change between releases without notice; a patch applied to
another version could corrupt the store quietly, so the patches refuse to
install on any moto but the one they were written and tested against.
"""
from __future__ import annotations

from importlib.metadata import version

TESTED_MOTO = "5.2.5"  # keep in step with requirements-dev.txt


class UntestedMoto(RuntimeError):
    """The installed moto is not the one ops/'s patches were tested against."""


def check_moto_version(installed: str) -> None:
    """`UntestedMoto`, with a one-line message, unless `installed` is the tested version."""
    if installed != TESTED_MOTO:
        raise UntestedMoto(f"moto {installed} is installed, but ops/ patches moto's internals as "
                           f"tested on moto {TESTED_MOTO} only: pip install moto=={TESTED_MOTO}")


def require_tested_moto() -> None:
    """Before patching moto: the installed version is the tested one."""
    check_moto_version(version("moto"))
