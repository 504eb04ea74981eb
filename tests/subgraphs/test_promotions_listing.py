"""promotions: the admins' connection (both ways, by status) and the demo promotions."""

from __future__ import annotations

from typing import Any

from promotions_helpers import ACTIVE, DISABLE, QUOTE, buy_get, created, hours
from subgraph_stack import Stack, admin_token, service_token

from subgraphs.stack import prepare

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $status: PromotionStatus) {
  promotions(first: $first, after: $after, last: $last, before: $before, status: $status) {
    nodes { code status }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""


async def page(stack: Stack, **variables: Any) -> dict[str, Any]:
    data = await stack.data("promotions", PAGE, variables, admin_token())
    result: dict[str, Any] = data["promotions"]
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [node["code"] for node in result["nodes"]]


async def test_pages_go_both_ways_newest_first(stack: Stack) -> None:
    for number in range(1, 6):
        await created(stack, f"PROMO{number}", buy_get())
    first = await page(stack, first=2)
    assert codes(first) == ["PROMO5", "PROMO4"]
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    second = await page(stack, first=2, after=first["pageInfo"]["endCursor"])
    assert codes(second) == ["PROMO3", "PROMO2"]
    assert (second["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"]) == (
        True,
        True,
    )
    back = await page(stack, last=2, before=second["pageInfo"]["startCursor"])
    assert codes(back) == ["PROMO5", "PROMO4"]
    assert (back["pageInfo"]["hasNextPage"], back["pageInfo"]["hasPreviousPage"]) == (True, False)
    tail = await page(stack, last=2)
    assert codes(tail) == ["PROMO2", "PROMO1"]
    assert (tail["pageInfo"]["hasNextPage"], tail["pageInfo"]["hasPreviousPage"]) == (False, True)


async def test_status_filters_the_list_and_its_count(stack: Stack) -> None:
    await created(stack, "NOW", buy_get())
    await created(stack, "SOON", buy_get(), startsAt=hours(3))
    await created(stack, "OFF", buy_get())
    await stack.data("promotions", DISABLE, {"input": {"code": "OFF"}}, admin_token())
    await created(stack, "PAST", buy_get(), startsAt=hours(-5), endsAt=hours(1))
    await stack.sql("promotions", "UPDATE promotions SET ends_at = now() WHERE code = 'PAST'")
    expected = {"ACTIVE": ["NOW"], "SCHEDULED": ["SOON"], "DISABLED": ["OFF"], "EXPIRED": ["PAST"]}
    for status, wanted in expected.items():
        result = await page(stack, status=status)
        assert codes(result) == wanted, status
        assert result["totalCount"] == 1
        assert {node["status"] for node in result["nodes"]} == {status}
    assert (await page(stack))["totalCount"] == 4


async def test_page_arguments_are_checked(stack: Stack) -> None:
    body = await stack.gql("promotions", PAGE, {"first": 101}, admin_token())
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("`first` must be at most 100 (got 101)", {"code": "BAD_USER_INPUT", "field": ["first"]})
    ]
    body = await stack.gql("promotions", PAGE, {"after": "bm90LWEtY3Vyc29y"}, admin_token())
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["after"]}


async def test_the_demo_shop_runs_tea3for2(stack: Stack) -> None:
    await prepare(stack.database_urls, seed=True)
    await prepare(stack.database_urls, seed=True)  # a second run adds nothing
    active = (await stack.data("promotions", ACTIVE))["activePromotions"]
    assert [(p["code"], p["status"], p["endsAt"]) for p in active] == [
        ("TEA3FOR2", "ACTIVE", None)
    ]
    every = await page(stack)
    assert sorted((n["code"], n["status"]) for n in every["nodes"]) == [
        ("TEA3FOR2", "ACTIVE"),
        ("WELCOME5", "EXPIRED"),
    ]
    # three of the demo teas: Earl Grey 10.90, Rooibos 9.50, Chamomile 8.40 -> 8.40 off
    lines = [
        {
            "productId": "00000000-0000-4000-8000-00000000000" + str(n),
            "categorySlug": "tea",
            "unitPrice": {"amount": price, "currencyCode": "USD"},
            "quantity": 1,
        }
        for n, price in enumerate(("10.90", "9.50", "8.40"))
    ]
    quote = await stack.data("promotions", QUOTE, {"input": {"lines": lines}}, service_token())
    assert quote["quoteDiscounts"]["discountTotal"] == {"amount": "8.40", "currencyCode": "USD"}
