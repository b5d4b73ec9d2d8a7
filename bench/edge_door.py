"""The flat-rate front door's prices and rules (bench-bill, bench-cost, bench-abuse).

Two doors, picked by the template's FrontDoor parameter:
- "rest": API Gateway's REST API with the regional WAF web ACL (bench/bill.py's
  API_GATEWAY_REQUEST and WAF_* prices; every request reaching the door is billed,
  blocked ones at WAF's price).
- "cloudfront": a CloudFront distribution on a flat-rate plan (EdgePlan) in front
  of the API function's URL. The plan's fee is the whole front-door bill: WAF,
  CloudFront requests and transfer within the allowance are included, requests
  WAF blocks are free and not counted, and past the allowance traffic is slowed,
  never billed (no overage). A function URL adds no fee beyond Lambda's. EdgePlan
  NONE is CloudFront and WAF pay-as-you-go.

Prices: us-east-1 (North America edge) list prices as of bench/bill.PRICES_DATE.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REST, EDGE = "rest", "cloudfront"


@dataclass(frozen=True)
class Plan:
    monthly: float          # dollars
    requests: float         # allowance per month
    transfer_gb: float      # allowance per month

    @property
    def request_price(self) -> float:
        """Dollars per request when the allowance is used in full (the fee spread over it)."""
        return self.monthly / self.requests


PLANS = {
    "FREE": Plan(0.0, 1e6, 100.0),
    "PRO": Plan(15.0, 10e6, 50_000.0),
    "BUSINESS": Plan(200.0, 125e6, 50_000.0),
    "PREMIUM": Plan(1_000.0, 500e6, 50_000.0),
}
# Pay-as-you-go CloudFront (EdgePlan NONE): per HTTPS request, per GB to viewers
# (first 10 TB, North America), per CloudFront Function invocation.
CLOUDFRONT_REQUEST = 0.0100 / 10_000
CLOUDFRONT_TRANSFER_GB = 0.085
CLOUDFRONT_FUNCTION = 0.10 / 1e6
# API Gateway (the REST door) answers to the internet: data transfer out, per GB (first 10 TB).
REST_TRANSFER_GB = 0.09
# The fastest answer the API function gives (a refusal from memory: no DynamoDB
# call), billed at Lambda's 1 ms granularity plus the runtime's own overhead:
# with no stage throttle in front of it, this and the reserved concurrency bound
# how many requests a second the function can be made to run.
MIN_API_SECONDS = 0.005
# What the cloudfront door routes to the verify function, a cache behaviour each
# (deploy/merge-template.json): the site backends' token checks, on a reserved
# concurrency of their own (VerifyReservedConcurrency).
VERIFY_PATHS = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify", "/token/verify")


def condition(template: Mapping[str, Any], name: str, params: Mapping[str, Any]) -> bool:
    """A template condition's value (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition)."""
    return _holds(template, template["Conditions"][name], params)


def _operand(node: Any, params: Mapping[str, Any]) -> str:
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return str(params[node["Ref"]])
    return str(node)


def _holds(template: Mapping[str, Any], node: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    (kind, body), = node.items()
    if kind == "Fn::Equals":
        return _operand(body[0], params) == _operand(body[1], params)
    if kind == "Condition":
        return condition(template, str(body), params)
    if kind == "Fn::Not":
        return not _holds(template, body[0], params)
    if kind == "Fn::And":
        return all(_holds(template, n, params) for n in body)
    if kind == "Fn::Or":
        return any(_holds(template, n, params) for n in body)
    raise ValueError(f"condition not modelled: {kind}")


def enabled(template: Mapping[str, Any], resource: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether a resource exists at these parameters (its Condition holds)."""
    name = resource.get("Condition")
    return True if name is None else condition(template, str(name), params)


def door(params: Mapping[str, Any]) -> str:
    return str(params.get("FrontDoor", REST))


def plan(params: Mapping[str, Any]) -> Plan | None:
    """The flat-rate plan of the cloudfront door (None: pay-as-you-go, or the REST door)."""
    if door(params) != EDGE:
        return None
    return PLANS.get(str(params.get("EdgePlan", "NONE")))


def acl_logical_id(params: Mapping[str, Any]) -> str:
    """The template's web ACL that guards the chosen door."""
    return "EdgeWebAcl" if door(params) == EDGE else "WebAcl"
