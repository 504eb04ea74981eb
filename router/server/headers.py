"""Which headers each subgraph receives: the client's request headers run through rules.

The top-level rules (default: forward `authorization` and `x-request-id`) run
first, then the subgraph's own; each rule propagates, inserts (a fixed value
or a JWT claim) or removes one header.

`x-forwarded-for` is the router's own word about the client (`forwarded_for`):
subgraphs behind the router (accounts throttles sign-ins per address) take its
right-most entry as the address that connected to the router.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from router.config import HeaderRule


class ClientRequest(dict[str, str]):
    """The client's request headers (lower-case names) plus what the edge learned."""

    claims: dict[str, Any] | None
    request_id: str

    def __init__(
        self, headers: Mapping[str, str], request_id: str, claims: dict[str, Any] | None = None
    ) -> None:
        super().__init__(headers)
        self.request_id = request_id
        self.claims = claims


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # entries were checked at config load (traffic.trusted_proxies)
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted_proxy(peer: str, trusted_proxies: Sequence[str]) -> bool:
    """Whether the address `peer` is one of `trusted_proxies` (networks); False for
    anything that is not an IP address."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:  # not an IP peer (a Unix socket): nothing to match
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(trusted_proxies)))


def forwarded_for(
    given: Sequence[str], peer: str | None, trusted_proxies: Sequence[str]
) -> str | None:
    """The `x-forwarded-for` to pass on, from what the request carried (`given`) and the
    address that connected (`peer`; None when the server knows none).

    A proxy in `trusted_proxies` vouches for what it sent: the peer is appended to it.
    Anyone else's header is their own word about themselves, so it is replaced by the
    peer address; without a peer address nothing is passed on."""
    if peer is None:
        return None
    if given and trusted_proxies and is_trusted_proxy(peer, trusted_proxies):
        return ", ".join([*given, peer])
    return peer


def _claim_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


class HeaderPropagation:
    """Which headers each subgraph gets: the common rules, then the subgraph's own."""

    def __init__(
        self,
        common: Sequence[HeaderRule],
        per_subgraph: Mapping[str, Sequence[HeaderRule]] | None = None,
    ) -> None:
        self.common = tuple(common)
        self.per_subgraph = {name: tuple(rules) for name, rules in (per_subgraph or {}).items()}

    def rules(self, service: str) -> tuple[HeaderRule, ...]:
        """The rules for `service`, in the order they apply."""
        return self.common + self.per_subgraph.get(service, ())

    def __call__(self, service: str, incoming: Mapping[str, str] | None) -> dict[str, str]:
        incoming = incoming or {}
        claims = getattr(incoming, "claims", None) or {}
        out: dict[str, str] = {}
        for rule in self.rules(service):
            if rule.propagate is not None:
                name = rule.propagate.lower()
                value = incoming.get(name, rule.default)
                if value is not None:
                    out[(rule.rename or name).lower()] = value
            elif rule.insert is not None:
                value = (
                    rule.value
                    if rule.value is not None
                    else _claim_text(claims.get(rule.from_claim or ""))
                )
                if value is not None:
                    out[rule.insert.lower()] = value
            elif rule.remove is not None:
                out.pop(rule.remove.lower(), None)
        return out
