"""A catalog and an order service whose supergraph carries @tag, @inaccessible,
deprecations, descriptions, a custom scalar, an interface, a union and an input
type: material for introspection of the API schema."""

from tests.conformance.kit import Resolvers

PRODUCTS = {
    "p1": {"name": "Ceramic pan", "priceCents": 4500, "listedAt": "2024-03-01T09:00:00Z",
           "legacyCode": "CP-01", "status": "ACTIVE"},
}


def _product(product_id: str) -> dict | None:
    row = PRODUCTS.get(product_id)
    return row and {"__typename": "Product", "id": product_id, "costCents": 1900, **row}


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "product": lambda info, id: _product(id),
            "products": lambda info, first, filter=None: [_product(key) for key in PRODUCTS],
            "search": lambda info, text: [_product(key) for key in PRODUCTS],
            "secretStats": lambda info: {"count": len(PRODUCTS)},
        },
        entities={"Product": lambda rep: _product(rep["id"])},
    ),
    "orders": Resolvers(
        mutation={"placeOrder": lambda info, productId, quantity: {
            "id": "o1", "quantity": quantity, "product": {"id": productId}}},
        entities={"Product": lambda rep: {"id": rep["id"], "orderCount": 2}},
    ),
}
