"""pynamodb models: every DynamoDB item the service stores.

Six on-demand tables, one per concern. Table names and region are bound at
run time by `bind()` (tables are reached lazily, so tests and the admin
command can point the models elsewhere before the first call). The DynamoDB
endpoint comes from the AWS SDK's own `AWS_ENDPOINT_URL_DYNAMODB`.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib import config


class _Base(Model):
    class Meta:
        abstract = True
        table_name = ""
        billing_mode = "PAY_PER_REQUEST"
        region = config.DEFAULT_REGION  # bind() sets the configured one
        # One SDK retry and short timeouts: the app's own loops (transactions.py) retry
        # within the request's deadline (deadline.py), so the total stays
        # well inside Lambda's 30 s.
        max_retry_attempts = 1
        connect_timeout_seconds = 1
        read_timeout_seconds = 2


class Site(_Base):
    """A site, its hashed secret, its epoch, its settings.

    Key shapes (hash key only):
      pk = SITE#<site_key>   the site record (name, secret_hash, epoch, ...)
      pk = SECRET#<sha256>   secret lookup: site_key of the secret's owner
      pk = EPOCH#<site_key>#<k>  copy k of the epoch, checked by user writes
                             (written by the first reset-all; absent = 0)
      pk = CONFIG#payout     operator-set payout figures (in `payout`)
    `epoch` is bumped by reset-all; user items of older epochs read as zero.
    Stored names are the Python names.
    `sessions_after` (unix ms): dashboard sessions issued at or before it are
    over (set by signing out). `levels` (JSON, operator-set; absent = the
    defaults): the site's pressure levels; `pressure` and `heavy` (JSON,
    written by the stream consumer, chalicelib/pressure_feed.py): its
    pressure state and its fastest sources' accepted rates (by keyed tag).
    `captcha_hashes` (operator-set; absent = the site's base work): the least
    hashes a token needs for siteverify when the backend names none.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    site_key = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    secret_hash = UnicodeAttribute(null=True)
    epoch = NumberAttribute(default=0)
    disabled = BooleanAttribute(default=False)
    origins = ListAttribute(of=UnicodeAttribute, null=True)
    xmr_pending = UnicodeAttribute(null=True)
    xmr_paid = UnicodeAttribute(null=True)
    payout = UnicodeAttribute(null=True)  # JSON of the payout figures
    sessions_after = NumberAttribute(null=True)
    levels = UnicodeAttribute(null=True)
    pressure = UnicodeAttribute(null=True)
    heavy = UnicodeAttribute(null=True)
    captcha_hashes = NumberAttribute(null=True)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)

    @classmethod
    def pk_for(cls, site_key: str) -> str:
        """The site record's key."""
        return f"SITE#{site_key}"

    @classmethod
    def secret_pk(cls, secret_digest: str) -> str:
        """The secret lookup's key (`secret_digest`: the secret's SHA-256, hex)."""
        return f"SECRET#{secret_digest}"

    @classmethod
    def epoch_pk(cls, site_key: str, shard: int) -> str:
        """Copy `shard` of the site's epoch."""
        return f"EPOCH#{site_key}#{shard}"

    @classmethod
    def payout_pk(cls) -> str:
        """The operator-set payout figures."""
        return "CONFIG#payout"


