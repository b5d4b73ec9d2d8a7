"""What the dashboard shows, each figure read through the code the HTTP API uses.

Overview: `stats.site_stats` (the figures of `/stats/site`) and `stats.hourly`
for captchas and link visits. Users: `ranks.top`, `ledger.balance`,
`ledger.withdraw`, `ledger.reset`, each with a request id of its own like the
API's (so a withdrawal from the page is exactly `/user/withdraw`'s). Links:
link_views.py. Settings: the snippets (snippets.py), `sites.update_site`, the site's
pressure levels (`sites.set_levels`) with where it stands now, in the admin
command's figures (`show-levels`), and the least hashes siteverify asks of a
token when the backend names none (`tokens.captcha_hashes`).
"""
from __future__ import annotations

from typing import Any

from chalicelib import config, ledger, pressure, ranks, sites, stats, targets, tokens
from chalicelib.dashboard.session import DashboardError
from chalicelib.dashboard.snippets import snippets
from chalicelib.dashboard.wire import Call
from chalicelib.errors import BadRequest, InvalidAmount, InvalidUrl, MissingInput
from chalicelib.params import positive_amount, to_int
from chalicelib.store.transactions import new_request_id

TOP_COUNT = 100
# metric name in stats.hourly -> key in the overview's series
HOURLY_METRICS = {"captchas_solved": "captchasSolved", "captchas_verified": "captchasVerified",
                  "link_visits": "linkVisits"}
MAX_ORIGINS = 32
MAX_ORIGIN_CHARS = 256


def overview(call: Call) -> dict[str, Any]:
    """Hashes/s now (the last minute's: `stats.current_rate`, through `site_stats`, as
    /stats/site), hashes in the last 7 days, and 168 zero-filled hours of every metric."""
    site_key = call.signed_site().site_key
    counts = stats.hourly_metrics(site_key, *stats.history_hours(call.now))  # one query
    figures = stats.site_stats(site_key, call.now, counts["hashes"])
    history: list[dict[str, Any]] = figures["history"]  # type: ignore[assignment]
    hours = [int(entry["time"]) for entry in history]
    series = {"hashes": [int(entry["hashesTotal"]) for entry in history]}
    for metric, key in HOURLY_METRICS.items():
        series[key] = [int(counts[metric].get(hour, 0)) for hour in hours]
    return {"now": call.now, "hashesPerSecond": figures["hashesPerSecond"],
            "hashesTotal": figures["hashesTotal"], "hours": hours, "series": series}


def top_users(call: Call) -> dict[str, Any]:
    order = call.params.string("order", required=False, max_chars=16) or "total"
    if order not in ranks.TOP_ORDERS:
        raise BadRequest("order must be total, balance or withdrawn")
    return {"order": order, "users": ranks.top(call.signed_site(), TOP_COUNT, order)}


def user(call: Call) -> dict[str, Any]:
    return {"user": ledger.balance(call.signed_site(), call.params.name()).as_json()}


def withdraw(call: Call) -> dict[str, Any]:
    site, name = call.signed_site(), call.params.name()
    amount = positive_amount(call.params, "amount", InvalidAmount)
    ledger.withdraw(site, name, amount, new_request_id())
    return {"name": name, "amount": amount, "user": ledger.balance(site, name).as_json()}


def reset(call: Call) -> dict[str, Any]:
    site, name = call.signed_site(), call.params.name()
    ledger.reset(site, name, new_request_id())
    return {"name": name}


class InvalidLevels(DashboardError):
    """Pressure levels that do not make sense (pressure.Levels.check says why)."""

    code, rest_status = "invalid_levels", 400


def levels_of(site: sites.SiteInfo) -> pressure.Levels:
    """The site's own levels, else the deployment's defaults."""
    return site.levels or pressure.default_levels(config.settings().min_work)


def levels_json(site: sites.SiteInfo, now: int) -> dict[str, Any]:
    """The site's levels and where it stands now: the admin command's `show-levels`
    figures (shares a minute live from the rate buckets, as the stream consumer reads them)."""
    levels = levels_of(site)
    return {"levels": list(levels.works), "stepUp": levels.step_up, "ceiling": levels.ceiling,
            "custom": site.levels is not None,
            "level": pressure.level_now(site.pressure, levels, now),
            "minWorkNow": pressure.min_work_now(site.pressure, levels, now),
            "admitted": pressure.admit_now(site.pressure, now),
            "sharesPerMinute": stats.current_rate(site.site_key, now).shares_per_minute,
            "heavySources": len(site.heavy)}


