"""quoteDiscounts: the internal quote orders asks for, over real HTTP and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from promotions_helpers import DISABLE, QUOTE, buy_get, created, fixed, hours, percent_off
from subgraph_stack import Stack, admin_token, customer_token, service_token

from subgraphs.promotions.quoting import MAX_LINES

PRICE_RULE = "unitPrice.amount must be 0-9999999999.99 with at most 2 decimals and no minus sign"


def line(price: str, quantity: int = 1, category: str = "tea", currency: str = "USD") -> dict:
    return {
        "productId": str(uuid.uuid4()),
        "categorySlug": category,
        "unitPrice": {"amount": price, "currencyCode": currency},
        "quantity": quantity,
    }


async def quote(stack: Stack, lines: list[dict[str, Any]]) -> dict[str, Any]:
    body = await stack.data("promotions", QUOTE, {"input": {"lines": lines}}, service_token())
    result: dict[str, Any] = body["quoteDiscounts"]
    return result


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


async def test_three_teas_for_two_takes_the_cheapest_off(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get(), description="3 teas for 2")
    teas = [line("5.00"), line("6.00"), line("7.00")]
    result = await quote(stack, [*teas, line("9.99", 1, "coffee")])
    assert result == {
        "discounts": [{"code": "TEA3FOR2", "description": "3 teas for 2", "amount": usd("5.00")}],
        "discountTotal": usd("5.00"),
    }


async def test_no_promotion_applies_to_a_cart_that_earns_none(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    assert await quote(stack, [line("5.00", 2)]) == {"discounts": [], "discountTotal": usd("0.00")}


async def test_only_active_promotions_count(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    await created(stack, "LATER10", percent_off("tea", "10"), startsAt=hours(2))
    await created(stack, "OFF", percent_off("tea", "50"), priority=99)
    await stack.data("promotions", DISABLE, {"input": {"code": "OFF"}}, admin_token())
    result = await quote(stack, [line("4.00", 3)])
    assert [d["code"] for d in result["discounts"]] == ["TEA3FOR2"]
    assert result["discountTotal"] == usd("4.00")


async def test_stacking_over_http(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get(), priority=5)
    await created(stack, "TEA10", percent_off("tea", "10"))
    await created(stack, "FIVE20", fixed("5.00", "20.00"))
    # 3-for-2 takes 5.00 and claims 5, 6, 7; 10% of the 8.00 tea; 26.00 - 5.80 >= 20: 5 off
    result = await quote(stack, [line("5.00"), line("6.00"), line("7.00"), line("8.00")])
    assert [(d["code"], d["amount"]["amount"]) for d in result["discounts"]] == [
        ("TEA3FOR2", "5.00"),
        ("TEA10", "0.80"),
        ("FIVE20", "5.00"),
    ]
    assert result["discountTotal"] == usd("10.80")


async def test_a_fixed_amount_in_another_currency_is_not_applied(stack: Stack) -> None:
    await created(stack, "EURO5", fixed("5.00", "10.00", "EUR"))
    eur = await quote(stack, [line("20.00", 1, "gifts", "EUR")])
    assert eur["discountTotal"] == {"amount": "5.00", "currencyCode": "EUR"}
    assert (await quote(stack, [line("20.00", 1, "gifts")]))["discountTotal"] == usd("0.00")


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        (
            [line("5.00"), line("5.00", currency="EUR")],
            ["input", "lines"],
            "All lines must be in one currency (the lines are in different currencies: EUR, USD)",
        ),
        ([], ["input", "lines"], f"lines must hold 1-{MAX_LINES} lines"),
        ([line("5.00", 0)], ["input", "lines", "0", "quantity"], "quantity must be 1-1000"),
        ([line("1.00"), line("5.00", 1001)], ["input", "lines", "1", "quantity"],
         "quantity must be 1-1000"),
        ([line("-1.00")], ["input", "lines", "0", "unitPrice", "amount"], PRICE_RULE),
        ([line("1.001")], ["input", "lines", "0", "unitPrice", "amount"], PRICE_RULE),
        # no price reads "-0" (PostgreSQL's numeric has no negative zero): a sign bug
        ([line("1.00"), line("-0")], ["input", "lines", "1", "unitPrice", "amount"], PRICE_RULE),
        ([line("-0.00")], ["input", "lines", "0", "unitPrice", "amount"], PRICE_RULE),
        (
            [{**line("1.00"), "productId": "not-a-uuid"}],
            ["input", "lines", "0", "productId"],
            "productId must be a product id",
        ),
    ],
)
async def test_a_malformed_quote_is_bad_user_input_naming_the_field(
    stack: Stack, lines: list[dict[str, Any]], field: list[str], message: str
) -> None:
    body = await stack.gql("promotions", QUOTE, {"input": {"lines": lines}}, service_token())
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field


async def test_a_zero_price_is_quoted(stack: Stack) -> None:
    await created(stack, "TEA3FOR2", buy_get())
    # the free sample is the cheapest of three: nothing off
    result = await quote(stack, [line("0"), line("5.00"), line("6.00")])
    assert result == {"discounts": [], "discountTotal": usd("0.00")}


async def test_too_many_lines_are_refused_before_any_work(stack: Stack) -> None:
    lines = [line("1.00")] * (MAX_LINES + 1)
    body = await stack.gql("promotions", QUOTE, {"input": {"lines": lines}}, service_token())
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": ["input", "lines"],
    }


@pytest.mark.parametrize(
    ("who", "code"),
    [("admin", "FORBIDDEN"), ("customer", "FORBIDDEN"), ("nobody", "UNAUTHENTICATED")],
)
async def test_only_services_may_ask_for_a_quote(stack: Stack, who: str, code: str) -> None:
    token = {"admin": admin_token(), "customer": customer_token(), "nobody": None}[who]
    body = await stack.gql("promotions", QUOTE, {"input": {"lines": [line("1.00")]}}, token)
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["quoteDiscounts"], code)
    ]
