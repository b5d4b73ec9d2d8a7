"""How much work a source's next job holds, and whether it gets one.

Pure decisions over what the request path has in memory anyway: the site
record (cached; the stream consumer writes its level, admission and heavy
sources onto it) and this container's view of each source's accepted
shares (`front_door.RATES`). No DynamoDB call of its own but one: while a
site admits only part of its jobs, which sources landed work on it lately
(recent_sources, read at most every few seconds per container).

A job is bound to the source that asked for it: the signed job carries
the asker's share tag (`Job.src`). A share submitted from another source
is still credited (a phone that changed networks mid-job), but the
submitting source gains nothing by it: the share must hold at least the
work the submitting source's own jobs would, takes one of its own
`/pow/job` tokens (as if it had asked), and faces the site's and the
source's admission.
"""
from __future__ import annotations

import random

from chalicelib import front_door, pressure, recent_sources, sources
from chalicelib.errors import Busy, InvalidJob
from chalicelib.pow import Job, signing_keys
from chalicelib.sites import SiteInfo


def share_tag(source: str) -> str:
    """The source's tag on its jobs and shares (keyed by the current signing key)."""
    return sources.share_tag(source, signing_keys()[0][1])


def levels_of(site: SiteInfo, base_work: int) -> pressure.Levels:
    return site.levels or pressure.default_levels(base_work)


def source_rate(site: SiteInfo, tag: str, now: int) -> pressure.SourceRate:
    """The source's accepted rates: what this container saw of it, or what the
    stream consumer published from every container, whichever lands more."""
    local = front_door.RATES.rate(tag, now)
    published = site.heavy[tag].at(now) if tag in site.heavy else None
    return published if published and published.shares > local.shares else local


def source_factor(site: SiteInfo, tag: str, now: int) -> float:
    """How much more than the site's level this source's jobs hold (1 to
    pressure.MAX_SOURCE_FACTOR)."""
    if not front_door.per_source():
        return 1.0
    return pressure.source_factor(source_rate(site, tag, now), front_door.LIMITS.scale)


def work_floor(site: SiteInfo, tag: str, now: int, base_work: int) -> int:
    """The least work of this source's next job on this site: the site's
    level, times the source's factor."""
    level_work = pressure.min_work_now(site.pressure, levels_of(site, base_work), now)
    return min(pressure.MAX_WORK, int(level_work * source_factor(site, tag, now)))


def admit(site: SiteInfo, tag: str, now: int) -> None:
    """A site over its ceiling admits only part of the new chains of the
    sources that landed work on it lately, and every new chain of a source
    that landed none in the last 5 to 10 minutes (a visitor; an
    attacker's address is that once a window, then it is known); a source
    over its own ceiling (pressure.SOURCE_CEILING shares a second, whatever
    its hash rate) none until it is back under. The rest are told to come
    back, before anything is written."""
    admitted = pressure.admit_now(site.pressure, now)
    if admitted < 1.0 and random.random() >= admitted \
            and not recent_sources.recent(site.site_key, now).is_fresh(tag):
        raise Busy(pressure.retry_after(admitted), "site over its ceiling")
    if not front_door.per_source():
        return
    wait = pressure.source_wait(source_rate(site, tag, now), front_door.LIMITS.scale)
    if wait:
        raise Busy(wait, "source over its ceiling")


def check_submitter(job: Job, site: SiteInfo, source: str, tag: str, now: int,
                    base_work: int) -> None:
    """A share from another source than its job's asker: credited only if it
    holds what the submitter's own jobs would at the base level, and charged
    to the submitter as an ask of its own (a job token, the site's and the
    source's admission)."""
    if not job.src or job.src == tag or not front_door.per_source():
        return
    least = int(levels_of(site, base_work).works[0] * source_factor(site, tag, now))
    if job.work < least:
        raise InvalidJob("asked from another source, smaller than this source's jobs")
    wait = front_door.admit_ask(source)
    if wait:
        raise Busy(wait, "submitted from another source than its job's")
    admit(site, tag, now)
