"""The inline trace of one request (`extensions.trace`): every subgraph HTTP call the
plan made, with when it started, how long it took, what came back and for how many
entities.

A `TraceRecorder` exists only for a traced request (the `shopgraph-trace: 1` header,
when the configuration allows it); the executor checks for one per fetch and does no
timing at all without it. A `@defer`red part records into `recorder.part(label)`: the
same clock, its own list of fetches for its own payload.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from router.authorization.access import scopes_of
from router.config import InlineTraceConfig

HEADER = "shopgraph-trace"
VERSION = 1


class FetchSpan:
    """One subgraph call being recorded: its entry, completed by `received` and `done`."""

    __slots__ = ("entry", "origin", "started")

    def __init__(self, entry: dict[str, Any], origin: float) -> None:
        """Start timing now; `entry` is the trace entry to complete."""
        self.entry = entry
        self.origin = origin
        self.started = time.perf_counter()
        entry["startMs"] = _ms(self.started - origin)

    def received(self, size: int) -> None:
        """The subgraph answered with a body of `size` bytes."""
        self.entry["bytes"] = size

    def done(self) -> None:
        """The call is over (answered or failed)."""
        self.entry["durationMs"] = _ms(time.perf_counter() - self.started)


class TraceRecorder:
    """The fetches of one traced request, or of one deferred part of it."""

    __slots__ = ("deferred", "fetches", "origin")

    def __init__(self, origin: float | None = None, deferred: str | None = None) -> None:
        """A recorder whose offsets count from `origin` (a `time.perf_counter()` value;
        now when not given); `deferred` names the deferred part it records, if any."""
        self.origin = time.perf_counter() if origin is None else origin
        self.deferred = deferred
        self.fetches: list[dict[str, Any]] = []

    def part(self, deferred: str) -> TraceRecorder:
        """A recorder for the deferred part `deferred` (its label, else its path): the same
        request clock, its own fetches (sent with that part's payload)."""
        return TraceRecorder(self.origin, deferred)

    def start(self, service: str, fetch_id: int, path: str, entities: int | None) -> FetchSpan:
        """Record a call to `service` starting now: `path` is "" for a root fetch, else the
        flatten path joined by "."; `entities` the representations sent (None: root)."""
        entry: dict[str, Any] = {
            "service": service,
            "fetchId": fetch_id,
            "path": path,
            "startMs": 0.0,
            "durationMs": 0.0,
            "bytes": 0,
            "entities": entities,
            "deferred": self.deferred,
        }
        self.fetches.append(entry)  # appended as they start: the list is in start order
        return FetchSpan(entry, self.origin)

    def as_json(self) -> dict[str, Any]:
        """`extensions.trace`: the fetches so far, and the time since the request began."""
        duration = _ms(time.perf_counter() - self.origin)
        return {"version": VERSION, "durationMs": duration, "fetches": self.fetches}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def wants_trace(
    config: InlineTraceConfig, headers: Mapping[str, str], claims: Mapping[str, Any] | None
) -> bool:
    """Whether this request gets a trace: it asks (`shopgraph-trace: 1`; header names
    lowercase) and the configuration lets this caller have one (any caller in
    development; else a verified token with one of the configured scopes)."""
    if not config.enabled or headers.get(HEADER, "").strip() != "1":
        return False
    if config.allow == "development":
        return True
    return not scopes_of(claims).isdisjoint(config.scopes)
