"""Benchmark: a share-shaped transaction on the embedded store, by table size.

A share is one TransactWriteItems (with a ClientRequestToken, as the app
sends it): a Put of a replay guard with `attribute_not_exists(pk)` into a
guards table (with a NEW_AND_OLD_IMAGES stream) and an Update with ADD of a
user's credit in a ledger table. boto3 is used directly, over HTTP, against
`make run`'s store server started in this process.

Two variants, each in its own process (so each RSS is its own):
  store  the store as `make run` serves it (ops.store.install_dynamodb_fixes)
  moto   moto 5.2.5 as installed: the baseline
At each size the guards table is first filled to that many items (`store`:
by share transactions run on the backend in-process, the same code path
without HTTP; `moto`: by plain puts, as its transactions would take hours
to fill it), then N shares are timed. Printed per size: ms per share (median
and mean), the process RSS and its peak so far. Usage:
  .venv/bin/python bench/store.py [N]          (make bench-store; N = 200)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUARDS, LEDGER = "bench-guards", "bench-ledger"
USERS = 1000
SIZES = {"store": (1_000, 10_000, 100_000), "moto": (1_000, 10_000)}


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MiB."""
    current = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return current / 2**20, peak_kib / 1024


def share(job: str, user: int) -> list[dict[str, Any]]:
    return [
        {"Put": {"TableName": GUARDS, "ConditionExpression": "attribute_not_exists(pk)",
                 "Item": {"pk": {"S": f"G#{job}"}, "site": {"S": "s" * 32},
                          "hashes": {"N": "65536"}, "expires_at": {"N": "1764090000"}}}},
        {"Update": {"TableName": LEDGER, "Key": {"pk": {"S": f"U#{user}"}},
                    "UpdateExpression": "ADD credit :h",
                    "ExpressionAttributeValues": {":h": {"N": "65536"}}}},
    ]


def create_tables(client: Any) -> None:
    key = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
           "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
           "BillingMode": "PAY_PER_REQUEST"}
    client.create_table(TableName=GUARDS, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}, **key)
    client.create_table(TableName=LEDGER, **key)


def fill(variant: str, backend: Any, count: int, done: int) -> None:
    for n in range(done, count):
        if variant == "store":
            backend.transact_write_items(share(f"fill{n}", n % USERS))
        else:
            backend.put_item(GUARDS, share(f"fill{n}", 0)[0]["Put"]["Item"])


def run_variant(variant: str, n: int) -> None:
    """In this process: start the store, and print one JSON line per size."""
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from ops import store

    if variant == "moto":
        store.install_dynamodb_fixes = lambda: None  # the server as moto ships it
    server = store.StoreServer("127.0.0.1", 0).start()
    client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    create_tables(client)
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    done = 0
    for size in SIZES[variant]:
        fill(variant, backend, size, done)
        done = size
        times = []
        for i in range(n):
            start = time.perf_counter()
            client.transact_write_items(TransactItems=share(f"{size}-{i}", i % USERS),
                                        ClientRequestToken=uuid.uuid4().hex)
            times.append((time.perf_counter() - start) * 1000)
        done += n
        current, peak = rss_mib()
        print(json.dumps({"variant": variant, "size": size, "median_ms": statistics.median(times),
                          "mean_ms": statistics.mean(times), "rss_mib": current,
                          "peak_mib": peak, "n": n}), flush=True)
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=200, help="timed shares per size")
    parser.add_argument("--variant", choices=sorted(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant, args.n)
        return
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for variant, n in (("store", args.n), ("moto", max(args.n // 10, 5))):
        print(f"running {variant} ...", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, str(n), "--variant", variant],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        for line in done.stdout.splitlines():
            row = json.loads(line)
            rows[(row["variant"], row["size"])] = row
    print("share = TransactWriteItems(Put guard if absent + Update ADD credit), with a "
          "ClientRequestToken, boto3 over HTTP to the store server")
    print("| guards in table | store ms/share (median, mean) | moto 5.2.5 ms/share (median, mean) |"
          " store RSS / peak MiB | moto RSS / peak MiB |")
    print("|---:|---:|---:|---:|---:|")
    for size in SIZES["store"]:
        cells = []
        for variant in ("store", "moto"):
            row = rows.get((variant, size))
            cells.append(f"{row['median_ms']:.1f}, {row['mean_ms']:.1f} (n={row['n']})" if row
                         else "not run (too slow)")
        for variant in ("store", "moto"):
            row = rows.get((variant, size))
            cells.append(f"{row['rss_mib']:.0f} / {row['peak_mib']:.0f}" if row else "-")
        print(f"| {size:,} | " + " | ".join(cells) + " |")
    small, large = rows[("store", SIZES["store"][0])], rows[("store", SIZES["store"][-1])]
    print(f"store: ms/share at {SIZES['store'][-1]:,} / at {SIZES['store'][0]:,} items = "
          f"{large['median_ms'] / small['median_ms']:.2f}x; moto / store at "
          f"{SIZES['moto'][-1]:,} items = "
          f"{rows[('moto', SIZES['moto'][-1])]['median_ms'] / rows[('store', SIZES['moto'][-1])]['median_ms']:.0f}x")


if __name__ == "__main__":
    main()
