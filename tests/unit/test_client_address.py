"""Which client address per-client limits count: forwarding headers only from trusted proxies."""

from __future__ import annotations

from api.client_address import client_key, trusted_networks

PROXIES = trusted_networks(["10.0.0.0/8", "192.0.2.7"])


def test_forwarding_headers_from_an_untrusted_peer_are_ignored() -> None:
    headers = {"x-forwarded-for": "203.0.113.9", "forwarded": "for=203.0.113.9"}
    assert client_key("198.51.100.4", headers, PROXIES) == "198.51.100.4"


def test_the_first_hop_no_trusted_proxy_vouches_for_is_the_client() -> None:
    # The client forged the leftmost entry; the trusted proxies appended the rest.
    headers = {"x-forwarded-for": "1.1.1.1, 203.0.113.9, 10.0.0.5"}
    assert client_key("192.0.2.7", headers, PROXIES) == "203.0.113.9"


def test_rfc_7239_forwarded_is_read_with_ports_and_brackets() -> None:
    headers = {"forwarded": 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.2.3:80'}
    assert client_key("10.9.9.9", headers, PROXIES) == "2001:db8:cafe::/64"


def test_an_unreadable_hop_leaves_the_proxy_that_passed_it_on() -> None:
    headers = {"x-forwarded-for": "unknown, 10.0.0.5"}
    assert client_key("10.0.0.1", headers, PROXIES) == "10.0.0.5"


def test_ipv6_clients_are_counted_per_64_and_mapped_v4_as_v4() -> None:
    assert client_key("2001:db8:1:2:3:4:5:6", {}, []) == "2001:db8:1:2::/64"
    assert client_key("::ffff:198.51.100.4", {}, []) == "198.51.100.4"
    assert client_key(None, {}, []) == "unknown"
