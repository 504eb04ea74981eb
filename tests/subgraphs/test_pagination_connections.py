"""Relay pagination both ways on every connection: products, Category.products, orders."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from subgraph_stack import Stack, admin_token, customer_token
from test_entity_batching import create_user_orders, newest_first

from subgraphs.seed import demo_products, seed_products

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $sort: ProductSort,
       $filter: ProductFilter) {
  products(first: $first, after: $after, last: $last, before: $before, sort: $sort,
           filter: $filter) {
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""
CATALOGUE = sorted(p.name for p in demo_products())  # NAME_ASC


@pytest.fixture
async def demo(stack: Stack) -> None:
    await seed_products(stack.dbs["products"])


async def page(stack: Stack, **variables: Any) -> dict[str, Any]:
    products: dict[str, Any] = (await stack.data("products", PAGE, variables))["products"]
    edges = products["edges"]
    info = products["pageInfo"]
    assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
    return products


def names_of(products: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in products["edges"]]


def flags(products: dict[str, Any]) -> tuple[bool, bool]:
    """(hasPreviousPage, hasNextPage)"""
    info = products["pageInfo"]
    return info["hasPreviousPage"], info["hasNextPage"]


async def test_paging_forward_then_back_across_the_whole_catalogue(
    stack: Stack, demo: None
) -> None:
    forward: list[list[str]] = []
    after = None
    while True:
        products = await page(stack, first=10, after=after)
        forward.append(names_of(products))
        # a page has a previous page exactly when it is not the first one
        assert flags(products) == (after is not None, len(forward) < 6)
        if not products["pageInfo"]["hasNextPage"]:
            break
        after = products["pageInfo"]["endCursor"]
    assert [n for chunk in forward for n in chunk] == CATALOGUE
    assert [len(chunk) for chunk in forward] == [10, 10, 10, 10, 10, 4]

    backward: list[list[str]] = []
    before = None
    while True:
        products = await page(stack, last=10, before=before)
        backward.insert(0, names_of(products))
        assert flags(products) == (len(backward) < 6, before is not None)
        if not products["pageInfo"]["hasPreviousPage"]:
            break
        before = products["pageInfo"]["startCursor"]
    assert [n for chunk in backward for n in chunk] == CATALOGUE
    # backward pages are counted from the end: the short one is the first
    assert [len(chunk) for chunk in backward] == [4, 10, 10, 10, 10, 10]


async def test_turning_back_from_a_middle_page(stack: Stack, demo: None) -> None:
    second = await page(stack, first=5, after=(await page(stack, first=5))["pageInfo"]["endCursor"])
    assert names_of(second) == CATALOGUE[5:10]
    back = await page(stack, last=5, before=second["pageInfo"]["startCursor"])
    assert names_of(back) == CATALOGUE[:5]
    assert flags(back) == (False, True)
    # after and before together bound the list; `first` and `last` page inside the bounds
    bounds = {"after": back["edges"][1]["cursor"], "before": second["edges"][3]["cursor"]}
    inside = await page(stack, first=3, **bounds)
    assert names_of(inside) == CATALOGUE[2:5]
    assert flags(inside) == (True, True)  # CATALOGUE[5:8] are still between the bounds
    tail = await page(stack, last=2, **bounds)
    assert names_of(tail) == CATALOGUE[6:8]
    assert flags(tail) == (True, True)
    assert inside["totalCount"] == tail["totalCount"] == len(CATALOGUE)


async def test_both_ends_and_empty_lists(stack: Stack, demo: None) -> None:
    whole = await page(stack, first=100)
    assert names_of(whole) == CATALOGUE
    assert flags(whole) == (False, False)
    newest = await page(stack, last=100, sort="NEWEST")
    assert len(newest["edges"]) == len(CATALOGUE)
    assert flags(newest) == (False, False)
    last = await page(stack, last=1)
    assert names_of(last) == CATALOGUE[-1:]
    beyond = await page(stack, first=5, after=last["pageInfo"]["endCursor"])
    assert names_of(beyond) == []
    assert flags(beyond) == (True, False)
    first = await page(stack, first=1)
    before_first = await page(stack, last=5, before=first["pageInfo"]["startCursor"])
    assert names_of(before_first) == []
    assert flags(before_first) == (False, True)
    nothing = await page(stack, first=5, filter={"search": "no such product"})
    assert names_of(nothing) == []
    assert flags(nothing) == (False, False)
    assert nothing["totalCount"] == 0


async def test_backward_pages_of_another_sort_and_of_a_search(stack: Stack, demo: None) -> None:
    by_price = names_of(await page(stack, first=100, sort="PRICE_DESC"))
    assert names_of(await page(stack, last=3, sort="PRICE_DESC")) == by_price[-3:]
    ranked = names_of(await page(stack, first=100, filter={"search": "tea"}))
    assert len(ranked) > 6
    last_three = await page(stack, last=3, filter={"search": "tea"})
    assert names_of(last_three) == ranked[-3:]
    previous = await page(
        stack, last=3, before=last_three["pageInfo"]["startCursor"], filter={"search": "tea"}
    )
    assert names_of(previous) == ranked[-6:-3]


def _error(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    assert body["data"] == {"products": None}
    (error,) = body["errors"]
    return error["message"], error["extensions"]


async def test_bad_page_arguments_are_bad_user_input(stack: Stack, demo: None) -> None:
    both = await stack.gql("products", PAGE, {"first": 2, "last": 2})
    assert _error(both) == (
        "Pass `first` or `last`, not both",
        {"code": "BAD_USER_INPUT", "field": ["last"]},
    )
    too_many = await stack.gql("products", PAGE, {"last": 101})
    # each names its argument, as `first` and `last` together name `last`
    assert _error(too_many) == (
        "`last` must be at most 100 (got 101)",
        {"code": "BAD_USER_INPUT", "field": ["last"]},
    )
    negative = await stack.gql("products", PAGE, {"last": -1})
    assert _error(negative) == (
        "`last` must not be negative",
        {"code": "BAD_USER_INPUT", "field": ["last"]},
    )
    negative = await stack.gql("products", PAGE, {"first": -1})
    assert _error(negative) == (
        "`first` must not be negative",
        {"code": "BAD_USER_INPUT", "field": ["first"]},
    )
    junk = await stack.gql("products", PAGE, {"last": 2, "before": "junk"})
    assert _error(junk) == (
        "Invalid cursor for this list (`before`)",
        {"code": "BAD_USER_INPUT", "field": ["before"]},
    )


async def test_a_cursor_is_refused_by_another_sort(stack: Stack, demo: None) -> None:
    refused = (
        "Invalid cursor for this list (`after`)",
        {"code": "BAD_USER_INPUT", "field": ["after"]},
    )
    cursors = {}
    for sort in ("NAME_ASC", "NAME_DESC", "PRICE_ASC", "PRICE_DESC", "NEWEST"):
        cursors[sort] = (await page(stack, first=1, sort=sort))["pageInfo"]["endCursor"]
    for written, cursor in cursors.items():
        for sort in cursors:
            body = await stack.gql("products", PAGE, {"first": 1, "after": cursor, "sort": sort})
            if sort == written:
                assert "errors" not in body
            else:
                assert _error(body) == refused, (written, sort)
    # PRICE_ASC and PRICE_DESC cursors hold the same values: the ordering's name tells them apart
    ordering, *values = orjson.loads(base64.urlsafe_b64decode(cursors["PRICE_ASC"]))
    assert ordering == "PRICE_ASC" and len(values) == 2
    # a relevance rank orders one search only
    earl = await page(stack, first=1, filter={"search": "earl"})
    cursor = earl["pageInfo"]["endCursor"]
    again = await stack.gql(
        "products", PAGE, {"first": 1, "after": cursor, "filter": {"search": "EARL"}}
    )
    assert names_of(again["data"]["products"]) == ["Tea Tasting Flight"]
    other = await stack.gql(
        "products", PAGE, {"first": 1, "after": cursor, "filter": {"search": "grey"}}
    )
    assert _error(other) == refused


async def test_category_products_page_both_ways(stack: Stack, demo: None) -> None:
    query = """
    query ($first: Int, $after: String, $last: Int, $before: String) {
      category(slug: "coffee") {
        products(first: $first, after: $after, last: $last, before: $before, sort: PRICE_ASC) {
          nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        }
      }
    }
    """
    coffee = sorted((p for p in demo_products() if p.category == "Coffee"), key=lambda p: p.price)
    expected = [p.name for p in coffee]

    async def products(**variables: Any) -> dict[str, Any]:
        body = await stack.data("products", query, variables)
        return dict(body["category"]["products"])

    head = await products(first=4)
    assert [n["name"] for n in head["nodes"]] == expected[:4]
    tail = await products(last=5, before=None)
    assert [n["name"] for n in tail["nodes"]] == expected[4:]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    back = await products(last=4, before=tail["pageInfo"]["startCursor"])
    assert [n["name"] for n in back["nodes"]] == expected[:4]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (False, True)


ORDERS = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  orders(first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount
  }
}
"""
USER_ORDERS = """
query ($r: [_Any!]!, $last: Int, $before: String) {
  _entities(representations: $r) {
    ... on User {
      orders(last: $last, before: $before) {
        nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor }
      }
    }
  }
}
"""


