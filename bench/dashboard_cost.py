"""What each dashboard request costs in DynamoDB calls and units.

`.venv/bin/python bench/dashboard_cost.py`: the real app (chalice.test.Client)
on the in-process store, a site with 200 users, 7 days of hourly stats and
120 links, one signed-in session; every dashboard request is recorded with
make bench-cost's recorder (bench/dynamo_cost.py applies the billing rules).
The overview is what the page polls every 5 s while visible: its cost per
hour of an open tab is printed too.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cost import DYNAMODB_RRU, DYNAMODB_WRU, PRICES_DATE, Bench, _environment  # noqa: E402

POLLS_PER_HOUR = 3600 // 5


def _clients() -> list[Any]:
    """Every botocore client the models use (shared-table models included)."""
    from chalicelib.store import models

    seen: dict[int, Any] = {}
    for model in [*models.all_models(), *models.SHARED_TABLES]:
        client = model._get_connection().connection.client
        seen[id(client)] = client
    client = models.connection().client
    seen[id(client)] = client
    return list(seen.values())


class Dashboard:
    def __init__(self, bench: Bench) -> None:
        self.bench, self.cookie, self.csrf = bench, "", ""

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "X-Workproof-Csrf": self.csrf}
        if self.cookie:
            headers["Cookie"] = self.cookie
        response = self.bench.client.http.request(method, "/dashboard/" + path,
                                                  body=json.dumps(body or {}).encode(),
                                                  headers=headers)
        cookie = response.headers.get("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        answer = json.loads(response.body)
        self.csrf = answer.get("csrf", self.csrf)
        return answer


def populate(bench: Bench) -> None:
    """200 users, every hour of the last 7 days counted, 120 links."""
    import time

    from chalicelib import links, stats
    from chalicelib.store.models import StatsShard
    from tests.functional.store import put_users

    put_users(bench.site_key, {f"user{i:03}": (1000 + i * 37, i * 11) for i in range(200)})
    this_hour = stats.hour_of(int(time.time()))
    with StatsShard.batch_write() as batch:
        for ago in range(stats.SITE_HISTORY_HOURS):
            batch.save(StatsShard(bench.site_key, this_hour - ago * stats.HOUR, hashes=10**6 + ago,
                                  solved=ago % 7, verified=ago % 5, visits=ago % 3))
    for i in range(120):
        links.create(bench.site_key, f"https://example.com/{i}", 65536)


def main() -> int:
    _environment()
    from moto import mock_aws

    with mock_aws():
        from chalicelib.store import models
        from ops import tables

        models.bind()
        tables.create_tables("local")
        bench = Bench()
        populate(bench)
        dash = Dashboard(bench)
        from bench.dynamo_cost import Recorder

        def measure(label: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
            with Recorder(_clients(), bench.backend) as recorded:
                answer = dash.request(method, path, body)
            cost = recorded.cost
            dollars = cost.wru * DYNAMODB_WRU + cost.rru * DYNAMODB_RRU
            ok = "ok" if answer.get("success") else answer.get("error")
            print(f"| {label} | {ok} | {cost.by_key()} | {cost.wru:g} | {cost.rru:g} | "
                  f"{dollars * 1e6:.2f} |")
            return cost

        print(f"Dashboard requests, DynamoDB on-demand list prices of {PRICES_DATE} (us-east-1)")
        print()
        print("| request | answer | calls | WRU | RRU | DynamoDB $/M |")
        print("|---|---|---|---:|---:|---:|")
        measure("sign-in, wrong secret", "POST", "signin",
                {"site_key": bench.site_key, "secret": "wrong"})
        measure("sign-in", "POST", "signin", {"site_key": bench.site_key, "secret": bench.secret})
        measure("session", "GET", "session")
        overview = measure("overview (polled every 5 s)", "GET", "overview")
        measure("users (top 100)", "GET", "users?order=balance")
        measure("user (search)", "GET", "user?name=user007")
        measure("withdraw", "POST", "user/withdraw", {"name": "user007", "amount": 1})
        measure("reset", "POST", "user/reset", {"name": "user008"})
        measure("links (first page of 100)", "GET", "links")
        measure("settings", "GET", "settings")
        measure("origins", "POST", "settings/origins", {"origins": ["https://shop.example"]})
        measure("sign-out", "POST", "signout")
        hourly = overview.rru * POLLS_PER_HOUR
        print()
        print(f"An overview tab left open and visible: {POLLS_PER_HOUR} polls an hour = "
              f"{hourly:g} RRU = ${hourly * DYNAMODB_RRU:.6f} an hour in DynamoDB reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
