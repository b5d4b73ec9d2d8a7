"""The stream consumer's side of pressure: after a batch of accepted shares
has been counted, each site's level and heavy sources go onto its record.

Everything here is driven by credited shares (the guards' stream), never by
requests: a flood of free requests moves none of it. Per site touched by the
batch: one read of the site record, one query of its last minute's rate
buckets (stats.current_rate), a write only when the figures moved, and
while the site is above its base level or admitting part of its jobs one
more: the batch's sources onto recent_sources. /pow/job reads the level
and heavy sources with the site record it reads anyway (cached for
seconds); the recent sources only while the site admits part of its jobs.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib import pressure, recent_sources, sites, stats
from chalicelib.pressure import Pressure, SourceRate

# A hold refreshes the record at most this often (each refresh is a write;
# well under pressure.DECAY_SECONDS, so a held level never decays meanwhile).
REFRESH_SECONDS = 5
# The site's honest baseline is rewritten once it moved by this much.
BASELINE_CHANGE = 0.1


def _batch_work(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[int, int]]]:
    """Site -> source tag -> (hashes, shares) credited in these guard inserts."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for record in records:
        share = stats.share_of(record)
        if share is None or not share.site_key:
            continue
        per_source = found.setdefault(share.site_key, {})
        if share.source_tag:
            hashes, shares = per_source.get(share.source_tag, (0, 0))
            per_source[share.source_tag] = (hashes + int(share.hashes or 0), shares + 1)
    return found


def _moved(old: Pressure, new: Pressure) -> bool:
    return (old.level, old.admit) != (new.level, new.admit) \
        or new.hot_at - old.hot_at >= REFRESH_SECONDS \
        or new.over_at - old.over_at >= REFRESH_SECONDS \
        or abs(new.baseline - old.baseline) > max(1.0, BASELINE_CHANGE * old.baseline) \
        or (old.baseline_at == 0) != (new.baseline_at == 0)


def _heavy_moved(old: dict[str, SourceRate], new: dict[str, SourceRate]) -> bool:
    """Whether the heavy sources changed. The next batch merges onto what is
    stored, so an increment left unwritten would be lost for good: any change
    is written (at most one write per batch, and only while the site has a
    source over its allowance)."""
    return old != new


def apply(records: Iterable[dict[str, Any]], now: int, base_min_work: int) -> int:
    """Update the pressure of every site these guard records credit; returns
    the site records written."""
    written = 0
    for site_key, batch in _batch_work(records).items():
        site = sites.get_site(site_key, consistent=False)
        if site is None:
            continue
        levels = site.levels or pressure.default_levels(base_min_work)
        measured = stats.current_rate(site_key, now).shares_per_minute
        state = pressure.evaluate(site.pressure, levels, measured, now)
        # Heavy: a source landing more than its allowance, from every container.
        heavy = pressure.merge_heavy(site.heavy, batch, now)
        if state.level > 0 or state.admit < 1.0:
            # Under pressure, who landed this work: at the ceiling they wait their
            # turn, a source that landed none lately does not (recent_sources).
            recent_sources.record(site_key, batch, now)
        if _moved(site.pressure, state) or _heavy_moved(site.heavy, heavy):
            sites.publish_pressure(site_key, state, heavy)
            written += 1
    return written
