"""The expected answer to a benchmark query, computed without any gateway.

A monolithic graphql-core schema (the supergraph's API schema, written out)
over the same static data as the subgraphs. Every gateway's response must
equal what this returns; it is the harness's correctness oracle.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import GraphQLSchema, build_schema, graphql_sync

from bench.data import data, in_stock, shipping_estimate

_API_SDL = """
type Query {
  me: User
  user(id: ID!): User
  users: [User]
  topProducts(first: Int = 5): [Product]
}
type User { id: ID! name: String username: String birthday: Int reviews: [Review] }
type Product {
  upc: String! name: String price: Int weight: Int
  inStock: Boolean shippingEstimate: Int reviews: [Review]
}
type Review { id: ID! body: String product: Product author: User }
"""


@cache
def api_schema() -> GraphQLSchema:
    d = data()
    schema = build_schema(_API_SDL)
    users = list(d.users.values())

    def resolvers(type_name: str, **fields: Any) -> None:
        for name, resolve in fields.items():
            schema.type_map[type_name].fields[name].resolve = resolve  # type: ignore[attr-defined]

    resolvers(
        "Query",
        me=lambda *_: d.users["1"],
        user=lambda _root, _info, id: d.users.get(id),
        users=lambda *_: users,
        topProducts=lambda _root, _info, first=5: d.top_products[: max(first, 0)],
    )
    resolvers("User", reviews=lambda user, _info: d.reviews_by_user.get(user["id"], []))
    resolvers(
        "Product",
        inStock=lambda product, _info: in_stock(product["upc"]),
        shippingEstimate=lambda p, _info: shipping_estimate(p["price"], p["weight"]),
        reviews=lambda product, _info: d.reviews_by_product.get(product["upc"], []),
    )
    resolvers(
        "Review",
        product=lambda review, _info: d.products[review["product_upc"]],
        author=lambda review, _info: d.users[review["author_id"]],
    )
    return schema


def expected_response(query: str, variables: dict | None = None) -> dict[str, Any]:
    result = graphql_sync(api_schema(), query, variable_values=variables)
    if result.errors:
        raise ValueError(f"reference execution failed: {result.errors}")
    return {"data": result.data}