def name_hash(name: str) -> str:
    """128 bits of the name's SHA-256: keys stay short, the name is stored once."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class _RankIndex(GlobalSecondaryIndex["User"]):
    """Base of the rank indexes; partition `rx = SITE#<key>#E#<epoch>#<shard>`."""

    class Meta:
        abstract = True
        projection = IncludeProjection(["n", "t", "w"])


class ByTotal(_RankIndex):
    class Meta:
        index_name = "by_total"
        projection = IncludeProjection(["n", "t", "w"])

    rank_partition = UnicodeAttribute(hash_key=True, attr_name="rx")
    total_order = UnicodeAttribute(range_key=True, attr_name="ot")


class ByBalance(_RankIndex):
    class Meta:
        index_name = "by_balance"
        projection = IncludeProjection(["n", "t", "w"])

    rank_partition = UnicodeAttribute(hash_key=True, attr_name="rx")
    balance_order = UnicodeAttribute(range_key=True, attr_name="ob")


class ByWithdrawn(_RankIndex):
    class Meta:
        index_name = "by_withdrawn"
        projection = IncludeProjection(["n", "t", "w"])

    rank_partition = UnicodeAttribute(hash_key=True, attr_name="rx")
    withdrawn_order = UnicodeAttribute(range_key=True, attr_name="ow")


class ByName(_RankIndex):
    class Meta:
        index_name = "by_name"
        projection = IncludeProjection(["t", "w"])

    rank_partition = UnicodeAttribute(hash_key=True, attr_name="rx")
    name = UnicodeAttribute(range_key=True, attr_name="n")


class User(_Base):
    """A user's ledger, a per-epoch counter shard, or a user's rank entry.

    Key shapes (hash key only; `<h>` = name_hash(name), so the name is
    stored once per item, in `name`):
      pk = U#<site_key>#<h>          a user (`user_pk`): name, epoch, total,
                                     withdrawn, balance (= total - withdrawn)
      pk = C#<site_key>#<epoch>#<k>  counter shard k (`counter_pk`):
                                     `users`, those of the epoch with a
                                     non-zero total
      pk = R#<site_key>#<epoch>#<h>  the user's rank entry (`rank_pk`),
                                     written off the request path by the
                                     ledger stream consumer (ranks.py) while
                                     total > 0: rank_partition, name, total,
                                     withdrawn, the three order keys, and
                                     stream_position (the record it reflects)
    User items carry no index key: a credit is `ADD total, balance` under a
    condition and rewrites no index entry. Top and list read the rank
    entries' sparse indexes (`rank_partition`, set only on rank entries:
    `SITE#<site_key>#E#<epoch>#<shard>`, `rank_partition_for`).
    Stored names are one or two letters (in parentheses below): every item
    carries them, and the write units follow the item's size.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True, attr_name="n")
    epoch = NumberAttribute(null=True, attr_name="e")
    total = NumberAttribute(null=True, attr_name="t")
    withdrawn = NumberAttribute(null=True, attr_name="w")
    balance = NumberAttribute(null=True, attr_name="b")
    users = NumberAttribute(null=True, attr_name="c")
    rank_partition = UnicodeAttribute(null=True, attr_name="rx")
    total_order = UnicodeAttribute(null=True, attr_name="ot")
    balance_order = UnicodeAttribute(null=True, attr_name="ob")
    withdrawn_order = UnicodeAttribute(null=True, attr_name="ow")
    stream_position = UnicodeAttribute(null=True, attr_name="sq")

    by_total = ByTotal()
    by_balance = ByBalance()
    by_withdrawn = ByWithdrawn()
    by_name = ByName()

    _USER = "U#"

    @classmethod
    def user_pk(cls, site_key: str, name: str) -> str:
        return f"{cls._USER}{site_key}#{name_hash(name)}"

    @classmethod
    def user_of(cls, pk: str) -> tuple[str, str] | None:
        """(site key, name hash) of a user's key; None for counters and rank entries."""
        if not pk.startswith(cls._USER):
            return None
        site_key, _, digest = pk[len(cls._USER):].partition("#")
        return site_key, digest

    @classmethod
    def counter_pk(cls, site_key: str, epoch: int, shard: int) -> str:
        return f"C#{site_key}#{epoch}#{shard}"

    @classmethod
    def rank_pk(cls, site_key: str, epoch: int, digest: str) -> str:
        return f"R#{site_key}#{epoch}#{digest}"

    @classmethod
    def rank_partition_for(cls, site_key: str, epoch: int, shard: int) -> str:
        return f"SITE#{site_key}#E#{epoch}#{shard}"


