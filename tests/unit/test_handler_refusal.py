"""make run's server refuses what no route declares (TRACE, QUERY, a broken
request) in the contract's shape: siteverify's on its paths."""
from __future__ import annotations

import json

import pytest

from ops.handler import refusal


@pytest.mark.parametrize("path", ["/siteverify", "/recaptcha/api/siteverify?secret=x",
                                  "/turnstile/v0/siteverify"])
def test_siteverify_paths_answer_in_their_own_shape(path: str) -> None:
    assert json.loads(refusal(path, "wrong_method")) == {"success": False,
                                                         "error-codes": ["bad-request"]}


def test_other_paths_answer_the_contract_error() -> None:
    assert json.loads(refusal("/user/balance?secret=x", "wrong_method")) == {
        "success": False, "error": "wrong_method"}
    assert json.loads(refusal("", "bad_request")) == {"success": False, "error": "bad_request"}
    assert json.loads(refusal("/siteverify/x", "not_found")) == {"success": False,
                                                                 "error": "not_found"}