async def test_orders_page_backward(stack: Stack) -> None:
    user_ids, orders = await create_user_orders(stack, 8)
    everyone = sorted(orders, key=lambda o: (o.created_at, o.id), reverse=True)
    admin = admin_token()
    oldest = (await stack.data("orders", ORDERS, {"last": 3}, admin))["orders"]
    assert [n["id"] for n in oldest["nodes"]] == [o.id for o in everyone[-3:]]
    assert (oldest["pageInfo"]["hasPreviousPage"], oldest["pageInfo"]["hasNextPage"]) == (
        True,
        False,
    )
    before = oldest["pageInfo"]["startCursor"]
    older = (await stack.data("orders", ORDERS, {"last": 3, "before": before}, admin))["orders"]
    assert [n["id"] for n in older["nodes"]] == [o.id for o in everyone[-6:-3]]
    newest = (await stack.data("orders", ORDERS, {"last": 100}, admin))["orders"]
    assert [n["id"] for n in newest["nodes"]] == [o.id for o in everyone]
    assert (newest["pageInfo"]["hasPreviousPage"], newest["pageInfo"]["hasNextPage"]) == (
        False,
        False,
    )

    me = user_ids[3]  # three orders
    mine = [o.id for o in newest_first(orders, me)]
    own = (await stack.data("orders", ORDERS, {"last": 2}, customer_token(me)))["orders"]
    assert [n["id"] for n in own["nodes"]] == mine[1:]
    reps = [{"__typename": "User", "id": u} for u in (me, user_ids[2])]
    body = await stack.data("orders", USER_ORDERS, {"r": reps, "last": 2}, admin)
    first, second = body["_entities"]
    assert [n["id"] for n in first["orders"]["nodes"]] == mine[1:]
    assert first["orders"]["pageInfo"]["hasPreviousPage"] is True
    assert [n["id"] for n in second["orders"]["nodes"]] == [
        o.id for o in newest_first(orders, user_ids[2])
    ]
    assert second["orders"]["pageInfo"]["hasPreviousPage"] is False
    before = first["orders"]["pageInfo"]["startCursor"]
    body = await stack.data(
        "orders", USER_ORDERS, {"r": reps[:1], "last": 2, "before": before}, admin
    )
    assert body["_entities"][0]["orders"] == {
        "nodes": [{"id": mine[0]}],
        "pageInfo": {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": body["_entities"][0]["orders"]["pageInfo"]["startCursor"],
        },
    }
