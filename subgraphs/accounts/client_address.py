"""The address a sign-in came from, for throttling.

accounts sits behind the router, so the TCP peer is usually the router. The
router appends the address of whoever connected to it to `X-Forwarded-For`
(and forwards that header to subgraphs by default), so the client is the
right-most entry of that header that is not itself a trusted hop. The header
is believed only when the peer is a trusted hop: anyone else could write
anything there, so for them the peer address is the client.

Trusted hops are SHOPGRAPH_TRUSTED_PROXIES, a comma-separated list of
addresses or networks (the router's address, and any load balancer in front
of it). By default loopback and the private ranges are trusted, which covers
`shopgraph dev` and compose.yaml's network; set it to exactly your router's
addresses where clients can reach accounts from a private network.
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
    """An address as written in a header or by the server (IPv4-mapped IPv6 unwrapped)."""
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[2001:db8::1]:443"
        candidate = candidate[1 : candidate.index("]")]
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
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrustedProxies:
        """SHOPGRAPH_TRUSTED_PROXIES, or loopback and the private ranges when it is unset."""
        text = (env if env is not None else os.environ).get(TRUSTED_PROXIES_ENV)
        return cls.parse(DEFAULT_TRUSTED_PROXIES if text is None else text)

    def trusts(self, address: Address) -> bool:
        """Whether `address` is a hop allowed to say who its client was."""
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The throttling key of the client behind `peer` (see the module docstring)."""
        current = parse_address(peer or "")
        if current is None:
            return UNKNOWN
        hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
        while self.trusts(current) and hops:
            previous = parse_address(hops.pop())
            if previous is None:
                # Garbage written before a trusted hop: the hop that passed it on is
                # the last address anyone vouches for.
                break
            current = previous
        return throttle_key(current)
