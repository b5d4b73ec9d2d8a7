"""The documentation says what the code and the OpenAPI document do: the body-size
limit, the errors every endpoint may answer (docs/http-api.md), the job's field
names (docs/proof-of-work.md)."""
from __future__ import annotations

import json
import re

from chalicelib import params
from tests.docs import ROOT, page

HTTP_API = page("http-api.md")
OPENAPI = json.loads((ROOT / "chalicelib" / "openapi.json").read_text(encoding="utf-8"))


def test_the_body_limit_is_the_codes_everywhere():
    limit = f"{params.MAX_BODY_BYTES:,} bytes"
    assert params.MAX_BODY_BYTES == 64 * 1024
    assert f"64 KiB ({limit}; a larger body is `bad_request`)" in HTTP_API
    assert f"a body over 64 KiB ({limit}): bad_request." in OPENAPI["info"]["description"]


def test_the_global_errors_include_a_missing_parameter():
    section = HTTP_API.split("Global errors:", 1)[1].split("```", 1)[0]
    codes = set(re.findall(r"`([a-z_]+)`", section))
    assert {"invalid_secret", "bad_request", "wrong_method", "not_found", "internal_error",
            "missing_input"} <= codes
    assert codes - {"secret", "name", "amount", "token", "hashes", "url", "job", "nonce"} <= \
        set(OPENAPI["components"]["schemas"]["ErrorCode"]["enum"])


def test_the_job_is_described_by_its_wire_names():
    answer = OPENAPI["components"]["responses"]["PowJob"]["content"]["application/json"]["schema"]["oneOf"][0]
    assert {"job", "difficulty", "count"} <= set(answer["required"])
    proof = page("proof-of-work.md").split("# Proof of work (browser side)\n", 1)[1].split("\n#", 1)[0]
    assert "the JSON fields are\n`difficulty` and `count`" in proof
