"""A least-recently-used cache bounded both in entries and in total weight."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Least-recently-used entries, at most `max_entries` of them weighing at most
    `max_weight` together (the caller says what an entry weighs)."""

    def __init__(
        self,
        max_entries: int,
        max_weight: int,
        on_change: Callable[[int, int], None] | None = None,
    ) -> None:
        """`on_change(entries, weight)` hears of the cache's size after every change."""
        self.max_entries = max_entries
        self.max_weight = max_weight
        self.weight = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._on_change = on_change

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The entry for `key`, now the most recently used; None when absent."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, weight: int = 1) -> None:
        """Keep `value` (unless it alone outweighs the cache), evicting the oldest."""
        if weight > self.max_weight or self.max_entries < 1:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        self._entries[key] = (value, weight)
        self.weight += weight
        while len(self._entries) > self.max_entries or self.weight > self.max_weight:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.weight -= dropped
        if self._on_change is not None:
            self._on_change(len(self._entries), self.weight)
