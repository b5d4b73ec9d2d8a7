"""`make run`'s request source: the peer, or what a named proxy forwarded for; logged only as a hash."""
from __future__ import annotations

import ipaddress

import pytest
from chalice.local import LambdaEventConverter, RouteMatcher

from ops.addresses import (
    FORWARDED,
    X_FORWARDED_FOR,
    SettingError,
    log_tag,
    proxy_header,
    source_ip,
    trusted_proxies,
)
from ops.handler import SourceEvents

PROXY = trusted_proxies({"WORKPROOF_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16,2001:db8::/64"})


def event_source(peer: str, forwarded_for: list[str], proxies=PROXY,
                 header: str = X_FORWARDED_FOR) -> str:
    """sourceIp of the event the local gateway hands the app for this request."""
    events = SourceEvents(LambdaEventConverter(RouteMatcher(["/pow/job"])))
    events.source_ip = source_ip(peer, forwarded_for, proxies, header)
    event = events.create_lambda_event(method="POST", path="/pow/job", headers={}, body=None)
    return event["requestContext"]["identity"]["sourceIp"]


def test_no_proxies_by_default() -> None:
    assert trusted_proxies({}) == ()
    assert trusted_proxies({"WORKPROOF_TRUSTED_PROXIES": ""}) == ()
    assert PROXY == (ipaddress.ip_network("10.0.0.1/32"), ipaddress.ip_network("192.168.0.0/16"),
                     ipaddress.ip_network("2001:db8::/64"))


@pytest.mark.parametrize("value", ["10.0.0", "proxy.example", "10.0.0.0/33", "::1/129", "10.0.0.1;"])
def test_a_bad_value_is_one_message_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingError) as error:
        trusted_proxies({"WORKPROOF_TRUSTED_PROXIES": f"10.0.0.1,{value}"})
    assert str(error.value).startswith(f"WORKPROOF_TRUSTED_PROXIES=10.0.0.1,{value}: ")
    assert "\n" not in str(error.value)


def test_each_peer_is_its_own_source() -> None:
    assert event_source("127.0.0.2", []) == "127.0.0.2"
    assert event_source("127.0.0.3", []) == "127.0.0.3"
    assert event_source("::1", []) == "::1"
    assert event_source("::ffff:127.0.0.2", []) == "127.0.0.2"  # dual-stack socket, IPv4 client


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert event_source("127.0.0.2", ["203.0.113.7"]) == "127.0.0.2"
    assert event_source("10.0.0.2", ["203.0.113.7"]) == "10.0.0.2"
    assert event_source("127.0.0.2", ["203.0.113.7"], proxies=()) == "127.0.0.2"


def test_a_trusted_proxy_forwards_the_right_most_untrusted_address() -> None:
    assert event_source("10.0.0.1", ["203.0.113.7"]) == "203.0.113.7"
    # The client wrote the left part itself; the proxies appended the rest.
    assert event_source("10.0.0.1", ["1.1.1.1, 203.0.113.7, 192.168.4.4"]) == "203.0.113.7"
    assert event_source("10.0.0.1", ["1.1.1.1", "203.0.113.7", "192.168.4.4"]) == "203.0.113.7"
    assert event_source("2001:db8::5", ["2001:db8:1::9"]) == "2001:db8:1::9"
    assert event_source("10.0.0.1", ["::ffff:198.51.100.1"]) == "198.51.100.1"


def test_only_trusted_proxies_in_the_chain_gives_the_left_most() -> None:
    assert event_source("10.0.0.1", ["192.168.1.1, 192.168.2.2"]) == "192.168.1.1"


def test_a_trusted_proxy_without_forwarded_for_is_the_source() -> None:
    assert event_source("10.0.0.1", []) == "10.0.0.1"


@pytest.mark.parametrize("header", ["unknown", "", "203.0.113.7,,", "1.1.1.1, junk",
                                    "203.0.113.7, 192.168.1.1, garbage", "203.0.113.7:99999",
                                    "[203.0.113.7]", "203.0.113.7:", "[2001:db8:1::9",
                                    "2001:db8:1::9]:443", "203.0.113.7:4711:1"])
def test_malformed_forwarded_for_falls_back_to_the_peer(header: str) -> None:
    assert event_source("10.0.0.1", [header]) == "10.0.0.1"


@pytest.mark.parametrize(("entry", "address"), [
    ("203.0.113.7:1234", "203.0.113.7"),  # Azure Application Gateway writes IP:port
    ("[2001:db8:1::1]:443", "2001:db8:1::1"),
    ("[2001:db8:1::1]", "2001:db8:1::1"),
    ("[::ffff:198.51.100.1]:80", "198.51.100.1"),
    ("203.0.113.7:0", "203.0.113.7"),
])
def test_forwarded_for_entries_with_ports_and_brackets_are_their_address(entry: str,
                                                                         address: str) -> None:
    assert event_source("10.0.0.1", [entry]) == address
    # Also behind another trusted proxy, which wrote its own entry with a port.
    assert event_source("10.0.0.1", [f"1.1.1.1, {entry}, 192.168.4.4:5555"]) == address


