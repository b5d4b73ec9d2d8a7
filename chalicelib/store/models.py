"""pynamodb models: every DynamoDB item the service stores.

Six on-demand tables, one per concern. Table names and region are bound at
run time by `bind()` (tables are reached lazily, so tests and the admin
command can point the models elsewhere before the first call). The DynamoDB
endpoint comes from the AWS SDK's own `AWS_ENDPOINT_URL_DYNAMODB`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
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
    `sessions_after` (unix ms): dashboard sessions issued at or before it are
    over (set by signing out). `levels` (JSON, operator-set; absent = the
    defaults): the site's pressure levels; `pressure` and `heavy` (JSON,
    written by the stream consumer, chalicelib/pressure_feed.py): its
    pressure state and its fastest sources' accepted rates (by keyed tag).
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
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)


class _RankIndex(GlobalSecondaryIndex["User"]):
    """Base of the rank indexes; partition `rx = SITE#<key>#E#<epoch>#<shard>`."""

    class Meta:
        abstract = True
        projection = IncludeProjection(["n", "t", "w"])


class ByTotal(_RankIndex):
    class Meta:
        index_name = "by_total"
        projection = IncludeProjection(["n", "t", "w"])

    rx = UnicodeAttribute(hash_key=True)
    ot = UnicodeAttribute(range_key=True)


class ByBalance(_RankIndex):
    class Meta:
        index_name = "by_balance"
        projection = IncludeProjection(["n", "t", "w"])

    rx = UnicodeAttribute(hash_key=True)
    ob = UnicodeAttribute(range_key=True)


class ByWithdrawn(_RankIndex):
    class Meta:
        index_name = "by_withdrawn"
        projection = IncludeProjection(["n", "t", "w"])

    rx = UnicodeAttribute(hash_key=True)
    ow = UnicodeAttribute(range_key=True)


class ByName(_RankIndex):
    class Meta:
        index_name = "by_name"
        projection = IncludeProjection(["t", "w"])

    rx = UnicodeAttribute(hash_key=True)
    n = UnicodeAttribute(range_key=True)


class User(_Base):
    """A user's ledger, a per-epoch counter shard, or a user's rank entry.

    Key shapes (hash key only; `<h>` = ledger.name_hash(name), so the name
    is stored once per item, in `n`):
      pk = U#<site_key>#<h>          a user: n (name), e (epoch), t (total),
                                     w (withdrawn), b (balance = t - w)
      pk = C#<site_key>#<epoch>#<k>  counter shard k: `c` users of the epoch
                                     with a non-zero total
      pk = R#<site_key>#<epoch>#<h>  the user's rank entry, written off the
                                     request path by the ledger stream
                                     consumer (ranks.py) while t > 0: rx,
                                     n, t, w, ot/ob/ow (order keys), sq (the
                                     stream position it reflects)
    User items carry no index key: a credit is `ADD t, b` under a condition
    and rewrites no index entry. Top and list read the rank entries'
    sparse indexes (`rx` set only on rank entries).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    n = UnicodeAttribute(null=True)
    e = NumberAttribute(null=True)
    t = NumberAttribute(null=True)
    w = NumberAttribute(null=True)
    b = NumberAttribute(null=True)
    c = NumberAttribute(null=True)
    rx = UnicodeAttribute(null=True)
    ot = UnicodeAttribute(null=True)
    ob = UnicodeAttribute(null=True)
    ow = UnicodeAttribute(null=True)
    sq = UnicodeAttribute(null=True)

    by_total = ByTotal()
    by_balance = ByBalance()
    by_withdrawn = ByWithdrawn()
    by_name = ByName()


