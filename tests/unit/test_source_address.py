"""`make run`'s request source: the peer, or what a named proxy forwarded for; logged only as a hash."""
from __future__ import annotations

import ipaddress

import pytest
from chalice.local import LambdaEventConverter, RouteMatcher

from ops.addresses import SettingError, log_tag, source_ip, trusted_proxies
from ops.handler import SourceEvents

PROXY = trusted_proxies({"WORKPROOF_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16,2001:db8::/64"})


def event_source(peer: str, forwarded_for: list[str], proxies=PROXY) -> str:
    """sourceIp of the event the local gateway hands the app for this request."""
    events = SourceEvents(LambdaEventConverter(RouteMatcher(["/pow/job"])))
    events.source_ip = source_ip(peer, forwarded_for, proxies)
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


@pytest.mark.parametrize("header", ["unknown", "203.0.113.7:4711", "", "203.0.113.7,,", "1.1.1.1, junk",
                                    "[2001:db8:1::9]", "203.0.113.7, 192.168.1.1, garbage"])
def test_malformed_forwarded_for_falls_back_to_the_peer(header: str) -> None:
    assert event_source("10.0.0.1", [header]) == "10.0.0.1"


def test_a_malformed_entry_left_of_the_source_does_not_matter() -> None:
    assert event_source("10.0.0.1", ["junk, 203.0.113.7"]) == "203.0.113.7"


def test_log_tag_is_short_stable_and_not_the_address() -> None:
    tag = log_tag("127.0.0.2")
    assert len(tag) == 8 and all(c in "0123456789abcdef" for c in tag)
    assert log_tag("127.0.0.2") == tag and log_tag("127.0.0.3") != tag
