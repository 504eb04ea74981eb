"""The rankings, as pure functions on plain data (ids are strings, counts ints).

The API ranks in SQL with the same order (most shared baskets first, ties by
the smaller id; best sellers by units, then name, then id); these functions are
that order's definition, what the full recompute counts with, and what the
tests check exact rankings against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

Basket = Mapping[str, int]  # product id -> units in one counted basket

# The most distinct products one basket counts with: orders' cart limit (MAX_CART_LINES),
# so a real order is never cut. An event claiming more (forged, or a future orders) counts
# only its first MAX_BASKET_PRODUCTS products by id, which bounds the work one event
# costs (at most 100 x 99 pairs) and is the same rule in SQL (counts.py: ORDER BY
# product_id LIMIT) and in the full recompute, so both paths count the same pairs.
MAX_BASKET_PRODUCTS = 100


def bounded(basket: Basket) -> dict[str, int]:
    """The basket's first MAX_BASKET_PRODUCTS products by id (lowercase UUID text sorts
    as PostgreSQL sorts uuid), with their units."""
    return {p: basket[p] for p in sorted(basket)[:MAX_BASKET_PRODUCTS]}


def ordered_pairs(products: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Every (a, b) of two distinct products of one basket, both ways round, sorted."""
    distinct = sorted(set(products))
    for a in distinct:
        for b in distinct:
            if a != b:
                yield a, b


def co_purchase_counts(baskets: Iterable[Collection[str]]) -> Counter[tuple[str, str]]:
    """For each ordered pair of products, the number of baskets holding both."""
    counts: Counter[tuple[str, str]] = Counter()
    for basket in baskets:
        counts.update(ordered_pairs(basket))
    return counts


def sales_counts(baskets: Iterable[Basket]) -> dict[str, tuple[int, int]]:
    """Per product: (units bought, baskets it is in)."""
    units: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for basket in baskets:
        for product, quantity in basket.items():
            units[product] += quantity
            seen[product] += 1
    return {product: (units[product], seen[product]) for product in units}


def rank_co_purchased(counts: Mapping[str, int]) -> list[str]:
    """Products by shared baskets, most first; ties by the smaller id."""
    return sorted(counts, key=lambda other: (-counts[other], other))


def rank_best_sellers(units: Mapping[str, int], names: Mapping[str, str]) -> list[str]:
    """Products by units bought, most first; ties by name (unknown: empty), then id."""
    return sorted(units, key=lambda p: (-units[p], names.get(p, ""), p))


def fill(ranked: Iterable[Iterable[str]], first: int, exclude: Collection[str]) -> list[str]:
    """The first `first` distinct ids of the ranked lists in turn, none of `exclude`."""
    chosen: list[str] = []
    taken = set(exclude)
    for ranking in ranked:
        for product in ranking:
            if len(chosen) == first:
                return chosen
            if product not in taken:
                taken.add(product)
                chosen.append(product)
    return chosen


def suggestions(
    product: str,
    co_purchased: Sequence[str],
    same_category_best_sellers: Sequence[str],
    first: int,
) -> list[str]:
    """Product.suggestions: the co-purchased products, then the category's best sellers,
    never `product` itself, no duplicates, at most `first`."""
    return fill((co_purchased, same_category_best_sellers), first, {product})


def summed_counts(
    bought: Collection[str], pair_counts: Iterable[tuple[str, str, int]]
) -> dict[str, int]:
    """Per product not in `bought`: its shared baskets summed over the bought products."""
    totals: Counter[str] = Counter()
    for product, other, count in pair_counts:
        if product in bought and other not in bought:
            totals[other] += count
    return dict(totals)


def recommendations(
    bought: Collection[str], co_purchased: Sequence[str], best_sellers: Sequence[str], first: int
) -> list[str]:
    """User.recommendedProducts: products bought with theirs, then best sellers; nothing
    they bought already, no duplicates, at most `first`."""
    return fill((co_purchased, best_sellers), first, bought)


def top_per_product(counts: Mapping[tuple[str, str], int], first: int) -> dict[str, list[str]]:
    """Each product's `first` co-purchased products, ranked (what suggestions shows)."""
    per_product: dict[str, dict[str, int]] = {}
    for (product, other), count in counts.items():
        per_product.setdefault(product, {})[other] = count
    return {p: rank_co_purchased(others)[:first] for p, others in per_product.items()}
