"""What stands in front of the app: the template's WAF web ACL and API Gateway's stage throttles.

WAF: every rule of the web ACL guarding the template's front door
(bench/edge_door.acl_logical_id: WebAcl on the REST door, which sees the
path behind the /api stage prefix; EdgeWebAcl on the cloudfront door, which
sees the path as sent), in priority order (bench/waf_rules.py reads and
evaluates their statements). A rule without a
rate blocks what its statement matches at once. A rate-based rule counts
the requests matching its scope that reach it (those it blocks included;
those an earlier rule blocked never reach it) per key (the source IP, or
one constant key for all), and decides as AWS documents: the rate is
evaluated every EVAL_SECONDS over the rule's window, and a decision to start
or stop blocking takes effect after a lag drawn from 0 to MAX_LAG_SECONDS
("AWS WAF ... can take up to about 30 seconds to detect and act").

API Gateway (the REST door only): each method of each resource has its own token bucket (the
stage's MethodSettings: the `/*` default, or the method's own setting);
a throttled request is answered 429 and billed by no layer but WAF.
"""
from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any

from bench import edge_door, waf_rules

EVAL_SECONDS = 10
MAX_LAG_SECONDS = 30.0
STAGE = "api"  # the template's stage: the REST door's WAF sees /api/... on the execute-api address


class _Counter:
    """A key's matching requests per whole second, and its block state with pending changes."""

    __slots__ = ("seconds", "blocked", "changes")

    def __init__(self) -> None:
        self.seconds: deque[list[int]] = deque()
        self.blocked = False
        self.changes: deque[tuple[float, bool]] = deque()

    def count(self, now: float) -> None:
        second = int(now)
        if self.seconds and self.seconds[-1][0] == second:
            self.seconds[-1][1] += 1
        else:
            self.seconds.append([second, 1])

    def is_blocked(self, now: float) -> bool:
        while self.changes and self.changes[0][0] <= now:
            self.blocked = self.changes.popleft()[1]
        return self.blocked

    def decided(self) -> bool:
        """The state the last decision asked for (pending or in force)."""
        return self.changes[-1][1] if self.changes else self.blocked


class Waf:
    def __init__(self, template: Mapping[str, Any], params: Mapping[str, Any], enabled: bool,
                 rng: random.Random) -> None:
        acl_id = edge_door.acl_logical_id(params)
        acl = template["Resources"].get(acl_id)
        self.enabled = enabled and acl is not None and edge_door.enabled(template, acl, params)
        self.stage = STAGE if edge_door.door(params) == edge_door.REST else ""
        self.rules = waf_rules.rules(template, params, self.stage, acl_id) if self.enabled else []
        self.rng = rng
        self.counters: dict[tuple[str, str], _Counter] = defaultdict(_Counter)
        self.blocked_by: dict[str, int] = defaultdict(int)
        self.next_eval = float(EVAL_SECONDS)

    def blocks(self, address: str, path: str, method: str, now: float) -> str | None:
        """The rule that blocks this request (and its answer's body key), else None."""
        if not self.enabled:
            return None
        seen = f"/{self.stage}{path}" if self.stage else path
        for rule in self.rules:
            if not waf_rules.matches(rule.statement, seen, method):
                continue
            if rule.limit is None:
                self.blocked_by[rule.name] += 1
                return rule.name
            counter = self.counters[(rule.name, address if rule.key == "IP" else "*")]
            counter.count(now)
            if counter.is_blocked(now):
                self.blocked_by[rule.name] += 1
                return rule.name
        return None

    def evaluate(self, now: float) -> None:
        """Every EVAL_SECONDS: each key's count over its rule's window, and a delayed decision."""
        while self.next_eval <= now:
            at = self.next_eval
            self.next_eval += EVAL_SECONDS
            limits = {rule.name: rule for rule in self.rules if rule.limit is not None}
            for (name, _key), counter in list(self.counters.items()):
                rule = limits[name]
                while counter.seconds and counter.seconds[0][0] <= at - rule.window:
                    counter.seconds.popleft()
                total = sum(n for second, n in counter.seconds if second < at)
                over = total > (rule.limit or 0)
                if over != counter.decided():
                    counter.changes.append((at + self.rng.uniform(0, MAX_LAG_SECONDS), over))
                if not counter.seconds and not counter.decided():
                    del self.counters[(name, _key)]


class StageThrottle:
    """API Gateway's stage throttles: one token bucket per resource and method.
    The buckets are the app's own token buckets (chalicelib/limits.py)."""

    def __init__(self, template: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        from chalicelib.limits import Rule, SourceLimits

        settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
        rules = {}
        self.own: set[tuple[str, str]] = set()
        for setting in settings:
            path = setting["ResourcePath"].replace("/~1", "/", 1).replace("~1", "/")
            method = setting["HttpMethod"]
            rate = _number(setting["ThrottlingRateLimit"], params)
            burst = _number(setting["ThrottlingBurstLimit"], params)
            rules[f"{path} {method}"] = Rule(burst, rate, 0)
            if path != "/*":
                self.own.add((path, method))
        self.buckets = SourceLimits(rules)

    def throttles(self, resource: str, method: str, now: float) -> bool:
        """Whether API Gateway refuses this request (`resource`: the API's resource path)."""
        rule = f"{resource} {method}" if (resource, method) in self.own else "/* *"
        return self.buckets.admit(rule, f"{resource} {method}", now) > 0


def _number(node: Any, params: Mapping[str, Any]) -> float:
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return float(params[node["Ref"]])
    return float(node)
