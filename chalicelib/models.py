"""pynamodb models: every DynamoDB item the service stores.

Six on-demand tables, one per concern. Table names and region are bound at
run time by `bind()` (tables are reached lazily, so tests and the admin
command can point the models elsewhere before the first call). The DynamoDB
endpoint comes from the AWS SDK's own `AWS_ENDPOINT_URL_DYNAMODB`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib import config


class _Base(Model):
    class Meta:
        abstract = True
        table_name = ""
        billing_mode = "PAY_PER_REQUEST"
        region = os.environ.get(config.ENV_REGION) or "us-east-1"
        max_retry_attempts = 3


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
    over (set by signing out).
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
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)


class _ByIndex(GlobalSecondaryIndex):
    """Base for the four sparse user indexes; partition `ix = SITE#<key>#E#<epoch>#<shard>`."""

    class Meta:
        abstract = True
        projection = AllProjection()


class ByTotal(_ByIndex):
    class Meta:
        index_name = "by_total"
        projection = AllProjection()

    ix = UnicodeAttribute(hash_key=True)
    ord_total = UnicodeAttribute(range_key=True)


class ByBalance(_ByIndex):
    class Meta:
        index_name = "by_balance"
        projection = AllProjection()

    ix = UnicodeAttribute(hash_key=True)
    ord_balance = UnicodeAttribute(range_key=True)


class ByWithdrawn(_ByIndex):
    class Meta:
        index_name = "by_withdrawn"
        projection = AllProjection()

    ix = UnicodeAttribute(hash_key=True)
    ord_withdrawn = UnicodeAttribute(range_key=True)


class ByName(_ByIndex):
    class Meta:
        index_name = "by_name"
        projection = AllProjection()

    ix = UnicodeAttribute(hash_key=True)
    ord_name = UnicodeAttribute(range_key=True)


class User(_Base):
    """A user's ledger, or a per-epoch counter shard.

    Key shapes (hash key only):
      pk = U#<site_key>#<name>          a user: epoch, total, withdrawn, version
      pk = C#<site_key>#<epoch>#<k>     counter shard k: `n` users of the epoch
                                        with a non-zero total
    While a user's total > 0 in its epoch it carries the sparse index keys
    `ix = SITE#<site_key>#E#<epoch>#<shard>` (shard = hash of the name, see
    ledger.index_shard) and `ord_*` (see ledger.order_key).
    Every write of a user is conditioned on `version` (optimistic
    concurrency: no blind read-modify-write).
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    epoch = NumberAttribute(default=0)
    total = NumberAttribute(default=0)
    withdrawn = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    n = NumberAttribute(null=True)
    created = NumberAttribute(null=True)
    ix = UnicodeAttribute(null=True)
    ord_total = UnicodeAttribute(null=True)
    ord_balance = UnicodeAttribute(null=True)
    ord_withdrawn = UnicodeAttribute(null=True)
    ord_name = UnicodeAttribute(null=True)

    by_total = ByTotal()
    by_balance = ByBalance()
    by_withdrawn = ByWithdrawn()
    by_name = ByName()


class Token(_Base):
    """A token's recorded hashes.

    Key shape: pk = <site_key>#<token_name>. `expires_at` (TTL attribute) is
    creation + 1 hour; `verified` is set once by /token/verify. Expiry and
    verification are checked in the conditions of the writes.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    hashes = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    expires_at = NumberAttribute(default=0)
    verified = BooleanAttribute(null=True)


class Guard(_Base):
    """A replay guard: one per credited job.

    Key shape: pk = <job_id>. `expires_at` (TTL) is the job's expiry.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(default=0)


class StatsShard(_Base):
    """Hashes credited in one hour, in one of K shards.

    Key shape: pk = <site_key>#<k> (or `*#<k>` for all sites together),
    sk = hour start (unix seconds). A read queries the K shards and sums.
    """

    class Meta(_Base.Meta):
        table_name = ""

    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    hashes = NumberAttribute(default=0)


class LinksBySite(GlobalSecondaryIndex):
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
    Token: (config.ENV_TOKENS_TABLE, "tokens", "expires_at"),
    Guard: (config.ENV_GUARDS_TABLE, "guards", "expires_at"),
    StatsShard: (config.ENV_STATS_TABLE, "stats", None),
    Link: (config.ENV_LINKS_TABLE, "links", None),
}


_connection: Connection | None = None


def connection() -> Connection:
    """The connection transactions go through (same region as the models)."""
    global _connection
    if _connection is None:
        _connection = Connection(region=Site.Meta.region, max_retry_attempts=3)
    return _connection


def all_models() -> Iterator[type[Model]]:
    return iter(TABLES)


def bind(prefix: str | None = None, region: str | None = None) -> None:
    """Point every model at its table (env override, else `<prefix>-<suffix>`).

    Drops cached connections so a changed endpoint or region takes effect.
    """
    global _connection
    _connection = None
    region = region or os.environ.get(config.ENV_REGION) or "us-east-1"
    for model, (env_var, suffix, _ttl) in TABLES.items():
        name = os.environ.get(env_var) or f"{prefix or config.DEFAULT_TABLE_PREFIX}-{suffix}"
        model.Meta.table_name = name
        model.Meta.region = region
        model._connection = None
