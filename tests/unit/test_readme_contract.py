"""The README says what the code and the OpenAPI document do: the body-size
limit, the errors every endpoint may answer, the job's field names."""
from __future__ import annotations

import json
import re
from pathlib import Path

from chalicelib import params

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPENAPI = json.loads((ROOT / "chalicelib" / "openapi.json").read_text(encoding="utf-8"))


def test_the_body_limit_is_the_codes_everywhere():
    limit = f"{params.MAX_BODY_BYTES:,} bytes"
    assert params.MAX_BODY_BYTES == 64 * 1024
    assert f"64 KiB ({limit}; a larger body is `bad_request`)" in README
    assert f"a body over 64 KiB ({limit}): bad_request." in OPENAPI["info"]["description"]


def test_the_global_errors_include_a_missing_parameter():
    section = README.split("Global errors:", 1)[1].split("```", 1)[0]
    codes = set(re.findall(r"`([a-z_]+)`", section))
    assert {"invalid_secret", "bad_request", "wrong_method", "not_found", "internal_error",
            "missing_input"} <= codes
    assert codes - {"secret", "name", "amount", "token", "hashes", "url", "job", "nonce"} <= \
        set(OPENAPI["components"]["schemas"]["ErrorCode"]["enum"])


def test_the_job_is_described_by_its_wire_names():
    answer = OPENAPI["components"]["responses"]["PowJob"]["content"]["application/json"]["schema"]["oneOf"][0]
    assert {"job", "difficulty", "count"} <= set(answer["required"])
    proof = README.split("## Proof of work (browser side)", 1)[1].split("##", 1)[0]
    assert "the JSON fields are\n`difficulty` and `count`" in proof
