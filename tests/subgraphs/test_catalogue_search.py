"""products: full-text search, filters, sorts and categories over the demo catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from subgraph_stack import (
    Stack,
    admin_token,
    customer_token,
    products_without_inventory,
    service_token,
)
from test_entity_batching import count_statements

from subgraphs.seed import demo_products, seed_inventory, seed_products

SEARCH = """
query ($filter: ProductFilter, $sort: ProductSort, $first: Int) {
  products(first: $first, filter: $filter, sort: $sort) { totalCount nodes { name } }
}
"""
DEMO = demo_products()
OUT_OF_STOCK = ["Hazelnut Praline Bites", "Jasmine Pearls 50g", "Kenya AA Beans 250g"]


@pytest.fixture
async def demo(stack: Stack) -> None:
    """The demo catalogue and its stock (no accounts or orders: they are not needed)."""
    await seed_products(stack.dbs["products"])
    await seed_inventory(stack.dbs["inventory"])


async def names(stack: Stack, filter: dict[str, Any], sort: str | None = None) -> list[str]:
    variables = {"filter": filter, "sort": sort, "first": 100}
    products = (await stack.data("products", SEARCH, variables))["products"]
    assert products["totalCount"] == len(products["nodes"])
    return [node["name"] for node in products["nodes"]]


async def test_search_ranks_name_matches_first_and_matches_word_prefixes(
    stack: Stack, demo: None
) -> None:
    # "Earl Grey" in the name ranks above "Earl Grey" in a description; "Pearls" is no match
    assert await names(stack, {"search": "earl"}) == [
        "Earl Grey Supreme 100g",
        "Tea Tasting Flight",
    ]
    assert await names(stack, {"search": "EARL gr"}) == [
        "Earl Grey Supreme 100g",
        "Tea Tasting Flight",
    ]
    # every word must match
    assert await names(stack, {"search": "earl bergamot"}) == ["Earl Grey Supreme 100g"]
    # a word matches stemmed too: "pearl" finds "Pearls", "brews" finds "brewing"
    assert await names(stack, {"search": "pearl"}) == ["Jasmine Pearls 50g"]
    # names first, then descriptions ("brews", "brewing", "brew at"); equal ranks by name
    assert await names(stack, {"search": "brews"}) == [
        "Cold Brew Concentrate 1L",
        "Digital Brew Scale",
        "AeroPress Go",
        "Barista Starter Kit",
        "Sencha Green 100g",
        "Gooseneck Kettle 1L",
    ]


async def test_search_ignores_case_and_accents(stack: Stack, demo: None) -> None:
    for text in ("cafe", "CAFÉ", "Café", "cAfE"):  # a name match, then a description match
        assert await names(stack, {"search": text}) == [
            "Café Crème House Blend 500g",
            "Latte Bowl 450ml",
        ]
    assert await names(stack, {"search": "creme"}) == ["Café Crème House Blend 500g"]
    assert await names(stack, {"search": "café au lait"}) == ["Latte Bowl 450ml"]


async def test_search_with_another_sort_and_without_words(stack: Stack, demo: None) -> None:
    assert await names(stack, {"search": "gift card"}, "PRICE_DESC") == [
        "Gift Card $50",
        "Gift Card $25",
    ]
    # punctuation only: nothing to search for, so nothing is filtered out
    everything = await names(stack, {"search": "%!&"})
    assert sorted(everything) == sorted(p.name for p in DEMO)
    assert await names(stack, {"search": "no such thing"}) == []


async def test_relevance_needs_a_search(stack: Stack) -> None:
    body = await stack.gql("products", SEARCH, {"sort": "RELEVANCE"})
    assert body["data"] == {"products": None}
    assert body["errors"][0]["message"] == "`sort: RELEVANCE` needs `filter.search`"
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["sort"]}


def _by(key: Any, reverse: bool = False) -> list[str]:
    return [p.name for p in sorted(DEMO, key=key, reverse=reverse)]


async def test_each_sort_orders_the_whole_catalogue(stack: Stack, demo: None) -> None:
    ids = {p.name: p.id for p in DEMO}
    assert await names(stack, {}) == _by(lambda p: p.name.encode())
    assert await names(stack, {}, "NAME_ASC") == _by(lambda p: p.name.encode())
    assert await names(stack, {}, "NAME_DESC") == _by(lambda p: p.name.encode(), reverse=True)
    assert await names(stack, {}, "PRICE_ASC") == _by(lambda p: (p.price, p.id))
    # PRICE_DESC breaks ties by id ascending, like every other sort
    price_desc = await names(stack, {}, "PRICE_DESC")
    assert price_desc == [p.name for p in sorted(DEMO, key=lambda p: (-p.price, p.id))]
    # the seed creates the catalogue's products an hour apart, in catalogue order
    assert await names(stack, {}, "NEWEST") == [p.name for p in DEMO]
    assert len(ids) == len(DEMO) == 54


async def test_filters_by_category_price_and_stock(stack: Stack, demo: None) -> None:
    tea = [p for p in DEMO if p.category == "Tea"]
    assert await names(stack, {"categorySlug": "TEA"}) == sorted(p.name for p in tea)
    assert await names(stack, {"categorySlug": "mugs-cups", "maxPrice": "17.00"}) == [
        "Cortado Glass 135ml (2)",
        "Enamel Camp Mug",
        "Stoneware Mug 350ml",
    ]
    bounded = await names(stack, {"minPrice": "50", "maxPrice": "99.00"})
    assert bounded == sorted(p.name for p in DEMO if Decimal(50) <= p.price <= Decimal(99))
    assert await names(stack, {"inStock": False}) == OUT_OF_STOCK
    in_stock = await names(stack, {"inStock": True})
    assert in_stock == sorted(p.name for p in DEMO if p.name not in OUT_OF_STOCK)
    assert await names(stack, {"inStock": True, "search": "jasmine"}) == [
        "Ethiopia Yirgacheffe Beans 250g"  # jasmine notes; the Jasmine Pearls are sold out
    ]
    assert await names(stack, {"categorySlug": "nothing-here"}) == []


async def test_in_stock_filter_without_inventory_is_service_unavailable(
    stack: Stack, demo: None
) -> None:
    url = await products_without_inventory(stack)
    body = await stack.post(url, SEARCH, {"filter": {"inStock": True}})
    assert body["data"] == {"products": None}  # nullable: the query's other fields answer
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["products"], {"code": "SERVICE_UNAVAILABLE"})
    ]
    assert "retry, or leave the filter out" in body["errors"][0]["message"]
    # the same list without the filter still answers
    unfiltered = await stack.post(url, SEARCH, {"filter": {"categorySlug": "tea"}})
    assert unfiltered["data"]["products"]["totalCount"] == 9


CATEGORIES = """
{ categories { slug name productCount products(first: 2, sort: PRICE_ASC) { nodes { name } } } }
"""


async def test_categories_count_and_list_their_products_in_one_statement_each(
    stack: Stack, demo: None
) -> None:
    body, statements = await count_statements(
        stack, "products", lambda: stack.data("products", "{ categories { slug productCount } }")
    )
    assert body["categories"] == [
        {"slug": slug, "productCount": 9}
        for slug in ("brewing", "coffee", "gifts", "mugs-cups", "snacks", "tea")
    ]
    assert len(statements) == 2  # the categories, one grouped count
    listed, statements = await count_statements(
        stack, "products", lambda: stack.data("products", CATEGORIES)
    )
    # the categories, one grouped count, every category's first page in one statement
    assert len(statements) == 3
    listed = listed["categories"]
    assert [[n["name"] for n in c["products"]["nodes"]] for c in listed] == [
        [p.name for p in sorted(DEMO, key=lambda p: (p.price, p.id)) if p.category == name][:2]
        for name in ("Brewing", "Coffee", "Gifts", "Mugs & Cups", "Snacks", "Tea")
    ]
    tea = next(c for c in listed if c["slug"] == "tea")
    assert tea == {
        "slug": "tea",
        "name": "Tea",
        "productCount": 9,
        "products": {
            "nodes": [{"name": "Chamomile Blossoms 50g"}, {"name": "Rooibos Vanilla 100g"}]
        },
    }


async def test_in_stock_is_asked_once_per_request(stack: Stack, demo: None) -> None:
    query = "{ categories { slug products(filter: {inStock: false}) { nodes { name } } } }"
    body, statements = await count_statements(
        stack, "inventory", lambda: stack.data("products", query)
    )
    sold_out = {c["slug"]: [n["name"] for n in c["products"]["nodes"]] for c in body["categories"]}
    assert sold_out == {
        "brewing": [],
        "coffee": ["Kenya AA Beans 250g"],
        "gifts": [],
        "mugs-cups": [],
        "snacks": ["Hazelnut Praline Bites"],
        "tea": ["Jasmine Pearls 50g"],
    }
    assert len(statements) == 1  # six lists, one question to inventory


async def test_category_and_product_lookups_by_slug(stack: Stack, demo: None) -> None:
    query = """
    query ($c: String!, $p: String) {
      category(slug: $c) { slug name products(filter: {search: "cup"}) { nodes { slug } } }
      product(slug: $p) { name imageUrl category { slug name productCount } }
    }
    """
    body = await stack.data("products", query, {"c": "Mugs-Cups", "p": "EARL-grey-supreme-100g"})
    assert body["category"] == {
        "slug": "mugs-cups",
        "name": "Mugs & Cups",
        "products": {
            "nodes": [
                {"slug": "espresso-cups-4"},  # "Cups" in the name
                {"slug": "porcelain-teacup-saucer"},  # "cup and saucer"; "teacup" is no match
            ]
        },
    }
    assert body["product"] == {
        "name": "Earl Grey Supreme 100g",
        "imageUrl": "/images/products/earl-grey-supreme-100g.jpg",
        "category": {"slug": "tea", "name": "Tea", "productCount": 9},
    }
    missing = await stack.data("products", query, {"c": "nope", "p": "nope"})
    assert missing == {"category": None, "product": None}
    # longer than any slug can be: refused before any SQL
    too_long = await stack.gql("products", query, {"c": "c" * 101, "p": "p"})
    assert too_long["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["slug"]}
    too_long = await stack.gql("products", query, {"c": "tea", "p": "p" * 281})
    assert too_long["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["slug"]}
    entities = await stack.data(
        "products",
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Category { name } } }",
        {
            "r": [
                {"__typename": "Category", "slug": "gifts"},
                {"__typename": "Category", "slug": "x"},
            ]
        },
    )
    assert entities == {"_entities": [{"name": "Gifts"}, None]}


CREATE_CATEGORY = """
mutation ($input: CreateCategoryInput!) {
  createCategory(input: $input) {
    category { slug name productCount }
    userErrors { code field message }
  }
}
"""
CREATE_PRODUCT = """
mutation ($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { slug category { slug } }
    userErrors { code field message }
  }
}
"""


async def test_admins_create_categories_and_products_in_them(stack: Stack) -> None:
    made = await stack.data(
        "products", CREATE_CATEGORY, {"input": {"name": "Thés & Tisanes"}}, admin_token()
    )
    assert made["createCategory"] == {
        "category": {"slug": "thes-tisanes", "name": "Thés & Tisanes", "productCount": 0},
        "userErrors": [],
    }
    again = await stack.data(
        "products",
        CREATE_CATEGORY,
        {"input": {"name": "Other", "slug": "thes-tisanes"}},
        admin_token(),
    )
    assert again["createCategory"]["userErrors"] == [
        {
            "code": "SLUG_TAKEN",
            "field": ["input", "slug"],
            "message": "A category with slug thes-tisanes exists",
        }
    ]
    bad = await stack.data(
        "products", CREATE_CATEGORY, {"input": {"name": "X", "slug": "Not A Slug"}}, admin_token()
    )
    assert [(e["code"], e["field"]) for e in bad["createCategory"]["userErrors"]] == [
        ("INVALID_INPUT", ["input", "slug"])
    ]
    refused = await stack.gql(
        "products", CREATE_CATEGORY, {"input": {"name": "Y"}}, customer_token()
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    product = {"sku": "T-1", "name": "Tilleul", "price": {"amount": "3.00", "currencyCode": "EUR"}}
    unknown = await stack.data(
        "products", CREATE_PRODUCT, {"input": {**product, "categorySlug": "herbs"}}, admin_token()
    )
    assert unknown["createProduct"] == {
        "product": None,
        "userErrors": [
            {
                "code": "CATEGORY_NOT_FOUND",
                "field": ["input", "categorySlug"],
                "message": "No category with slug herbs",
            }
        ],
    }
    first = await stack.data(
        "products",
        CREATE_PRODUCT,
        {"input": {**product, "categorySlug": "Thes-Tisanes"}},
        admin_token(),
    )
    assert first["createProduct"]["product"] == {
        "slug": "tilleul",
        "category": {"slug": "thes-tisanes"},
    }
    # the same name again: the SKU makes the slug unique
    second = await stack.data(
        "products",
        CREATE_PRODUCT,
        {"input": {**product, "sku": "T-2", "categorySlug": "thes-tisanes"}},
        admin_token(),
    )
    assert second["createProduct"]["product"]["slug"] == "tilleul-t-2"


async def test_in_stock_ids_are_internal(stack: Stack, demo: None) -> None:
    query = "{ inStockProductIds }"
    for token in (None, customer_token(), admin_token()):
        body = await stack.gql("inventory", query, token=token)
        assert body["data"] is None
        code = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
        assert body["errors"][0]["extensions"]["code"] == code
    ids = (await stack.data("inventory", query, token=service_token()))["inStockProductIds"]
    assert sorted(ids) == sorted(str(p.id) for p in DEMO if p.stock > 0)
