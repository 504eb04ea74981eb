"""createProduct/updateProduct under hostile input: slugs that outgrow their names,
image addresses a browser would send to another site, a price of "-0", and
concurrent creates racing for one slug."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from subgraph_stack import CREATE_PRODUCT, Stack, admin_token, make_category, make_product

from subgraphs.products.models import SLUG_LENGTH

UPDATE = """
mutation Update($input: UpdateProductInput!) {
  updateProduct(input: $input) {
    product { imageUrl price { amount } } userErrors { code field message }
  }
}
"""
BAD_IMAGE_URL = {
    "code": "INVALID_INPUT",
    "field": ["input", "imageUrl"],
    "message": "imageUrl must be an http(s) URL or a path starting with a single /,"
    " without spaces, backslashes or control characters",
}
BAD_PRICE = {
    "code": "INVALID_PRICE",
    "field": ["input", "price", "amount"],
    "message": "price.amount must be between 0 and 9999999999.99 with at most 2 decimals",
}


async def _create(stack: Stack, sku: str, name: str, **extra: Any) -> dict[str, Any]:
    category = await make_category(stack, "Testing")
    fields = {"sku": sku, "name": name, "categorySlug": category}
    fields.setdefault("price", {"amount": "1.00", "currencyCode": "USD"})
    variables = {"input": {**fields, **extra}}
    body = await stack.data("products", CREATE_PRODUCT, variables, admin_token())
    payload: dict[str, Any] = body["createProduct"]
    return payload


@pytest.mark.parametrize(("char", "folded"), [("\u3389", "kcal"), ("\ufb03", "ffi")])
async def test_a_name_whose_slug_outgrows_the_column_is_cut_to_fit(
    stack: Stack, char: str, folded: str
) -> None:
    # 200 characters, within the name's bound, but NFKD folds each into several letters
    first = await _create(stack, "LONG-1", char * 200)
    assert first["userErrors"] == []
    assert first["product"]["slug"] == (folded * 200)[:SLUG_LENGTH]
    # the second takes the name's slug with the SKU's: the name part makes room for it
    second = await _create(stack, "LONG-2", char * 200)
    assert second["userErrors"] == []
    name_part = (folded * 200)[: SLUG_LENGTH - len("-long-2")]
    assert second["product"]["slug"] == f"{name_part}-long-2"
    assert len(second["product"]["slug"]) == SLUG_LENGTH


async def test_a_cut_slug_never_ends_with_a_dash(stack: Stack) -> None:
    # "㎉ " folds to "kcal-": the cuts at 280 and at 280 - len("-cut1") land after a dash
    name = "\u3389 " * 100
    first = await _create(stack, "CUT0", name)
    assert first["product"]["slug"] == "-".join(["kcal"] * 56)
    second = await _create(stack, "CUT1", name)
    assert second["product"]["slug"] == "-".join(["kcal"] * 55 + ["cut1"])


async def test_a_sku_whose_slug_outgrows_the_sku_is_cut_too(stack: Stack) -> None:
    await _create(stack, "FIRST", "Mug")
    created = await _create(stack, "\u3389" * 64, "Mug")
    assert created["userErrors"] == []
    assert created["product"]["slug"] == "mug-" + ("kcal" * 64)[:64]


@pytest.mark.parametrize(
    "url",
    [
        "/\\evil.example/x.png",
        "/\t/evil.example/x.png",
        "/\n/evil.example/x.png",
        "\\\\evil.example/x.png",
        " //evil.example/x.png",
        "//evil.example/x.png",
        "https://shop.example/a b.png",
        "https://shop.example/a\x7f.png",
        "https:\\\\evil.example/x.png",
        "javascript:alert(1)",
        "http://",  # a URL without a host is not an image anywhere
        "https:///x.png",
        "http://[x/a.png",
    ],
)
async def test_image_urls_a_browser_sends_elsewhere_are_refused(stack: Stack, url: str) -> None:
    created = await _create(stack, "IMG-1", "Mug", imageUrl=url)
    assert created == {"product": None, "userErrors": [BAD_IMAGE_URL]}
    product = await make_product(stack, sku="IMG-2", name="Plate")
    variables = {"input": {"id": product["id"], "imageUrl": url}}
    updated = await stack.data("products", UPDATE, variables, admin_token())
    assert updated["updateProduct"] == {"product": None, "userErrors": [BAD_IMAGE_URL]}
    assert await stack.sql("products", "SELECT image_url FROM products") == [(None,)]


@pytest.mark.parametrize(
    "url", ["HTTPS://shop.example/a.png", "Http://shop.example/a.png", "/images/a.png"]
)
async def test_image_urls_with_any_scheme_case_are_accepted(stack: Stack, url: str) -> None:
    created = await _create(stack, "IMG-OK", "Mug", imageUrl=url)
    assert created["userErrors"] == []
    assert await stack.sql("products", "SELECT image_url FROM products") == [(url,)]


@pytest.mark.parametrize("amount", ["-0", "-0.00", "-0.01"])
async def test_a_negative_zero_price_is_refused(stack: Stack, amount: str) -> None:
    price = {"amount": amount, "currencyCode": "USD"}
    created = await _create(stack, "NEG-0", "Mug", price=price)
    assert created == {"product": None, "userErrors": [BAD_PRICE]}
    product = await make_product(stack, sku="NEG-1", name="Plate", price="3.00")
    variables = {"input": {"id": product["id"], "price": price}}
    updated = await stack.data("products", UPDATE, variables, admin_token())
    assert updated["updateProduct"] == {"product": None, "userErrors": [BAD_PRICE]}
    rows = await stack.sql("products", "SELECT sku, price_amount::text AS p FROM products")
    assert [(r.sku, r.p) for r in rows] == [("NEG-1", "3.00")]


async def test_concurrent_creates_racing_for_one_slug_all_succeed(stack: Stack) -> None:
    await make_category(stack, "Testing")
    for trial in range(3):
        skus = [f"RACE-{trial}-{i}" for i in range(5)]
        results = await asyncio.gather(*(_create(stack, sku, f"Race {trial}") for sku in skus))
        assert [r["userErrors"] for r in results] == [[]] * 5
        slugs = {r["product"]["sku"]: r["product"]["slug"] for r in results}
        won = f"race-{trial}"
        assert list(slugs.values()).count(won) == 1, slugs
        assert all(slug in (won, f"{won}-{sku.lower()}") for sku, slug in slugs.items()), slugs
    assert (await stack.sql("products", "SELECT count(*) FROM products")) == [(15,)]


async def test_a_taken_sku_is_still_sku_taken_when_the_slug_clashes_too(stack: Stack) -> None:
    await _create(stack, "SAME", "Mug")
    again = await _create(stack, "SAME", "Mug")
    assert again == {
        "product": None,
        "userErrors": [
            {"code": "SKU_TAKEN", "field": ["input", "sku"], "message": "SKU SAME is taken"}
        ],
    }
