"""The operator's command: `python -m chalicelib.admin COMMAND ...`.

Prints JSON on success; on failure one line `error: ...` on stderr and a
non-zero exit status. DynamoDB is found through AWS_ENDPOINT_URL_DYNAMODB
(unset = real AWS); `--stage` picks the stage's tables.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from chalicelib import config


def _prepare(stage: str | None) -> None:
    endpoint = os.environ.get(config.ENV_DYNAMODB_ENDPOINT, "")
    if urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1"):
        # The embedded store accepts any credentials; real AWS needs yours.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault(config.ENV_REGION, config.DEFAULT_REGION)
    from chalicelib.store import models

    try:
        names = config.table_names(os.environ, None if stage in (None, "local", "dev") else stage)
        models.bind(names, config.region(os.environ))
    except config.SettingsError as error:
        raise SystemExit(f"error: {error}") from None


def _site(site_key: str) -> Any:
    from chalicelib import sites

    info = sites.get_site(site_key)
    if info is None:
        raise SystemExit(f"error: unknown site {site_key}")
    return info


def _site_json(info: Any) -> dict[str, Any]:
    return {"name": info.name, "site_key": info.site_key, "disabled": info.disabled,
            "origins": list(info.origins), "epoch": info.epoch,
            "xmrPending": info.xmr_pending, "xmrPaid": info.xmr_paid}


def _levels_json(info: Any) -> dict[str, Any]:
    """The site's levels (its own or the defaults) and where it stands now
    (shares a minute read from the rate buckets, as the stream consumer reads them)."""
    from chalicelib import pressure, stats

    levels = info.levels or pressure.default_levels(
        config.Settings.from_environ(os.environ).min_work)
    now = int(time.time())
    return {"site_key": info.site_key,
            "levels": list(levels.works), "stepUp": levels.step_up, "ceiling": levels.ceiling,
            "custom": info.levels is not None,
            "level": pressure.level_now(info.pressure, levels, now),
            "minWorkNow": pressure.min_work_now(info.pressure, levels, now),
            "admitted": pressure.admit_now(info.pressure, now),
            "sharesPerMinute": stats.current_rate(info.site_key, now).shares_per_minute,
            "heavySources": len(info.heavy)}


def cmd_create_site(args: argparse.Namespace) -> Any:
    from chalicelib import sites

    info, secret = sites.create_site(args.name)
    return {"name": info.name, "site_key": info.site_key, "secret": secret}


def cmd_rotate_secret(args: argparse.Namespace) -> Any:
    from chalicelib import sites

    info = _site(args.site_key)
    return {"name": info.name, "site_key": info.site_key,
            "secret": sites.rotate_secret(args.site_key)}


def cmd_list_sites(_args: argparse.Namespace) -> Any:
    from chalicelib import sites

    return {"sites": [_site_json(info) for info in sites.list_sites()]}


def cmd_disable_site(args: argparse.Namespace) -> Any:
    from chalicelib import sites

    _site(args.site_key)
    return _site_json(sites.update_site(args.site_key, disabled=not args.enable))


def cmd_set_origins(args: argparse.Namespace) -> Any:
    from chalicelib import sites

    _site(args.site_key)
    for origin in args.origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise SystemExit(f"error: not an origin (scheme://host[:port]): {origin}")
    origins = [o.rstrip("/") for o in args.origins] or None
    return _site_json(sites.update_site(args.site_key, origins=origins))


def cmd_set_payout(args: argparse.Namespace) -> Any:
    from chalicelib import sites, stats

    if args.site:
        _site(args.site)
        values = {}
        if args.xmr_pending is not None:
            values["xmr_pending"] = str(args.xmr_pending)
        if args.xmr_paid is not None:
            values["xmr_paid"] = str(args.xmr_paid)
        return _site_json(sites.update_site(args.site, **values))
    figures = {name: getattr(args, attr) for name, attr in (
        ("blockReward", "block_reward"), ("payoutPercentage", "payout_percentage"),
        ("payoutPer1MHashes", "payout_per_1m_hashes"), ("xmrToUsd", "xmr_to_usd"))
        if getattr(args, attr) is not None}
    stats.set_payout(figures, int(time.time()))
    current, updated = stats.read_payout()
    return {**current, "updated": updated}


def cmd_set_levels(args: argparse.Namespace) -> Any:
    from chalicelib import pressure, sites

    info = _site(args.site_key)
    if args.default:
        return _levels_json(sites.set_levels(info.site_key, None))
    current = info.levels or pressure.default_levels(
        config.Settings.from_environ(os.environ).min_work)
    try:
        works = tuple(int(w) for w in args.works.split(",")) if args.works else current.works
        levels = pressure.Levels(works=works,
                                 step_up=args.step_up if args.step_up is not None else current.step_up,
                                 ceiling=args.ceiling if args.ceiling is not None else current.ceiling)
        levels.check()
    except ValueError as error:
        raise SystemExit(f"error: levels: {error}") from None
    return _levels_json(sites.set_levels(info.site_key, levels))


def cmd_set_captcha_hashes(args: argparse.Namespace) -> Any:
    from chalicelib import sites, tokens
    from chalicelib.params import MAX_SAFE_INTEGER

    info = _site(args.site_key)
    if args.default == (args.hashes is not None):
        raise SystemExit("error: give HASHES or --default")
    if args.hashes is not None and not 1 <= args.hashes <= MAX_SAFE_INTEGER:
        raise SystemExit(f"error: hashes from 1 to {MAX_SAFE_INTEGER}")
    info = sites.update_site(info.site_key, captcha_hashes=args.hashes)
    return {"site_key": info.site_key, "custom": info.captcha_hashes is not None,
            "captchaHashes": tokens.captcha_hashes(
                info, config.Settings.from_environ(os.environ).min_work)}


def cmd_show_levels(args: argparse.Namespace) -> Any:
    return _levels_json(_site(args.site_key))


def cmd_delete_user(args: argparse.Namespace) -> Any:
    from chalicelib import ledger

    return {"name": args.name, "deleted": ledger.delete_user(_site(args.site_key), args.name)}


def cmd_import_users(args: argparse.Namespace) -> Any:
    from chalicelib import ledger
    from chalicelib.params import MAX_NAME_CODE_POINTS, MAX_SAFE_INTEGER

    site = _site(args.site_key)
    rows = []
    with open(args.file, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and row[0].strip().lower() == "name"):
                continue
            try:
                name, total, withdrawn = row[0], int(row[1]), int(row[2] if len(row) > 2 and row[2] else 0)
            except (ValueError, IndexError):
                raise SystemExit(f"error: line {number}: expected name,total,withdrawn") from None
            if not 1 <= len(name) <= MAX_NAME_CODE_POINTS or not 0 <= withdrawn <= total <= MAX_SAFE_INTEGER:
                raise SystemExit(f"error: line {number}: bad name or figures")
            rows.append((name, total, withdrawn))
    # Validated whole before the first write: a bad file changes nothing.
    for name, total, withdrawn in rows:
        ledger.set_figures(site, name, total, withdrawn)
    return {"site_key": site.site_key, "imported": len(rows)}


def cmd_create_tables(args: argparse.Namespace) -> Any:
    from ops import tables as admin_tables

    return {"tables": admin_tables.create_tables(args.stage)}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m chalicelib.admin", description=__doc__)
    top.add_argument("--stage", default=None, help="stage whose tables to use (default: dev)")
    sub = top.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Any, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--stage", default=argparse.SUPPRESS)
        command.set_defaults(fn=fn)
        return command

    add("create-site", cmd_create_site, "create a site; prints its key and secret once").add_argument("name")
    add("rotate-secret", cmd_rotate_secret, "replace a site's secret").add_argument("site_key")
    add("list-sites", cmd_list_sites, "list every site")
    disable = add("disable-site", cmd_disable_site, "disable (or --enable) a site")
    disable.add_argument("site_key")
    disable.add_argument("--enable", action="store_true")
    origins = add("set-origins", cmd_set_origins, "limit a site's miners to these origins (none: any)")
    origins.add_argument("site_key")
    origins.add_argument("origins", nargs="*")
    payout = add("set-payout", cmd_set_payout, "set /stats/payout figures, or a site's xmr figures")
    for flag in ("--block-reward", "--payout-percentage", "--payout-per-1m-hashes", "--xmr-to-usd",
                 "--xmr-pending", "--xmr-paid"):
        payout.add_argument(flag, type=float)
    payout.add_argument("--site", help="site key, for --xmr-pending / --xmr-paid")
    levels = add("set-levels", cmd_set_levels,
                 "set a site's pressure levels: minimum work per level, shares a minute that "
                 "step up, the top level's ceiling in shares a minute")
    levels.add_argument("site_key")
    levels.add_argument("--works", help="comma-separated minimum work per level, rising "
                                        "(e.g. 65536,131072,262144)")
    levels.add_argument("--step-up", type=int, help="accepted shares a minute that step up a level")
    levels.add_argument("--ceiling", type=int,
                        help="accepted shares a minute at the top level past which new jobs "
                             "are partly refused (busy)")
    levels.add_argument("--default", action="store_true", help="back to the deployment's defaults")
    captcha = add("set-captcha-hashes", cmd_set_captcha_hashes,
                  "the least hashes siteverify asks of a token when the backend sends no "
                  "`hashes` (default: the site's base work)")
    captcha.add_argument("site_key")
    captcha.add_argument("hashes", type=int, nargs="?")
    captcha.add_argument("--default", action="store_true", help="back to the site's base work")
    add("show-levels", cmd_show_levels,
        "a site's pressure levels, its level now and what it admits").add_argument("site_key")
    delete = add("delete-user", cmd_delete_user, "erase a user's ledger (erasure on request)")
    delete.add_argument("site_key")
    delete.add_argument("name")
    imports = add("import-users", cmd_import_users, "import name,total,withdrawn rows from a CSV")
    imports.add_argument("site_key")
    imports.add_argument("file")
    add("create-tables", cmd_create_tables, "create the stage's tables (idempotent)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        _prepare(args.stage)
        result = args.fn(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        raise
    except Exception as exc:  # one line for the operator, not a traceback
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
