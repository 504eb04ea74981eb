"""The plan cache's LruCache: bounded in entries and in total weight, telling a
listener its size after every change."""

from __future__ import annotations

from router.lru import LruCache


def test_the_listener_hears_the_size_after_puts_and_evictions():
    sizes: list[tuple[int, int]] = []
    cache: LruCache[str, str] = LruCache(3, 100, lambda n, w: sizes.append((n, w)))
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    cache.put("c", "C", 40)  # 120 > 100: "a" goes
    cache.put("b", "B2", 10)  # replaced: 40 + 10
    assert sizes == [(1, 40), (2, 80), (2, 80), (2, 50)]
    assert (cache.get("a"), cache.get("b"), len(cache), cache.weight) == (None, "B2", 2, 50)


def test_entries_are_bounded_in_number_least_recently_used_first():
    cache: LruCache[str, int] = LruCache(2, 1000)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_an_entry_heavier_than_the_whole_cache_is_not_kept():
    sizes: list[tuple[int, int]] = []
    cache: LruCache[str, int] = LruCache(2, 100, lambda n, w: sizes.append((n, w)))
    cache.put("big", 1, 101)
    assert (len(cache), sizes) == (0, [])