def test_the_literal_examples_behind_one_proxy() -> None:
    one = trusted_proxies({"WORKPROOF_TRUSTED_PROXIES": "10.0.0.1"})
    assert event_source("10.0.0.1", ["[2001:db8::1]:443"], proxies=one) == "2001:db8::1"
    assert event_source("10.0.0.1", ["[2001:db8::1]"], proxies=one) == "2001:db8::1"
    assert event_source("10.0.0.1", ["203.0.113.7:1234"], proxies=one) == "203.0.113.7"


def test_the_proxy_header_setting() -> None:
    assert proxy_header({}) == X_FORWARDED_FOR
    assert proxy_header({"WORKPROOF_PROXY_HEADER": "x-forwarded-for"}) == X_FORWARDED_FOR
    assert proxy_header({"WORKPROOF_PROXY_HEADER": " Forwarded "}) == FORWARDED
    with pytest.raises(SettingError) as error:
        proxy_header({"WORKPROOF_PROXY_HEADER": "X-Real-IP"})
    assert str(error.value) == ("WORKPROOF_PROXY_HEADER=X-Real-IP: not X-Forwarded-For "
                                "or Forwarded")


def forwarded(peer: str, *values: str) -> str:
    return event_source(peer, list(values), header=FORWARDED)


def test_rfc_7239_forwarded_from_a_trusted_proxy() -> None:
    # RFC 7239's own examples.
    assert forwarded("10.0.0.1", "for=192.0.2.60;proto=http;by=203.0.113.43") == "192.0.2.60"
    assert forwarded("10.0.0.1", 'for="[2001:db8:cafe::17]:4711"') == "2001:db8:cafe::17"
    assert forwarded("10.0.0.1", 'For="192.0.2.43:47011"') == "192.0.2.43"
    assert forwarded("10.0.0.1", "for=192.0.2.43, for=198.51.100.17") == "198.51.100.17"
    # The client wrote the left part; trusted proxies' elements are skipped.
    assert forwarded("10.0.0.1", "for=1.1.1.1, for=203.0.113.7;proto=https, "
                                 'for="[2001:db8::5]:80";by=10.0.0.1') == "203.0.113.7"
    # Several headers are one list, in order.
    assert forwarded("10.0.0.1", "for=1.1.1.1", "for=203.0.113.7", "for=192.168.4.4") ==         "203.0.113.7"
    # Quoted values may hold separators; parameters' order and case do not matter.
    assert forwarded("10.0.0.1", 'by="a,b;c";FOR=203.0.113.7;host="shop.example"') ==         "203.0.113.7"
    assert forwarded("2001:db8::9", 'for="[2001:db8:1::9]"') == "2001:db8:1::9"


def test_forwarded_is_ignored_from_untrusted_peers_and_by_default() -> None:
    assert forwarded("127.0.0.2", "for=203.0.113.7") == "127.0.0.2"
    # Under the default setting only X-Forwarded-For counts, and the other way round.
    assert event_source("10.0.0.1", ["for=203.0.113.7"]) == "10.0.0.1"
    assert forwarded("10.0.0.1", "203.0.113.7") == "10.0.0.1"


def test_a_hidden_client_is_the_proxy_that_hid_it() -> None:
    """`unknown` and obfuscated identifiers are not addresses: the proxy that
    wrote one is the source (its visitors then share it)."""
    assert forwarded("10.0.0.1", "for=unknown") == "10.0.0.1"
    assert forwarded("10.0.0.1", "for=_hidden") == "10.0.0.1"
    assert forwarded("10.0.0.1", "for=_SEVKISEK, for=192.168.4.4") == "192.168.4.4"
    assert forwarded("10.0.0.1", 'for="unknown:_port", for=192.168.4.4') == "192.168.4.4"
    assert forwarded("10.0.0.1", 'for="192.0.2.1:_p0rt"') == "192.0.2.1"
    # Left of the source it does not matter.
    assert forwarded("10.0.0.1", "for=_hidden, for=203.0.113.7") == "203.0.113.7"
    assert event_source("10.0.0.1", ["unknown, 192.168.4.4"]) == "192.168.4.4"


@pytest.mark.parametrize("value", [
    "for=2001:db8::1",  # an IPv6 node must be quoted and in brackets
    'for="2001:db8::1"', "for=[2001:db8::1]", 'for="[2001:db8::1"', 'for="203.0.113.7',
    "for=203.0.113.7;for=198.51.100.1",  # a parameter twice in one element
    "proto=https",  # says nothing of whom it forwarded for
    "for=203.0.113.7 junk", "for =203.0.113.7", "203.0.113.7", "for=", "for=junk",
    'for="203.0.113.7:123456"', "for=203.0.113.7, by=10.0.0.1",
])
def test_malformed_forwarded_falls_back_to_the_peer(value: str) -> None:
    assert forwarded("10.0.0.1", value) == "10.0.0.1"


def test_a_malformed_entry_left_of_the_source_does_not_matter() -> None:
    assert event_source("10.0.0.1", ["junk, 203.0.113.7"]) == "203.0.113.7"


def test_log_tag_is_short_stable_and_not_the_address() -> None:
    tag = log_tag("127.0.0.2")
    assert len(tag) == 8 and all(c in "0123456789abcdef" for c in tag)
    assert log_tag("127.0.0.2") == tag and log_tag("127.0.0.3") != tag
