"""The catalogue through the router: the admin mutations are refused by scope, a product
list whose `inStock` filter cannot be applied is null while the rest of the query answers,
and a guest's refused stock counts leave the products standing."""

from __future__ import annotations

from router_helpers import ADMIN, CUSTOMER, authorization_directives, error_list, through_router
from subgraph_stack import (
    Stack,
    admin_token,
    customer_token,
    make_product,
    products_without_inventory,
)

from subgraphs.sdl import service_sdl

UNAUTHORIZED = ("Unauthorized field or type", "UNAUTHORIZED_FIELD_OR_TYPE")
ADMIN_WRITES = """
mutation ($id: ID!) {
  createCategory(input: {name: "Mugs"}) { category { slug } }
  createProduct(input: {sku: "MUG-1", name: "Mug", categorySlug: "mugs",
                        price: {amount: "9.00", currencyCode: USD}}) { product { sku } }
  updateProduct(input: {id: $id, name: "Renamed"}) { product { name } }
  deleteProduct(input: {id: $id}) { deletedProductId }
}
"""
NO_STOCK_LEVELS = (
    "Stock levels are unavailable right now, so `inStock` cannot be applied; "
    "retry, or leave the filter out"
)


def test_the_catalogues_admin_mutations_declare_the_admin_scope() -> None:
    scoped = '@requiresScopes(scopes: [["admin"]])'
    assert authorization_directives(service_sdl("products")) == {
        f"Mutation.{name}": scoped
        for name in ("createProduct", "updateProduct", "deleteProduct", "createCategory")
    }


async def test_a_customer_is_refused_the_admin_mutations_by_the_router(stack: Stack) -> None:
    tea = await make_product(stack, name="Assam", category="Tea")
    variables = {"id": tea["id"]}
    body = await through_router(stack, ADMIN_WRITES, variables, customer_token(), CUSTOMER)
    assert body["data"] is None
    fields = ["createCategory", "createProduct", "updateProduct", "deleteProduct"]
    assert error_list(body) == [([field], *UNAUTHORIZED) for field in fields]
    assert [tuple(r) for r in await stack.sql("products", "SELECT name FROM products")] == [
        ("Assam",)
    ]
    assert await stack.sql("products", "SELECT slug FROM categories WHERE slug = 'mugs'") == []

    done = await through_router(stack, ADMIN_WRITES, variables, admin_token(), ADMIN)
    assert done == {
        "data": {
            "createCategory": {"category": {"slug": "mugs"}},
            "createProduct": {"product": {"sku": "MUG-1"}},
            "updateProduct": {"product": {"name": "Renamed"}},
            "deleteProduct": {"deletedProductId": tea["id"]},
        }
    }


async def test_a_list_without_stock_levels_is_null_and_the_rest_answers(stack: Stack) -> None:
    for name in ("Assam", "Sencha"):
        await make_product(stack, name=name, category="Tea", stock=2)
    products_url = await products_without_inventory(stack)
    query = """{
      products(filter: {inStock: true}) { totalCount }
      everything: products { totalCount }
      categories { slug productCount products(filter: {inStock: true}) { totalCount } }
      me { id }
    }"""
    body = await through_router(stack, query, urls={"products": products_url})
    assert body["data"] == {
        "products": None,
        "everything": {"totalCount": 2},
        "categories": [{"slug": "tea", "productCount": 2, "products": None}],
        "me": None,
    }
    assert sorted(error_list(body), key=lambda error: len(error[0])) == [
        (["products"], NO_STOCK_LEVELS, "SERVICE_UNAVAILABLE"),
        (["categories", 0, "products"], NO_STOCK_LEVELS, "SERVICE_UNAVAILABLE"),
    ]


async def test_a_guests_stock_counts_are_refused_and_the_products_stay(stack: Stack) -> None:
    for name in ("Assam", "Sencha"):
        await make_product(stack, name=name, stock=3)
    only_counts = "{ products(first: 2) { nodes { name stock { onHand } } } }"
    body = await through_router(stack, only_counts)
    assert body == {
        "data": {
            "products": {
                "nodes": [{"name": "Assam", "stock": None}, {"name": "Sencha", "stock": None}]
            }
        },
        "errors": [
            {
                "message": "Unauthorized field or type",
                "path": ["products", "nodes", "@", "stock", "onHand"],
                "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
            }
        ],
    }
    with_available = "{ products(first: 2) { nodes { name stock { available onHand } } } }"
    mixed = await through_router(stack, with_available)
    assert [node["stock"] for node in mixed["data"]["products"]["nodes"]] == [
        {"available": 3, "onHand": None},
        {"available": 3, "onHand": None},
    ]
    assert error_list(mixed) == [(["products", "nodes", "@", "stock", "onHand"], *UNAUTHORIZED)]
    staff = await through_router(stack, only_counts, token=admin_token(), access=ADMIN)
    assert staff == {
        "data": {
            "products": {
                "nodes": [
                    {"name": "Assam", "stock": {"onHand": 3}},
                    {"name": "Sencha", "stock": {"onHand": 3}},
                ]
            }
        }
    }