def settings(call: Call) -> dict[str, Any]:
    site = call.signed_site()
    api = call.base_url
    return {"siteKey": site.site_key, "name": site.name, "origins": list(site.origins),
            "api": api, "snippets": snippets(api, site.site_key),
            "pressure": levels_json(site, call.now), "captcha": captcha_json(site)}


def captcha_json(site: sites.SiteInfo) -> dict[str, Any]:
    """The least hashes siteverify asks of a token when the backend sends no
    `hashes`, and whether the site set it (else its base work)."""
    return {"hashes": tokens.captcha_hashes(site, config.settings().min_work),
            "custom": site.captcha_hashes is not None}


def set_captcha_hashes(call: Call) -> dict[str, Any]:
    """Set that least (`hashes`, 1 to 2^53 - 1), or `reset: true` for the base work."""
    site = call.signed_site()
    if call.params.values.get("reset") is True:
        hashes = None
    else:
        hashes = positive_amount(call.params, "hashes", BadRequest)
    return {"captcha": captcha_json(sites.update_site(site.site_key, captcha_hashes=hashes))}


def _works(given: object) -> tuple[int, ...]:
    """Each level's minimum work: comma-separated digits (or a JSON list of JSON integers)."""
    if isinstance(given, str):
        parts: list[object] = [part.strip() for part in given.split(",")]
    elif isinstance(given, list) and not any(isinstance(part, str) for part in given):
        parts = list(given)
    else:
        raise InvalidLevels("works: comma-separated integers")
    if len(parts) > pressure.MAX_LEVELS:
        raise InvalidLevels(f"at most {pressure.MAX_LEVELS} levels")
    return tuple(to_int(part, InvalidLevels) for part in parts)


def set_levels(call: Call) -> dict[str, Any]:
    """Set the site's levels (each of works, step_up, ceiling given replaces the
    current one), or `reset: true` for the deployment's defaults."""
    site = call.signed_site()
    values = call.params.values
    if values.get("reset") is True:
        updated = sites.set_levels(site.site_key, None)
    else:
        if not any(name in values for name in ("works", "step_up", "ceiling")):
            raise MissingInput("works, step_up or ceiling (or reset: true) is required")
        current = levels_of(site)
        works = _works(values["works"]) if "works" in values else current.works
        if call.params.json_strings & {"step_up", "ceiling"}:
            raise InvalidLevels("step_up and ceiling are JSON integers")
        step_up = call.params.integer("step_up", required=False, error=InvalidLevels)
        ceiling = call.params.integer("ceiling", required=False, error=InvalidLevels)
        levels = pressure.Levels(works=works,
                                 step_up=current.step_up if step_up is None else step_up,
                                 ceiling=current.ceiling if ceiling is None else ceiling)
        try:
            levels.check()
        except ValueError as error:
            raise InvalidLevels(str(error)) from None
        updated = sites.set_levels(site.site_key, levels)
    sites.clear_cache(site.site_key)
    return {"pressure": levels_json(updated, call.now)}


def normalise_origin(text: str) -> str:
    """An origin as a browser sends it in `Origin`: the WHATWG serialization
    (scheme://host[:port], lower case, punycode, no default port)."""
    try:
        target = targets.parse(text.strip())
    except InvalidUrl:
        raise BadRequest("not an origin") from None
    from ada_url import URL  # loaded by targets.parse above (a lazy import there)

    url = URL(target.href)
    if url.pathname not in ("", "/") or url.search or url.hash:
        raise BadRequest("an origin has no path, query or fragment")
    return str(url.origin)


def set_origins(call: Call) -> dict[str, Any]:
    """Limit the site's miners to these origins; an empty list allows every origin."""
    given = call.params.values.get("origins")
    if given is None:
        raise MissingInput("origins is required (an empty list allows every origin)")
    if not isinstance(given, list) or len(given) > MAX_ORIGINS or not all(
            isinstance(o, str) and 0 < len(o) <= MAX_ORIGIN_CHARS for o in given):
        raise BadRequest(f"origins: a list of at most {MAX_ORIGINS} strings")
    origins = list(dict.fromkeys(normalise_origin(o) for o in given))
    site = sites.update_site(call.signed_site().site_key, origins=origins or None)
    sites.clear_cache(site.site_key)
    return {"origins": list(site.origins)}
