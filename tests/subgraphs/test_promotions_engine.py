"""The discount engine alone: exact Decimal results for each kind and for the stacking rules."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from subgraphs.promotions.engine import (
    BuyNGetMFree,
    Discount,
    FixedAmountOverThreshold,
    Line,
    MixedCurrencies,
    Offer,
    PercentageOffCategory,
    quote,
)

TEA3FOR2 = Offer("TEA3FOR2", "3 teas for the price of 2", BuyNGetMFree("tea", 2, 1))


def line(price: str, quantity: int = 1, category: str = "tea", currency: str = "USD") -> Line:
    return Line(f"p-{category}-{price}", category, Decimal(price), quantity, currency)


def fixed(code: str, amount: str, threshold: str, currency: str = "USD") -> Offer:
    rule = FixedAmountOverThreshold(Decimal(amount), Decimal(threshold), currency)
    return Offer(code, f"{amount} off {threshold}", rule)


def amounts(offers: list[Offer], lines: list[Line]) -> list[tuple[str, Decimal]]:
    return [(d.code, d.amount) for d in quote(offers, lines).discounts]


def test_buy_two_get_one_makes_the_cheapest_of_three_free() -> None:
    result = quote([TEA3FOR2], [line("5.00"), line("6.00"), line("7.00")])
    assert result.discounts == (Discount("TEA3FOR2", "3 teas for the price of 2", Decimal("5.00")),)
    assert result.total == Decimal("5.00")
    assert result.subtotal == Decimal("18.00")
    assert result.currency == "USD"


def test_six_units_make_the_two_cheapest_free() -> None:
    lines = [line("9.00"), line("8.00", 2), line("4.00"), line("3.50"), line("10.00")]
    assert amounts([TEA3FOR2], lines) == [("TEA3FOR2", Decimal("7.50"))]


def test_units_of_one_line_count_separately() -> None:
    assert amounts([TEA3FOR2], [line("12.40", 3)]) == [("TEA3FOR2", Decimal("12.40"))]
    assert amounts([TEA3FOR2], [line("12.40", 5)]) == [("TEA3FOR2", Decimal("12.40"))]
    assert amounts([TEA3FOR2], [line("12.40", 6)]) == [("TEA3FOR2", Decimal("24.80"))]


def test_too_few_units_or_other_categories_earn_nothing() -> None:
    assert quote([TEA3FOR2], [line("5.00", 2)]).discounts == ()
    assert quote([TEA3FOR2], [line("5.00", 2), line("1.00", 5, "coffee")]).discounts == ()


def test_mixed_categories_count_only_the_promotions_category() -> None:
    lines = [line("5.00"), line("1.00", 4, "snacks"), line("6.00"), line("7.00")]
    lines.append(line("2.00", 1, "coffee"))
    assert amounts([TEA3FOR2], lines) == [("TEA3FOR2", Decimal("5.00"))]


def test_percentage_off_a_category_rounds_once_per_promotion_half_up() -> None:
    ten_off = Offer("TEA10", "10% off tea", PercentageOffCategory("tea", Decimal("10")))
    # 3 x 0.05 = 0.15 -> 0.015 off: one rounding of the sum gives 0.02 (three would give 0.03)
    assert amounts([ten_off], [line("0.05", 3)]) == [("TEA10", Decimal("0.02"))]
    assert amounts([ten_off], [line("10.90", 2), line("8.40"), line("5.00", 1, "coffee")]) == [
        ("TEA10", Decimal("3.02"))
    ]
    half = Offer("HALF", "12.5% off", PercentageOffCategory("tea", Decimal("12.5")))
    assert amounts([half], [line("0.20")]) == [("HALF", Decimal("0.03"))]  # 0.025 -> 0.03


def test_a_hundred_percent_is_the_whole_category_and_no_more() -> None:
    free = Offer("FREE", "tea on us", PercentageOffCategory("tea", Decimal("100")))
    result = quote([free], [line("17.80", 2), line("3.00", 1, "coffee")])
    assert result.total == Decimal("35.60")


def test_percentage_then_buy_n_never_discounts_a_unit_twice() -> None:
    ten_off = Offer("TEA10", "10% off tea", PercentageOffCategory("tea", Decimal("10")), priority=5)
    lines = [line("5.00"), line("6.00"), line("7.00")]
    # the percentage comes first and claims every tea: nothing is left to buy-two-get-one
    assert amounts([TEA3FOR2, ten_off], lines) == [("TEA10", Decimal("1.80"))]


def test_buy_n_first_leaves_its_dearest_units_to_a_percentage() -> None:
    ten_off = Offer("TEA10", "10% off tea", PercentageOffCategory("tea", Decimal("10")))
    first = Offer("TEA3FOR2", "3 for 2", BuyNGetMFree("tea", 2, 1), priority=5)
    lines = [line("5.00"), line("6.00"), line("7.00"), line("8.00")]
    # 3-for-2 claims 5.00 (free), 6.00 and 7.00; only the 8.00 tea is left for 10% off
    assert amounts([ten_off, first], lines) == [
        ("TEA3FOR2", Decimal("5.00")),
        ("TEA10", Decimal("0.80")),
    ]


def test_equal_priorities_apply_in_code_order() -> None:
    a = Offer("A-TEA", "20% off tea", PercentageOffCategory("tea", Decimal("20")))
    b = Offer("B-TEA", "50% off tea", PercentageOffCategory("tea", Decimal("50")))
    assert amounts([b, a], [line("10.00")]) == [("A-TEA", Decimal("2.00"))]


def test_fixed_amount_applies_when_the_threshold_is_exactly_met() -> None:
    five_off = Offer(
        "FIVE50", "$5 off $50", FixedAmountOverThreshold(Decimal("5.00"), Decimal("50.00"), "USD")
    )
    assert amounts([five_off], [line("25.00", 2, "coffee")]) == [("FIVE50", Decimal("5.00"))]
    assert amounts([five_off], [line("24.99", 2, "coffee")]) == []


def test_fixed_amount_counts_what_remains_after_item_discounts() -> None:
    five_off = Offer(
        "FIVE15", "$5 off $15", FixedAmountOverThreshold(Decimal("5.00"), Decimal("15.00"), "USD")
    )
    lines = [line("5.00"), line("6.00"), line("7.00")]  # 18.00, 13.00 after 3-for-2
    assert amounts([five_off, TEA3FOR2], lines) == [("TEA3FOR2", Decimal("5.00"))]
    lines.append(line("2.00", 1, "snacks"))  # 20.00, 15.00 after 3-for-2
    assert amounts([five_off, TEA3FOR2], lines) == [
        ("TEA3FOR2", Decimal("5.00")),
        ("FIVE15", Decimal("5.00")),
    ]


def test_fixed_amount_is_capped_at_what_remains() -> None:
    big = fixed("BIG", "30.00", "1.00")
    result = quote([big, TEA3FOR2], [line("5.00"), line("6.00"), line("7.00")])
    assert [(d.code, d.amount) for d in result.discounts] == [
        ("TEA3FOR2", Decimal("5.00")),
        ("BIG", Decimal("13.00")),
    ]
    assert result.total == result.subtotal == Decimal("18.00")


def test_only_the_best_order_level_promotion_applies() -> None:
    small = Offer(
        "SMALL",
        "$5 off $20",
        FixedAmountOverThreshold(Decimal("5.00"), Decimal("20.00"), "USD"),
        priority=9,
    )
    large = Offer(
        "LARGE", "$12 off $40", FixedAmountOverThreshold(Decimal("12.00"), Decimal("40.00"), "USD")
    )
    assert amounts([small, large], [line("45.00", 1, "gifts")]) == [("LARGE", Decimal("12.00"))]
    assert amounts([small, large], [line("39.99", 1, "gifts")]) == [("SMALL", Decimal("5.00"))]
    tie = Offer(
        "TIE", "$5 off $10", FixedAmountOverThreshold(Decimal("5.00"), Decimal("10.00"), "USD")
    )
    # equal amounts: the higher priority wins
    assert amounts([tie, small], [line("39.99", 1, "gifts")]) == [("SMALL", Decimal("5.00"))]


def test_a_fixed_amount_in_another_currency_does_not_apply() -> None:
    euros = fixed("EURO5", "5", "10", "EUR")
    assert amounts([euros], [line("50.00", 1, "gifts", "USD")]) == []
    assert amounts([euros], [line("50.00", 1, "gifts", "EUR")]) == [("EURO5", Decimal("5"))]


def test_lines_in_different_currencies_are_refused() -> None:
    with pytest.raises(MixedCurrencies, match="EUR, USD"):
        quote([TEA3FOR2], [line("5.00", currency="USD"), line("5.00", currency="EUR")])
    with pytest.raises(ValueError, match="at least one line"):
        quote([TEA3FOR2], [])


def test_free_units_of_zero_price_discount_nothing() -> None:
    assert quote([TEA3FOR2], [line("0.00", 3)]).discounts == ()


def test_buy_one_get_two_and_large_quantities() -> None:
    b1g2 = Offer("B1G2", "buy 1 get 2", BuyNGetMFree("tea", 1, 2))
    # 7 units: 2 groups of 3 -> 4 free, the cheapest: 1.00 x 3 and one 2.00
    lines = [line("1.00", 3), line("2.00", 2), line("9.00", 2)]
    assert amounts([b1g2], lines) == [("B1G2", Decimal("5.00"))]
    assert amounts([TEA3FOR2], [line("0.01", 1000)]) == [("TEA3FOR2", Decimal("3.33"))]


def _random_case(rng: random.Random) -> tuple[list[Offer], list[Line]]:
    categories = ("tea", "coffee", "mugs-cups")
    lines = [
        line(f"{rng.randint(0, 5000) / 100:.2f}", rng.randint(1, 7), rng.choice(categories))
        for _ in range(rng.randint(1, 6))
    ]
    offers = []
    for number in range(rng.randint(0, 5)):
        category, priority = rng.choice(categories), rng.randint(0, 3)
        rule = rng.choice(
            [
                PercentageOffCategory(category, Decimal(rng.randint(1, 10000)) / 100),
                BuyNGetMFree(category, rng.randint(1, 4), rng.randint(1, 3)),
                FixedAmountOverThreshold(
                    Decimal(rng.randint(1, 3000)) / 100,
                    Decimal(rng.randint(3000, 9000)) / 100,
                    "USD",
                ),
            ]
        )
        offers.append(Offer(f"P{number}", "random", rule, priority))
    return offers, lines


def test_random_carts_never_get_more_off_than_they_cost_whatever_the_offer_order() -> None:
    rng = random.Random(12)  # seeded: the same 500 carts every run
    for _ in range(500):
        offers, lines = _random_case(rng)
        result = quote(offers, lines)
        assert 0 <= result.total <= result.subtotal
        assert all(
            d.amount > 0 and d.amount == d.amount.quantize(Decimal("0.01"))
            for d in result.discounts
        )
        assert len({d.code for d in result.discounts}) == len(result.discounts)
        # the rules order the offers themselves: the caller's order changes nothing
        assert quote(list(reversed(offers)), lines) == result
