"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from .auth import Auth
from .database import Database

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class Context:
    """The request's database, caller, services and DataLoaders, shared by its resolvers."""

    db: Database
    auth: Auth
    services: Any = None
    # Who sent the request, for per-client rules (accounts' sign-in throttling): the
    # TCP peer's address and the X-Forwarded-For it sent (trusted only from known hops).
    peer: str | None = None
    forwarded_for: str | None = None
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(
        self, name: str, load: Callable[[Sequence[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's DataLoader called `name`: one batch per tick, however many callers."""
        existing = self._loaders.get(name)
        if existing is None:
            existing = DataLoader(load_fn=load)  # type: ignore[arg-type]
            self._loaders[name] = existing
        return existing

    def forget_loaders(self) -> None:
        """Drop the DataLoaders and what they cached: the next read goes to the database
        (between a subscription's events, which share one context)."""
        self._loaders.clear()
