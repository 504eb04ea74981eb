"""suggestions' rankings as pure functions: exact answers on small baskets."""

from __future__ import annotations

from subgraphs.suggestions import scoring
from subgraphs.suggestions.consumers import basket_lines

# a: bought with b three times, with c twice, with d once; e alone
BASKETS = [
    {"a": 1, "b": 2},
    {"a": 1, "b": 1, "c": 1},
    {"a": 3, "b": 1, "c": 1, "d": 1},
    {"e": 5},
]


def test_ordered_pairs_are_both_ways_without_self_or_repeats() -> None:
    assert list(scoring.ordered_pairs(["b", "a", "b"])) == [("a", "b"), ("b", "a")]
    assert list(scoring.ordered_pairs(["x"])) == []


def test_co_purchase_counts() -> None:
    counts = scoring.co_purchase_counts(BASKETS)
    assert counts == {
        ("a", "b"): 3, ("b", "a"): 3,
        ("a", "c"): 2, ("c", "a"): 2, ("b", "c"): 2, ("c", "b"): 2,
        ("a", "d"): 1, ("d", "a"): 1, ("b", "d"): 1, ("d", "b"): 1,
        ("c", "d"): 1, ("d", "c"): 1,
    }  # fmt: skip


def test_sales_are_units_and_baskets() -> None:
    assert scoring.sales_counts(BASKETS) == {
        "a": (5, 3), "b": (4, 3), "c": (2, 2), "d": (1, 1), "e": (5, 1),
    }  # fmt: skip


def test_rank_co_purchased_breaks_ties_by_id() -> None:
    assert scoring.rank_co_purchased({"z": 2, "y": 5, "m": 2, "a": 1}) == ["y", "m", "z", "a"]


def test_best_sellers_by_units_then_name_then_id() -> None:
    units = {"p1": 3, "p2": 7, "p3": 3, "p4": 3, "p5": 3}
    names = {"p1": "Mug", "p3": "Kettle", "p4": "Kettle"}
    # p5 has no known name (""), so it comes before the named ones of its units
    assert scoring.rank_best_sellers(units, names) == ["p2", "p5", "p3", "p4", "p1"]


def test_suggestions_fill_from_category_without_self_or_duplicates() -> None:
    assert scoring.suggestions("a", ["b", "c"], ["a", "c", "x", "y", "z"], 4) == [
        "b", "c", "x", "y",
    ]  # fmt: skip
    assert scoring.suggestions("a", ["b", "c", "d"], ["x"], 2) == ["b", "c"]
    assert scoring.suggestions("a", [], ["a"], 4) == []


def test_summed_counts_skip_what_was_bought() -> None:
    pairs = [("a", "b", 3), ("a", "c", 2), ("b", "c", 2), ("b", "d", 1), ("x", "y", 9)]
    assert scoring.summed_counts({"a", "b"}, pairs) == {"c": 4, "d": 1}


def test_recommendations_exclude_bought_then_best_sellers() -> None:
    bought = {"a", "b"}
    co = scoring.rank_co_purchased(scoring.summed_counts(bought, [("a", "d", 1), ("b", "c", 3)]))
    assert scoring.recommendations(bought, co, ["a", "e", "c", "f"], 4) == ["c", "d", "e", "f"]
    # no history: the best sellers alone
    assert scoring.recommendations(set(), [], ["e", "a", "b"], 2) == ["e", "a"]


def test_top_per_product() -> None:
    top = scoring.top_per_product(scoring.co_purchase_counts(BASKETS), 2)
    assert top == {"a": ["b", "c"], "b": ["a", "c"], "c": ["a", "b"], "d": ["a", "b"]}


def test_order_placed_lines_are_summed_and_cleaned() -> None:
    p1, p2 = "7d3c3b8e-6a5f-4f7e-9c1a-0b2d3e4f5a61", "2a0c1b9e-6a5f-4f7e-9c1a-0b2d3e4f5a62"
    lines = [
        {"productId": p1, "quantity": 2},
        {"productId": p1, "quantity": 1},
        {"productId": p2, "quantity": True},
        {"productId": "not-a-uuid", "quantity": 1},
        {"productId": p2, "quantity": 0},
        "junk",
    ]
    assert {str(k): v for k, v in basket_lines({"lines": lines}).items()} == {p1: 3}
    assert basket_lines({"lines": None}) == {}


def test_a_basket_counts_its_first_products_by_id() -> None:
    products = [f"{n:08x}-0000-0000-0000-000000000000" for n in range(250, 0, -1)]
    basket = {p: n for n, p in enumerate(products)}
    kept = scoring.bounded(basket)
    assert list(kept) == sorted(products)[: scoring.MAX_BASKET_PRODUCTS]
    assert all(kept[p] == basket[p] for p in kept)
    assert scoring.bounded({"b": 1, "a": 2}) == {"a": 2, "b": 1}
    pairs = scoring.co_purchase_counts([scoring.bounded(basket)])
    assert len(pairs) == scoring.MAX_BASKET_PRODUCTS * (scoring.MAX_BASKET_PRODUCTS - 1)


def test_units_of_a_line_are_capped() -> None:
    line = {"productId": "00000000-0000-0000-0000-000000000001", "quantity": 2**40}
    assert list(basket_lines({"lines": [line, line]}).values()) == [2**31 - 1]
