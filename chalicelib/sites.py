"""Sites: public keys, secrets stored only as SHA-256, lookup and rotation."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import string
import time
from dataclasses import dataclass, field

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import observe
from chalicelib.errors import InternalError, InvalidSecret, InvalidSite, dynamo_error_code
from chalicelib.pressure import Levels, Pressure, SourceRate
from chalicelib.store.models import Site
from chalicelib.store.transactions import ConditionFailed, Transaction

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 32
# Public site records are cached this long in a warm Lambda (for /pow/job):
# short, because a cached epoch issues jobs that a reset-all made stale, and
# because the record carries the site's pressure (chalicelib/pressure_feed.py).
SITE_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class SiteInfo:
    site_key: str
    name: str
    epoch: int
    disabled: bool
    origins: tuple[str, ...] = field(default_factory=tuple)
    xmr_pending: str = "0"
    xmr_paid: str = "0"
    levels: Levels | None = None  # None: the deployment's defaults
    pressure: Pressure = field(default_factory=Pressure)
    # Heavy sources' tag -> accepted rates, from the stream consumer.
    heavy: dict[str, SourceRate] = field(default_factory=dict, hash=False, compare=False)
    captcha_hashes: int | None = None  # None: the base work (tokens.captcha_hashes)


def _json(text: str | None) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def parse_levels(text: str | None) -> Levels | None:
    """The operator's levels as stored (JSON), or None if unset or unreadable."""
    found = _json(text)
    if not isinstance(found, dict):
        return None
    try:
        levels = Levels(works=tuple(int(w) for w in found["works"]),
                        step_up=int(found["step_up"]), ceiling=int(found["ceiling"]))
        levels.check()
    except (KeyError, TypeError, ValueError):
        return None
    return levels


def dump_levels(levels: Levels) -> str:
    return json.dumps({"works": list(levels.works), "step_up": levels.step_up,
                       "ceiling": levels.ceiling}, separators=(",", ":"))


def parse_pressure(text: str | None) -> Pressure:
    found = _json(text)
    if not isinstance(found, dict):
        return Pressure()
    try:
        return Pressure(level=int(found.get("level", 0)), hot_at=int(found.get("hot_at", 0)),
                        admit=float(found.get("admit", 1.0)),
                        admit_at=int(found.get("admit_at", 0)),
                        rate=float(found.get("rate", 0.0)),
                        baseline=float(found.get("baseline", 0.0)),
                        baseline_at=int(found.get("baseline_at", 0)),
                        baseline_since=int(found.get("baseline_since", 0)),
                        over_at=int(found.get("over_at", 0)))
    except (TypeError, ValueError):
        return Pressure()


def dump_pressure(pressure: Pressure) -> str:
    return json.dumps(dataclasses.asdict(pressure), separators=(",", ":"))


def parse_heavy(text: str | None) -> dict[str, SourceRate]:
    """Tag -> [hashes/s, shares/s, as of unix s], as stored (unreadable entries dropped)."""
    found = _json(text)
    if not isinstance(found, dict):
        return {}
    heavy = {}
    for tag, value in found.items():
        if isinstance(tag, str) and isinstance(value, list) and len(value) == 3:
            try:
                heavy[tag] = SourceRate(float(value[0]), float(value[1]), float(value[2]))
            except (TypeError, ValueError):
                continue
    return heavy


def dump_heavy(heavy: dict[str, SourceRate]) -> str:
    return json.dumps({tag: [rate.hashes, rate.shares, int(rate.since)]
                       for tag, rate in heavy.items()}, separators=(",", ":"))


def random_key(length: int = KEY_LENGTH) -> str:
    """`length` characters of [A-Za-z0-9] from `secrets` (32: ~190 bits)."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(length))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(item: Site) -> SiteInfo:
    return SiteInfo(
        site_key=item.site_key or "",
        name=item.name or "",
        epoch=int(item.epoch or 0),
        disabled=bool(item.disabled),
        origins=tuple(str(origin) for origin in item.origins or ()),
        xmr_pending=item.xmr_pending or "0",
        xmr_paid=item.xmr_paid or "0",
        levels=parse_levels(item.levels),
        pressure=parse_pressure(item.pressure),
        heavy=parse_heavy(item.heavy),
        captcha_hashes=int(item.captcha_hashes) if item.captcha_hashes else None,
    )


def is_site_key(text: str) -> bool:
    """Shaped like a site key: 32 characters of [A-Za-z0-9]."""
    return len(text) == KEY_LENGTH and all(c in KEY_ALPHABET for c in text)


def get_site(site_key: str, *, consistent: bool = True) -> SiteInfo | None:
    if not is_site_key(site_key):
        return None
    try:
        return _info(Site.get(Site.pk_for(site_key), consistent_read=consistent))
    except DoesNotExist:
        return None


def authenticate(secret: str | None) -> SiteInfo:
    """The enabled site whose secret this is, else InvalidSecret."""
    if not secret or len(secret) > 256:
        raise InvalidSecret("no secret")
    try:
        digest = hash_secret(secret)
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800") is no one's secret
        raise InvalidSecret("secret is not valid Unicode") from None
    try:
        pointer = Site.get(Site.secret_pk(digest), consistent_read=True)
        item = Site.get(Site.pk_for(pointer.site_key or ""), consistent_read=True)
    except DoesNotExist:
        raise InvalidSecret("unknown secret") from None
    # Constant-time comparison against the site's current secret hash: a
    # pointer left by a rotation race never authenticates.
    if not hmac.compare_digest(digest, item.secret_hash or "") or item.disabled:
        raise InvalidSecret("revoked secret")
    observe.note_site(item.site_key or "")
    return _info(item)


@dataclass(frozen=True)
class SessionAnchor:
    """What a dashboard session is checked against on every request."""

    site: SiteInfo
    secret_hash: str  # the current secret's: a rotation ends older sessions
    sessions_after: int  # unix ms: sessions issued at or before it are over


def session_anchor(site_key: str) -> SessionAnchor | None:
    """The site's record as a dashboard session sees it (read consistently)."""
    if not is_site_key(site_key):
        return None
    try:
        item = Site.get(Site.pk_for(site_key), consistent_read=True)
    except DoesNotExist:
        return None
    return SessionAnchor(_info(item), item.secret_hash or "", int(item.sessions_after or 0))


