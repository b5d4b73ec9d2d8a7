"""The cloudfront door's web ACL (EdgeWebAcl) as bench-abuse reads it: paths as sent, no stage.

The edge ACL matches bytes with no transformation: a path is served only as
the app spells it, so a re-spelling is blocked by unserved-paths before any
rate rule's scope-down could be dodged by it; and the REST door's /api stage
prefix is not a path of this door.
"""
from __future__ import annotations

import random

import pytest

from bench import bill, edge_door, waf_rules
from bench.abuse.edge import EVAL_SECONDS, MAX_LAG_SECONDS, Waf

TEMPLATE = bill.load_template()
EDGE = bill.parameters(TEMPLATE, {"FrontDoor": "cloudfront"})
REST = bill.parameters(TEMPLATE, {"FrontDoor": "rest"})
POW_LIMIT = int(float(EDGE["WafPowRateLimit"]))
SOURCE, NEIGHBOUR = "203.0.113.9", "203.0.113.10"


def _edge_waf() -> Waf:
    return Waf(TEMPLATE, EDGE, True, random.Random(1))


def _send_pow_jobs(waf: Waf, count: int) -> None:
    """`count` POST /pow/job from SOURCE within the first evaluation period, none blocked yet."""
    for i in range(count):
        assert waf.blocks(SOURCE, "/pow/job", "POST", i * (EVAL_SECONDS - 1) / count) is None


def test_the_cloudfront_door_reads_the_edge_acl_with_no_stage() -> None:
    assert edge_door.acl_logical_id(EDGE) == "EdgeWebAcl"
    waf = _edge_waf()
    assert waf.enabled and waf.stage == ""
    assert [r.name for r in waf.rules] == [r.name for r in waf_rules.rules(
        TEMPLATE, EDGE, "", "EdgeWebAcl")] == ["unserved-paths", "unserved-methods", "pow-per-source",
                                                "other-per-source", "other-all-sources"]
    assert "ByteMatchStatement" in str(waf.rules[0].statement)
    assert "RegexMatchStatement" not in str([r.statement for r in waf.rules])


def test_pow_jobs_over_the_per_source_limit_are_blocked_at_the_edge() -> None:
    waf = _edge_waf()
    _send_pow_jobs(waf, POW_LIMIT + 1)
    waf.evaluate(EVAL_SECONDS)  # the decision, in force after a lag of at most MAX_LAG_SECONDS
    after_lag = EVAL_SECONDS + MAX_LAG_SECONDS + 1
    assert waf.blocks(SOURCE, "/pow/job", "POST", after_lag) == "pow-per-source"
    assert waf.blocks(SOURCE, "/pow/submit", "POST", after_lag) == "pow-per-source"
    assert waf.blocks(NEIGHBOUR, "/pow/job", "POST", after_lag) is None
    assert waf.blocked_by == {"pow-per-source": 2}


def test_pow_jobs_at_the_per_source_limit_pass() -> None:
    waf = _edge_waf()
    _send_pow_jobs(waf, POW_LIMIT)
    waf.evaluate(EVAL_SECONDS)
    assert waf.blocks(SOURCE, "/pow/job", "POST", EVAL_SECONDS + MAX_LAG_SECONDS + 1) is None


def test_the_rest_doors_stage_prefix_is_not_a_path_of_the_edge() -> None:
    waf = _edge_waf()
    assert waf.blocks(SOURCE, "/api/pow/job", "POST", 0.0) == "unserved-paths"
    assert waf.blocks(SOURCE, "/pow/job", "POST", 0.0) is None
    # The REST door's ACL, behind its stage, serves /api/pow/job.
    rest = Waf(TEMPLATE, REST, True, random.Random(1))
    assert rest.stage == "api" and edge_door.acl_logical_id(REST) == "WebAcl"
    assert rest.blocks(SOURCE, "/pow/job", "POST", 0.0) is None


@pytest.mark.parametrize("path", ["/pow//job", "/pow/%6Aob", "/pow/./job", "/POW/job", "/pow/job/",
                                  "//pow/job", "/pow/../pow/job"])
def test_a_re_spelled_path_is_blocked_as_unserved_at_the_edge(path: str) -> None:
    assert _edge_waf().blocks(SOURCE, path, "POST", 0.0) == "unserved-paths"


def test_a_served_path_with_a_method_it_refuses_is_blocked_at_the_edge() -> None:
    assert _edge_waf().blocks(SOURCE, "/pow/job", "GET", 0.0) == "unserved-methods"
