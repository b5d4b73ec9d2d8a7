"""ops/'s moto patches install only on the moto they were tested against, and say why not."""
from __future__ import annotations

import pytest

from ops.moto_fence import TESTED_MOTO, UntestedMoto, check_moto_version, require_tested_moto
from tests.fixtures import ROOT


@pytest.mark.parametrize("installed", ["5.2.6", "5.3.0", "6.0.0", "5.2.5.dev1", "5.2"])
def test_another_moto_is_refused_with_one_line_naming_both_versions(installed: str) -> None:
    with pytest.raises(UntestedMoto) as refused:
        check_moto_version(installed)
    assert str(refused.value) == (
        f"moto {installed} is installed, but ops/ patches moto's internals as tested on "
        "moto 5.2.5 only: pip install moto==5.2.5")


def test_the_tested_moto_is_the_pinned_one_and_installs() -> None:
    pins = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert f"moto[server,dynamodb]=={TESTED_MOTO}" in pins
    check_moto_version(TESTED_MOTO)
    require_tested_moto()  # this environment's moto
