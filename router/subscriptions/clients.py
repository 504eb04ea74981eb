"""Subscriptions running per client address (`subscriptions.max_per_client`), so that one
client opening many connections cannot take all of `max_total` (WebSocket and SSE alike).

The address is the one the router's edge worked out (app.py `_headers`, docs/
configuration.md "The client address"): it writes the peer last in `x-forwarded-for`,
after what a proxy of `traffic.trusted_proxies` sent. The client is the right-most entry
that is no trusted proxy: a trusted proxy's own address stands for the clients behind it
only when nothing else is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from router.server.headers import is_trusted_proxy

_MAX_KEY = 64  # characters of an address kept as a key (an IPv6 address has at most 45)
UNKNOWN = "unknown"  # no peer address (a Unix socket): such clients share one count


class ClientCounts:
    """How many subscriptions each client address runs."""

    def __init__(self, limit: int, trusted_proxies: Sequence[str] = ()) -> None:
        """`limit`: the most one address may run; `trusted_proxies`: as in `traffic`
        (checked at config load)."""
        self.limit = limit
        self._trusted = tuple(trusted_proxies)
        self._counts: dict[str, int] = {}

    def client(self, headers: Mapping[str, str]) -> str:
        """The client address of a request with these (edge-written) headers."""
        forwarded = headers.get("x-forwarded-for")
        if not forwarded:
            return UNKNOWN
        entries = [entry.strip() for entry in forwarded.split(",")]
        for entry in reversed(entries):
            if not is_trusted_proxy(entry, self._trusted):
                return entry[:_MAX_KEY]
        return entries[0][:_MAX_KEY]

    def take(self, client: str) -> bool:
        """Count one more subscription for `client`; False (nothing counted) at the limit."""
        count = self._counts.get(client, 0)
        if count >= self.limit:
            return False
        self._counts[client] = count + 1
        return True

    def give_back(self, client: str) -> None:
        """Count one subscription of `client` out."""
        count = self._counts.get(client, 0) - 1
        if count > 0:
            self._counts[client] = count
        else:
            self._counts.pop(client, None)

    def running(self, client: str) -> int:
        """The subscriptions `client` runs now."""
        return self._counts.get(client, 0)