class Token(_Base):
    """A token's recorded hashes.

    Key shape: pk = <site_key>#<token_name>. h = hashes, c = created (first
    share), x = expiry (TTL attribute, c + 1 hour), tg = the hashes its
    widget asked for, host = host of the page that made it, v = the id of
    the request that verified it (set once; a verify whose answer was lost
    recognises its own write by it).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    h = NumberAttribute(default=0)
    c = NumberAttribute(default=0)
    x = NumberAttribute(default=0)
    tg = NumberAttribute(null=True)
    host = UnicodeAttribute(null=True)
    v = UnicodeAttribute(null=True)


class Guard(_Base):
    """A replay guard and the record of one credited share.

    Key shape: pk = <job_id>. x = the job's expiry (TTL). The rest feeds the
    stats stream consumer: s (site), h (hashes), ts (credit time), k (kind),
    a (link code, for link visits), f (1: first job of its chain),
    d (1: the chain reached its target with this share), rq (the request that
    wrote it, so a retry whose answer was lost recognises its own write),
    sr (the submitting source's keyed tag, sources.share_tag: for the
    per-source rates; gone with the guard, minutes after the job expired).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    x = NumberAttribute(default=0)
    s = UnicodeAttribute(null=True)
    h = NumberAttribute(null=True)
    ts = NumberAttribute(null=True)
    k = UnicodeAttribute(null=True)
    a = UnicodeAttribute(null=True)
    f = NumberAttribute(null=True)
    d = NumberAttribute(null=True)
    rq = UnicodeAttribute(null=True)
    sr = UnicodeAttribute(null=True)


class Idempotency(_Base):
    """The first answer of a request sent with an `idempotency_key`.

    Key shape: pk = I#<site_key>#<scope>#<key>, in the tokens table (whose
    TTL attribute `x` it shares; a token's pk starts with a 32-character
    site key, so the two never collide). fp = fingerprint of the request's
    parameters, r = the answer (JSON), x = expiry (TTL).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    fp = UnicodeAttribute(null=True)
    r = UnicodeAttribute(null=True)
    x = NumberAttribute(default=0)


class SignInFailures(_Base):
    """Failed dashboard sign-ins from one address in one minute.

    Key shape: pk = SIGNIN#<hash of the address>#<minute start>, in the
    guards table (whose TTL attribute `x` it shares; a guard's pk is a job id,
    which never holds `#`, and the stats consumer skips items without `s`).
    n = failures so far, x = expiry (TTL).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    n = NumberAttribute(null=True)
    x = NumberAttribute(default=0)


class StatsShard(_Base):
    """Counters per site and hour, and per link, kept by the stream consumer.

    Key shapes:
      pk = <site_key> (or `*` for all sites), sk = hour start (unix seconds):
           hashes, solved (captchas that reached their target), verified
           (tokens verified), visits (link visits completed)
      pk = L#<code>, sk = 0: a link's started, completed and last visit
      pk = R#<site_key>, sk = start of a 10-second bucket: hashes and shares
           accepted in it (the current rate, the site's pressure); x = expiry (TTL)
      pk = CP#<stream shard id>, sk = 0: `seq`, the last stream record applied
           (zero-padded), so a retried batch never counts twice
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
    x = NumberAttribute(null=True)


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

    by_site = LinksBySite()


# model -> (table-name env var, default suffix, TTL attribute or None)
TABLES: dict[type[Model], tuple[str, str, str | None]] = {
    Site: (config.ENV_SITES_TABLE, "sites", None),
    User: (config.ENV_LEDGER_TABLE, "ledger", None),
    Token: (config.ENV_TOKENS_TABLE, "tokens", "x"),
    Guard: (config.ENV_GUARDS_TABLE, "guards", "x"),
    StatsShard: (config.ENV_STATS_TABLE, "stats", "x"),
    Link: (config.ENV_LINKS_TABLE, "links", None),
}
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
    return iter(TABLES)


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
    for model, (_env_var, suffix, _ttl) in TABLES.items():
        model.Meta.table_name = names[suffix]
        model.Meta.region = region
        model._connection = None
    for model, owner in SHARED_TABLES.items():
        model.Meta.table_name = owner.Meta.table_name
        model.Meta.region = region
        model._connection = None