def end_sessions(site_key: str, before_ms: int) -> None:
    """Every dashboard session of the site issued at or before `before_ms` is over."""
    try:
        Site(Site.pk_for(site_key)).update(
            actions=[Site.sessions_after.set(before_ms)],
            # Only ever forwards: a slow sign-out cannot revive older sessions.
            condition=Site.pk.exists() & (Site.sessions_after.does_not_exist()
                                          | (Site.sessions_after < before_ms)))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


_cache: dict[str, tuple[float, SiteInfo | None]] = {}


def public_site(site_key: str | None, now: float | None = None) -> SiteInfo:
    """The site for a public site key (cached briefly), else InvalidSite."""
    if not site_key:
        raise InvalidSite("no site key")
    now = time.monotonic() if now is None else now
    hit = _cache.get(site_key)
    if hit is None or now - hit[0] > SITE_CACHE_SECONDS:
        hit = (now, get_site(site_key, consistent=False))
        if len(_cache) > 10000:
            _cache.clear()
        _cache[site_key] = hit
    info = hit[1]
    if info is None or info.disabled:
        raise InvalidSite("unknown or disabled site")
    observe.note_site(info.site_key)
    return info


def clear_cache(site_key: str | None = None) -> None:
    if site_key is None:
        _cache.clear()
    else:
        _cache.pop(site_key, None)


def create_site(name: str) -> tuple[SiteInfo, str]:
    """A new site; returns it and its secret (shown once, stored hashed)."""
    site_key, secret = random_key(), random_key()
    digest = hash_secret(secret)
    now = int(time.time())
    tx = Transaction()
    tx.save("site", Site(Site.pk_for(site_key), site_key=site_key, name=name, secret_hash=digest,
                         epoch=0, disabled=False, created=now, updated=now),
            Site.pk.does_not_exist())
    tx.save("secret", Site(Site.secret_pk(digest), site_key=site_key, created=now),
            Site.pk.does_not_exist())
    tx.commit()
    info = get_site(site_key)
    assert info is not None
    return info, secret


def rotate_secret(site_key: str) -> str:
    """Replace a site's secret; the old one stops working at once."""
    try:
        item = Site.get(Site.pk_for(site_key), consistent_read=True)
    except DoesNotExist:
        raise InvalidSite(f"unknown site {site_key}") from None
    old_digest = item.secret_hash or ""
    secret = random_key()
    digest = hash_secret(secret)
    tx = Transaction()
    tx.update("site", Site(Site.pk_for(site_key)),
              [Site.secret_hash.set(digest), Site.updated.set(int(time.time()))],
              Site.secret_hash == old_digest)
    tx.delete("old", Site(Site.secret_pk(old_digest)))
    tx.save("new", Site(Site.secret_pk(digest), site_key=site_key, created=int(time.time())),
            Site.pk.does_not_exist())
    try:
        tx.commit()
    except ConditionFailed:
        raise InternalError("the secret changed concurrently; run rotate-secret again") from None
    return secret


def update_site(site_key: str, **values: object) -> SiteInfo:
    """Set plain settings (disabled, origins, xmr_pending, xmr_paid, levels,
    captcha_hashes); None removes one."""
    actions = [getattr(Site, name).remove() if value is None else getattr(Site, name).set(value)
               for name, value in values.items()]
    actions.append(Site.updated.set(int(time.time())))
    try:
        Site(Site.pk_for(site_key)).update(actions=actions, condition=Site.pk.exists())
    except UpdateError as exc:
        if dynamo_error_code(exc) == "ConditionalCheckFailedException":
            raise InvalidSite(f"unknown site {site_key}") from None
        raise
    info = get_site(site_key)
    assert info is not None
    return info


def set_levels(site_key: str, levels: Levels | None) -> SiteInfo:
    """The site's pressure levels (None: back to the deployment's defaults)."""
    if levels is not None:
        levels.check()
    return update_site(site_key, levels=dump_levels(levels) if levels else None)


def publish_pressure(site_key: str, pressure: Pressure, heavy: dict[str, SourceRate]) -> None:
    """The stream consumer's figures onto the site record, where /pow/job reads them."""
    try:
        Site(Site.pk_for(site_key)).update(
            actions=[Site.pressure.set(dump_pressure(pressure)),
                     Site.heavy.set(dump_heavy(heavy)) if heavy else Site.heavy.remove()],
            condition=Site.pk.exists())
    except UpdateError as exc:
        if dynamo_error_code(exc) != "ConditionalCheckFailedException":
            raise


def list_sites() -> list[SiteInfo]:
    """Every site (admin only: a scan, never in a request path)."""
    return sorted(
        (_info(item) for item in Site.scan(Site.pk.startswith(Site.pk_for("")))),
        key=lambda s: (s.name, s.site_key),
    )

