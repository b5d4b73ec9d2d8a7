"""A source is an IPv4 address or an IPv6 /64, kept only as a keyed tag."""
from __future__ import annotations

from chalicelib import sources


def test_ipv4_is_its_own_source() -> None:
    assert sources.normalise("203.0.113.7") == "203.0.113.7"
    assert sources.normalise(" 203.0.113.7 ") == "203.0.113.7"


def test_ipv6_addresses_of_one_64_are_one_source() -> None:
    a = sources.normalise("2001:db8:1:2:aaaa::1")
    b = sources.normalise("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert a == b == "2001:db8:1:2::/64"
    assert sources.normalise("2001:db8:1:3::1") != a


def test_ipv4_mapped_ipv6_is_the_ipv4_source() -> None:
    assert sources.normalise("::ffff:198.51.100.9") == "198.51.100.9"


def test_garbage_is_the_unknown_source() -> None:
    for text in ("", "localhost", "1.2.3.4.5", "2001:db8::zz", "1.2.3.4, 5.6.7.8"):
        assert sources.normalise(text) == sources.UNKNOWN


def test_source_of_reads_the_gateway_identity() -> None:
    assert sources.source_of({"identity": {"sourceIp": "192.0.2.1"}}) == "192.0.2.1"
    assert sources.source_of({"identity": {}}) == sources.UNKNOWN
    assert sources.source_of(None) == sources.UNKNOWN
    assert sources.source_of({"identity": {"sourceIp": 5}}) == sources.UNKNOWN


def test_tags_hide_the_address_and_tell_sources_apart() -> None:
    one, two = sources.tag("192.0.2.1"), sources.tag("192.0.2.2")
    assert one != two and "192" not in one
    assert sources.tag("192.0.2.1") == one


def test_share_tags_agree_across_containers_for_one_key() -> None:
    key = b"k" * 32
    assert sources.share_tag("192.0.2.1", key) == sources.share_tag("192.0.2.1", key)
    assert sources.share_tag("192.0.2.1", key) != sources.share_tag("192.0.2.1", b"j" * 32)
    assert sources.share_tag("192.0.2.1", key) != sources.tag("192.0.2.1")
