"""The address a sign-in came from, for throttling.

accounts sits behind the router, so the TCP peer is usually the router. The
router writes the address of whoever connected to it as the right-most entry
of `X-Forwarded-For` (replacing what a client sent, keeping what a proxy it
trusts sent) and forwards that header to subgraphs by default. So the header
is believed only when the peer is a trusted hop: anyone else could write
anything there, and for them the peer address is the client.

Trusted hops are SHOPGRAPH_TRUSTED_PROXIES, a comma-separated list of
addresses or networks. When it is set, the client is the right-most entry that
is not itself a listed hop (list the router and any proxy in front of it).
When it is unset, a peer on loopback or a private range (where `shopgraph dev`
and compose.yaml put the router) is believed for the right-most entry only,
the one it wrote itself: nothing further left was vouched for by anyone.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

TRUSTED_PROXIES_ENV = "SHOPGRAPH_TRUSTED_PROXIES"
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
# One IPv6 host usually holds a whole /64, so the /64 is what gets throttled.
IPV6_PREFIX = 64
UNKNOWN = "unknown"


def parse_address(text: str) -> Address | None:
    """An address as written in a header or by the server: `ip`, `ip:port`, `[v6]` or
    `[v6]:port` (IPv4-mapped IPv6 unwrapped); None for anything else."""
    candidate = text.strip()
    if candidate.startswith("["):  # "[2001:db8::1]:443"
        end = candidate.find("]")
        if end < 0:
            return None
        candidate = candidate[1:end]
    elif candidate.count(":") == 1:  # "203.0.113.9:51234" (bare IPv6 has several colons)
        candidate = candidate.partition(":")[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def throttle_key(address: Address) -> str:
    """The text sign-ins are counted under: the IPv4 address, or the IPv6 /64."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]
    # Whether entries of X-Forwarded-For inside `networks` are hops too (walk on past
    # them). Only for a list someone wrote down: the private ranges of the default
    # also hold clients, whose own entries nobody vouches for.
    chain: bool = True

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """Comma-separated addresses or networks; ValueError names an entry that is neither."""
        networks: list[Network] = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"{TRUSTED_PROXIES_ENV}: {entry!r} is not an IP address or network"
                ) from None
        return cls(tuple(networks))

    @classmethod
    def default(cls) -> TrustedProxies:
        """A peer on loopback or a private range, believed for the entry it wrote only."""
        return cls(cls.parse(DEFAULT_TRUSTED_PROXIES).networks, chain=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrustedProxies:
        """SHOPGRAPH_TRUSTED_PROXIES, or the default when it is unset."""
        text = (env if env is not None else os.environ).get(TRUSTED_PROXIES_ENV)
        return cls.default() if text is None else cls.parse(text)

    def trusts(self, address: Address) -> bool:
        """Whether `address` is a hop allowed to say who its client was."""
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The throttling key of the client behind `peer` (see the module docstring)."""
        current = parse_address(peer or "")
        if current is None:
            return UNKNOWN
        hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
        if not self.trusts(current):
            return throttle_key(current)
        while hops:
            previous = parse_address(hops.pop())
            if previous is None:
                # Garbage where an address should be: the hop that passed it on is the
                # last address anyone vouches for.
                break
            current = previous
            if not (self.chain and self.trusts(current)):
                break
        return throttle_key(current)
