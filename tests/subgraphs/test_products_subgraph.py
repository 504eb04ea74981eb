"""products: catalogue queries, Relay pagination, admin-only writes."""

from __future__ import annotations

import uuid

from subgraph_stack import CREATE_PRODUCT, Stack, admin_token, customer_token, make_product

PRODUCT = """
query Product($id: ID, $sku: String) {
  product(id: $id, sku: $sku) {
    id sku slug name description category { slug name } price { amount currencyCode }
  }
}
"""
PRODUCTS = """
query Products($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    edges { cursor node { sku price { amount } } }
    nodes { sku }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""
UPDATE = """
mutation Update($input: UpdateProductInput!) {
  updateProduct(input: $input) {
    product { id slug name category { slug } imageUrl price { amount currencyCode } }
    userErrors { code field message }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteProductInput!) {
  deleteProduct(input: $input) { deletedProductId userErrors { code field message } }
}
"""


def _input(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sku": "MUG-1",
        "name": "Mug",
        "categorySlug": "kitchen",
        "price": {"amount": "12.50", "currencyCode": "USD"},
    }
    return {"input": {**base, **overrides}}


async def test_admin_creates_and_anyone_reads_a_product(stack: Stack) -> None:
    created = await make_product(stack, sku="MUG-1", name="Mug", price="12.5", category="Kitchen")
    assert created["price"] == {"amount": "12.50", "currencyCode": "USD"}
    by_id = await stack.data("products", PRODUCT, {"id": created["id"]})
    by_sku = await stack.data("products", PRODUCT, {"sku": "MUG-1"})
    expected = {
        "id": created["id"],
        "sku": "MUG-1",
        "slug": "mug",
        "name": "Mug",
        "description": "",
        "category": {"slug": "kitchen", "name": "Kitchen"},
        "price": {"amount": "12.50", "currencyCode": "USD"},
    }
    assert by_id["product"] == expected
    assert by_sku["product"] == expected
    unknown = await stack.data("products", PRODUCT, {"id": str(uuid.uuid4())})
    assert unknown["product"] is None


async def test_product_lookup_needs_exactly_one_key(stack: Stack) -> None:
    for variables in ({}, {"id": str(uuid.uuid4()), "sku": "X"}):
        body = await stack.gql("products", PRODUCT, variables)
        assert body["data"] == {"product": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["message"] == "Pass exactly one of `id`, `sku` or `slug`"


async def test_writes_need_an_admin(stack: Stack) -> None:
    anonymous = await stack.gql("products", CREATE_PRODUCT, _input())
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer = await stack.gql("products", CREATE_PRODUCT, _input(), customer_token())
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert customer["data"] is None  # createProduct is non-null, so the error nulls data
    assert await stack.sql("products", "SELECT id FROM products") == []


async def test_create_rejects_bad_input_and_duplicate_skus(stack: Stack) -> None:
    await make_product(stack, sku="DUP-1")
    duplicate = await stack.data(
        "products", CREATE_PRODUCT, _input(sku="DUP-1", categorySlug="testing"), admin_token()
    )
    assert duplicate["createProduct"]["userErrors"] == [
        {"code": "SKU_TAKEN", "field": ["input", "sku"], "message": "SKU DUP-1 is taken"}
    ]
    for amount in ("-1.00", "1.001", "NaN"):
        bad = await stack.data(
            "products",
            CREATE_PRODUCT,
            _input(
                sku="NEW-1", categorySlug="testing", price={"amount": amount, "currencyCode": "USD"}
            ),
            admin_token(),
        )
        assert [e["code"] for e in bad["createProduct"]["userErrors"]] == ["INVALID_PRICE"], amount
    empty = await stack.data(
        "products", CREATE_PRODUCT, _input(sku=" ", name="", categorySlug="testing"), admin_token()
    )
    assert [e["field"] for e in empty["createProduct"]["userErrors"]] == [
        ["input", "sku"],
        ["input", "name"],
    ]
    rows = await stack.sql("products", "SELECT sku FROM products")
    assert [r.sku for r in rows] == ["DUP-1"]


async def test_non_numeric_price_is_bad_user_input(stack: Stack) -> None:
    body = await stack.gql(
        "products",
        CREATE_PRODUCT,
        _input(price={"amount": "twelve", "currencyCode": "USD"}),
        admin_token(),
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in body


async def test_pagination_walks_every_product_once_in_order(stack: Stack) -> None:
    prices = ["5.00", "1.00", "3.00", "2.00", "4.00", "3.00", "6.00"]
    for index, price in enumerate(prices):
        await make_product(stack, sku=f"P-{index}", name=f"Product {index}", price=price)
    seen: list[tuple[str, str]] = []
    after = None
    pages = 0
    while True:
        page = (
            await stack.data(
                "products", PRODUCTS, {"first": 3, "after": after, "sort": "PRICE_DESC"}
            )
        )["products"]
        pages += 1
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert [e["node"]["sku"] for e in page["edges"]] == [n["sku"] for n in page["nodes"]]
        seen += [(e["node"]["price"]["amount"], e["node"]["sku"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert pages == 3
    assert [p for p, _ in seen] == sorted(prices, reverse=True)
    assert sorted(s for _, s in seen) == [f"P-{i}" for i in range(7)]


async def test_cursor_survives_inserts_before_it(stack: Stack) -> None:
    for name in ("b", "d", "f"):
        await make_product(stack, sku=name, name=name)
    first = (await stack.data("products", PRODUCTS, {"first": 2}))["products"]
    assert [n["sku"] for n in first["nodes"]] == ["b", "d"]
    await make_product(stack, sku="a", name="a")  # sorts before the cursor
    rest = (
        await stack.data(
            "products", PRODUCTS, {"first": 2, "after": first["pageInfo"]["endCursor"]}
        )
    )["products"]
    assert [n["sku"] for n in rest["nodes"]] == ["f"]


async def test_filters_combine(stack: Stack) -> None:
    await make_product(stack, sku="T1", name="Green tea", category="Tea", price="4.00")
    await make_product(stack, sku="T2", name="Black tea", category="Tea", price="9.00")
    await make_product(stack, sku="C1", name="Tea cup", category="Cups", price="5.00")
    await make_product(stack, sku="T3", name="100% Oolong", category="Tea", price="7.00")
    tea_under_8 = {"categorySlug": "TEA", "search": "TEA", "maxPrice": "8.00"}
    body = await stack.data("products", PRODUCTS, {"filter": tea_under_8, "sort": "PRICE_ASC"})
    assert [n["sku"] for n in body["products"]["nodes"]] == ["T1"]
    assert body["products"]["totalCount"] == 1
    percent = await stack.data("products", PRODUCTS, {"filter": {"search": "100%"}})
    assert [n["sku"] for n in percent["products"]["nodes"]] == ["T3"]
    categories = await stack.data("products", "{ categories { slug name productCount } }")
    assert categories["categories"] == [
        {"slug": "cups", "name": "Cups", "productCount": 1},
        {"slug": "tea", "name": "Tea", "productCount": 3},
    ]


async def test_page_size_is_capped_and_cursors_checked(stack: Stack) -> None:
    too_many = await stack.gql("products", PRODUCTS, {"first": 101})
    assert too_many["errors"][0]["message"] == "`first` must be at most 100 (got 101)"
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    negative = await stack.gql("products", PRODUCTS, {"first": -1})
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    garbage = await stack.gql("products", PRODUCTS, {"after": "definitely-not-a-cursor"})
    assert garbage["errors"][0]["message"] == "Invalid cursor for this list (`after`)"
    assert garbage["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    full = await stack.data("products", PRODUCTS, {"first": 100})
    assert full["products"]["pageInfo"]["hasNextPage"] is False


async def test_update_and_delete(stack: Stack) -> None:
    created = await make_product(stack, sku="U1", name="Old", category="A", price="1.00")
    await make_product(stack, sku="U2", name="New", category="B")  # takes the slug "new"
    updated = await stack.data(
        "products",
        UPDATE,
        {
            "input": {
                "id": created["id"],
                "name": "New",
                "categorySlug": "B",
                "imageUrl": "/images/new.jpg",
                "price": {"amount": "2.25", "currencyCode": "EUR"},
            }
        },
        admin_token(),
    )
    assert updated["updateProduct"] == {
        "product": {
            "id": created["id"],
            "slug": "old",  # kept: links to the product keep working
            "name": "New",
            "category": {"slug": "b"},
            "imageUrl": "/images/new.jpg",
            "price": {"amount": "2.25", "currencyCode": "EUR"},
        },
        "userErrors": [],
    }
    for url in ("javascript:alert(1)", "data:image/png;base64,AA", "//evil.example/x.jpg"):
        refused = await stack.data(
            "products", UPDATE, {"input": {"id": created["id"], "imageUrl": url}}, admin_token()
        )
        assert refused["updateProduct"] == {
            "product": None,
            "userErrors": [
                {
                    "code": "INVALID_INPUT",
                    "field": ["input", "imageUrl"],
                    "message": "imageUrl must be an http(s) URL or a path starting with a"
                    " single /, without spaces, backslashes or control characters",
                }
            ],
        }
    missing_id = str(uuid.uuid4())
    missing = await stack.data(
        "products", UPDATE, {"input": {"id": missing_id, "name": "X"}}, admin_token()
    )
    assert missing["updateProduct"]["userErrors"] == [
        {
            "code": "PRODUCT_NOT_FOUND",
            "field": ["input", "id"],
            "message": f"No product with id {missing_id}",
        }
    ]
    forbidden = await stack.gql(
        "products", DELETE, {"input": {"id": created["id"]}}, customer_token()
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    deleted = await stack.data("products", DELETE, {"input": {"id": created["id"]}}, admin_token())
    assert deleted["deleteProduct"] == {"deletedProductId": created["id"], "userErrors": []}
    again = await stack.data("products", DELETE, {"input": {"id": created["id"]}}, admin_token())
    assert again["deleteProduct"]["userErrors"][0]["code"] == "PRODUCT_NOT_FOUND"
    assert [r.sku for r in await stack.sql("products", "SELECT sku FROM products")] == ["U2"]


async def test_entities_resolve_by_id_and_by_sku(stack: Stack) -> None:
    first = await make_product(stack, sku="E1", name="One")
    second = await make_product(stack, sku="E2", name="Two")
    query = """
    query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id sku name } } }
    """
    reps = [
        {"__typename": "Product", "sku": "E2"},
        {"__typename": "Product", "id": first["id"]},
        {"__typename": "Product", "id": str(uuid.uuid4())},
        {"__typename": "Product", "id": "not-a-uuid"},
    ]
    body = await stack.gql("products", query, {"reps": reps})
    assert body["data"]["_entities"] == [
        {"id": second["id"], "sku": "E2", "name": "Two"},
        {"id": first["id"], "sku": "E1", "name": "One"},
        None,
        None,
    ]
    # an unknown id is null; a malformed one is the caller's mistake
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["_entities", 3], {"code": "BAD_USER_INPUT", "field": ["representations", "3", "id"]})
    ]