class Token(_Base):
    """A token's recorded hashes.

    Key shape: pk = <site_key>#<token_name> (`token_pk`). hashes (h),
    created (c: first share), expires (x: the TTL attribute, created + 1
    hour), target (tg: the hashes its widget asked for), host (of the page
    that made it), verified_by (v: the id of the request that verified it;
    set once, so a verify whose answer was lost recognises its own write),
    action (a) and cdata (cd): the label its widget was rendered with, set by
    the credit that created it (token_labels).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    hashes = NumberAttribute(default=0, attr_name="h")
    created = NumberAttribute(default=0, attr_name="c")
    expires = NumberAttribute(default=0, attr_name="x")
    target = NumberAttribute(null=True, attr_name="tg")
    host = UnicodeAttribute(null=True)
    verified_by = UnicodeAttribute(null=True, attr_name="v")
    action = UnicodeAttribute(null=True, attr_name="a")
    cdata = UnicodeAttribute(null=True, attr_name="cd")

    @classmethod
    def token_pk(cls, site_key: str, name: str) -> str:
        return f"{site_key}#{name}"

    @classmethod
    def site_of(cls, pk: str) -> str | None:
        """The site key of a token's key; None for the other items of its table
        (idempotency records, batch markers: their prefixes are not site keys)."""
        site_key, sep, _name = pk.partition("#")
        return site_key if sep and len(site_key) > 2 else None


class Guard(_Base):
    """A replay guard and the record of one credited share.

    Key shape: pk = <job_id>. expires (x: the job's expiry, the TTL). The
    rest feeds the stats stream consumer: site_key (s), hashes (h),
    credited_at (ts), kind (k), link_code (a, for link visits), first (f,
    1: first job of its chain), reached (d, 1: the chain reached its target
    with this share), request_id (rq: the request that wrote it, so a retry
    whose answer was lost recognises its own write), source_tag (sr: the
    submitting source's keyed tag, sources.share_tag, for the per-source
    rates; gone with the guard, minutes after the job expired).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    expires = NumberAttribute(default=0, attr_name="x")
    site_key = UnicodeAttribute(null=True, attr_name="s")
    hashes = NumberAttribute(null=True, attr_name="h")
    credited_at = NumberAttribute(null=True, attr_name="ts")
    kind = UnicodeAttribute(null=True, attr_name="k")
    link_code = UnicodeAttribute(null=True, attr_name="a")
    first = NumberAttribute(null=True, attr_name="f")
    reached = NumberAttribute(null=True, attr_name="d")
    request_id = UnicodeAttribute(null=True, attr_name="rq")
    source_tag = UnicodeAttribute(null=True, attr_name="sr")


class Idempotency(_Base):
    """The first answer of a request sent with an `idempotency_key`.

    Key shape: pk = I#<site_key>#<scope>#<key> (`pk_for`), in the tokens
    table (whose TTL attribute it shares; a token's pk starts with a
    32-character site key, so the two never collide). fingerprint (fp) of
    the request's parameters, answer (r: JSON), expires (x: the TTL).
    The stats consumer's batch markers are items of this shape too:
    pk = S#<first record of the batch> (`marker_pk`), answer = the last
    record's position.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute(null=True, attr_name="fp")
    answer = UnicodeAttribute(null=True, attr_name="r")
    expires = NumberAttribute(default=0, attr_name="x")

    @classmethod
    def pk_for(cls, site_key: str, scope: str, key: str) -> str:
        return f"I#{site_key}#{scope}#{key}"

    @classmethod
    def marker_pk(cls, first_record: str) -> str:
        return f"S#{first_record}"


class SignInFailures(_Base):
    """Dashboard secret checks reserved by one (source, site key) in one minute.

    Key shape: pk = SIGNIN#<keyed hash of source and site key>#<minute start>
    (`pk_for`), in the guards table (whose TTL attribute it shares; a guard's
    pk is a job id, which never holds `#`, and the stats consumer skips items
    without a site key). checks (n): reserved this minute (a check that
    passed gives its reservation back), expires (x: the TTL).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    checks = NumberAttribute(null=True, attr_name="n")
    expires = NumberAttribute(default=0, attr_name="x")

    @classmethod
    def pk_for(cls, address_tag: str, minute: int) -> str:
        return f"SIGNIN#{address_tag}#{minute}"


class StatsShard(_Base):
    """Counters per site and hour, and per link, kept by the stream consumer.

    Key shapes:
      pk = <site_key> (or `*` for all sites), sk = hour start (unix seconds):
           hashes, solved (captchas that reached their target), verified
           (tokens verified), visits (link visits completed)
      pk = L#<code> (`link_pk`), sk = 0: a link's started, completed and
           last visit
      pk = R#<site_key> (`rate_pk`), sk = start of a 10-second bucket: hashes
           and shares accepted in it (the current rate, the site's
           pressure); expires (x: the TTL)
      pk = CP#<stream shard id>, sk = 0: `seq`, the last stream record applied
           (zero-padded), so a retried batch never counts twice
      pk = RS#<site_key> (`recent_pk`), sk = start of an epoch (recent_sources):
           `sources`, fingerprints of the sources credited in it while the
           site was under pressure; expires (x: the TTL)
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    hashes = NumberAttribute(null=True)
    solved = NumberAttribute(null=True)
    verified = NumberAttribute(null=True)
    visits = NumberAttribute(null=True)
    started = NumberAttribute(null=True)
    completed = NumberAttribute(null=True)
    last = NumberAttribute(null=True)
    seq = UnicodeAttribute(null=True)
    shares = NumberAttribute(null=True)
    sources = NumberSetAttribute(null=True, attr_name="s")
    expires = NumberAttribute(null=True, attr_name="x")

    ALL_SITES = "*"

    @classmethod
    def link_pk(cls, code: str) -> str:
        return f"L#{code}"

    @classmethod
    def link_of(cls, pk: str) -> str:
        """The link code of a `link_pk`."""
        return pk.removeprefix("L#")

    @classmethod
    def rate_pk(cls, site_key: str) -> str:
        return f"R#{site_key}"

    @classmethod
    def recent_pk(cls, site_key: str) -> str:
        return f"RS#{site_key}"


class LinksBySite(GlobalSecondaryIndex["Link"]):
    """A site's links, newest last: hash `site_key`, range `created`.

    For the dashboard's link list. One site's link creations share a
    partition (~1,000 writes/s), far above any real link-creation rate.
    """

    class Meta:
        index_name = "by_site"
        projection = IncludeProjection(["url", "hashes"])

    site_key = UnicodeAttribute(hash_key=True)
    created = NumberAttribute(range_key=True)


class Link(_Base):
    """A shortlink.

    Key shape: pk = <code>. Holds the owning site, the target url and the
    hashes each visit must solve; listed per site through `by_site`.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    site_key = UnicodeAttribute()
    url = UnicodeAttribute()
    hashes = NumberAttribute()
    created = NumberAttribute(default=0)
    # Set (True) by the dashboard's disable: the link page says so, jobs are refused.
    disabled = BooleanAttribute(null=True)

    by_site = LinksBySite()


@dataclass(frozen=True)
class Table:
    """A table: the model that defines it, the env var naming it, its default
    name's suffix, and its TTL attribute (stored name; None: no TTL)."""

    model: type[Model]
    env_var: str
    suffix: str
    ttl_attribute: str | None = None


TABLES: tuple[Table, ...] = (
    Table(Site, config.ENV_SITES_TABLE, "sites"),
    Table(User, config.ENV_LEDGER_TABLE, "ledger"),
    Table(Token, config.ENV_TOKENS_TABLE, "tokens", Token.expires.attr_name),
    Table(Guard, config.ENV_GUARDS_TABLE, "guards", Guard.expires.attr_name),
    Table(StatsShard, config.ENV_STATS_TABLE, "stats", StatsShard.expires.attr_name),
    Table(Link, config.ENV_LINKS_TABLE, "links"),
)
# Models that live in another model's table (their keys cannot collide).
SHARED_TABLES: dict[type[Model], type[Model]] = {Idempotency: Token, SignInFailures: Guard}

# Tables whose DynamoDB stream (NEW_AND_OLD_IMAGES) feeds streams.handle_event:
# guards (stats, link visits), the ledger (ranks for top and list), tokens
# (captchas verified).
STREAM_TABLES: tuple[type[Model], ...] = (Guard, User, Token)


_connection: Connection | None = None


def connection() -> Connection:
    """The connection transactions go through (same region as the models)."""
    global _connection
    if _connection is None:
        meta = _Base.Meta
        _connection = Connection(region=Site.Meta.region,
                                 max_retry_attempts=meta.max_retry_attempts,
                                 connect_timeout_seconds=meta.connect_timeout_seconds,
                                 read_timeout_seconds=meta.read_timeout_seconds)
    return _connection


def all_models() -> Iterator[type[Model]]:
    """The models that define a table (one each), in TABLES order."""
    return (table.model for table in TABLES)


def table_for(model: type[Model]) -> Table:
    return next(table for table in TABLES if table.model is model)


def bind(tables: Mapping[str, str] | None = None, region: str | None = None, *,
         prefix: str | None = None) -> None:
    """Point every model at its table: `tables` (suffix -> name, as in
    `config.Settings.tables`), else config's default names under `prefix`.

    Drops cached connections so a changed endpoint or region takes effect.
    """
    global _connection
    _connection = None
    names = tables or config.table_names({}, prefix=prefix)
    region = region or config.DEFAULT_REGION
    for table in TABLES:
        table.model.Meta.table_name = names[table.suffix]
        table.model.Meta.region = region
        table.model._connection = None
    for model, owner in SHARED_TABLES.items():
        model.Meta.table_name = owner.Meta.table_name
        model.Meta.region = region
        model._connection = None
