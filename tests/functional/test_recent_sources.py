"""recent_sources: a source whose work was credited stays known to the end of
the next epoch (5 to 10 minutes), an epoch holds at most CAPACITY sources, and
a container re-reads at most every CACHE_SECONDS."""
from __future__ import annotations

import pytest

from chalicelib import recent_sources
from chalicelib.recent_sources import EPOCH_SECONDS, Recent
from chalicelib.store.models import StatsShard

SITE = "SITEKEY"
START = 1_800_000_000 - 1_800_000_000 % EPOCH_SECONDS  # an epoch's first second


@pytest.fixture(autouse=True)
def store(aws: None) -> None:
    recent_sources.clear_cache()


def test_a_credited_source_is_known_through_the_next_epoch_and_fresh_after() -> None:
    assert recent_sources.record(SITE, ["tag-a"], START + EPOCH_SECONDS - 1)
    known_until = START + 2 * EPOCH_SECONDS - 1  # the next epoch's last second
    for now in (START + EPOCH_SECONDS - 1, START + EPOCH_SECONDS, known_until):
        assert not recent_sources.load(SITE, now).is_fresh("tag-a"), now
    assert recent_sources.load(SITE, known_until + 1).is_fresh("tag-a")
    assert recent_sources.load(SITE, START).is_fresh("tag-b")


def test_epochs_add_up_and_expire_with_their_window() -> None:
    recent_sources.record(SITE, ["a", "b"], START)
    recent_sources.record(SITE, ["b", "c", ""], START + EPOCH_SECONDS)
    recent_sources.record(SITE, ["c"], START + EPOCH_SECONDS + 1)
    seen = recent_sources.load(SITE, START + EPOCH_SECONDS)
    assert seen == Recent(frozenset(map(recent_sources.fingerprint, "abc")), False)
    items = {item.sk: item for item in StatsShard.query(StatsShard.recent_pk(SITE))}
    assert sorted(items) == [START, START + EPOCH_SECONDS]
    assert len(items[START + EPOCH_SECONDS].sources) == 2, "a set: each source once"
    # DynamoDB's TTL removes an epoch once no reader can ask for it.
    assert items[START].expires == START + 2 * EPOCH_SECONDS


def test_a_full_epoch_takes_no_more_and_reads_as_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recent_sources, "CAPACITY", 3)
    assert recent_sources.record(SITE, ["a", "b"], START)
    assert recent_sources.record(SITE, ["c", "d"], START), "under the capacity when it began"
    assert recent_sources.record(SITE, ["e"], START) is False
    seen = recent_sources.load(SITE, START)
    assert seen.full and recent_sources.fingerprint("e") not in seen.prints
    assert not seen.is_fresh("e"), "a full record prefers nobody"


def test_a_container_reads_again_only_when_its_copy_is_old() -> None:
    assert recent_sources.recent(SITE, START).is_fresh("a")
    recent_sources.record(SITE, ["a"], START)
    assert recent_sources.recent(SITE, START + recent_sources.CACHE_SECONDS - 1).is_fresh("a")
    assert not recent_sources.recent(SITE, START + recent_sources.CACHE_SECONDS).is_fresh("a")


def test_fingerprints_are_32_bits_and_stable() -> None:
    assert recent_sources.fingerprint("tag") == recent_sources.fingerprint("tag")
    assert all(0 <= recent_sources.fingerprint(str(i)) < 2**32 for i in range(100))
