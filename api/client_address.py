"""Who is asking: the client address per-client limits are keyed by.

Forwarding headers are honoured only from the proxies the deployment trusts
(`TRUSTED_PROXIES`); from anyone else they are ignored, so a client cannot pick its own
address. Trusted hops are skipped from the right, since each proxy appends the address it
saw: the first hop no trusted proxy vouches for is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# An IPv6 client is one /64: a single host can use any address of its prefix.
IPV6_CLIENT_PREFIX = 64


def trusted_networks(entries: Iterable[str]) -> list[Network]:
    """Addresses or networks ("10.0.0.0/8", "127.0.0.1"); raises ValueError on a bad one."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]


def client_key(peer: str | None, headers: Mapping[str, str], trusted: list[Network]) -> str:
    """The client as a short, Redis-safe key: its IPv4 address or its IPv6 /64."""
    address = _address(peer)
    if address is None:
        return "unknown"
    if _trusted(address, trusted):
        for hop in reversed(_forwarded_hops(headers)):
            forwarded = _address(hop)
            if forwarded is None:
                break  # unreadable: the proxy that passed it on is the client we know
            address = forwarded
            if not _trusted(address, trusted):
                break
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def peer_is_trusted(peer: str | None, trusted: list[Network]) -> bool:
    """Whether the TCP peer itself (never a forwarded hop) is one of `trusted`."""
    address = _address(peer)
    return address is not None and _trusted(address, trusted)


def _trusted(address: Address, trusted: list[Network]) -> bool:
    return any(address in network for network in trusted)


def _forwarded_hops(headers: Mapping[str, str]) -> list[str]:
    """The addresses proxies recorded, oldest first: RFC 7239 `Forwarded`, else X-Forwarded-For."""
    forwarded = headers.get("forwarded")
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    hops.append(value.strip().strip('"'))
        return hops
    x_forwarded_for = headers.get("x-forwarded-for")
    if x_forwarded_for:
        return [hop.strip() for hop in x_forwarded_for.split(",")]
    return []


def _address(value: str | None) -> Address | None:
    """An address from a peer or a forwarding header's hop ("[v6]:port" and "v4:port" too)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
