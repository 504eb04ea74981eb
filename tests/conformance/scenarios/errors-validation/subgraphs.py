"""A trivial product/stock pair: every case here is rejected before planning,
except the control case that shows the operation shape works."""

from tests.conformance.kit import Resolvers

PRODUCTS = {"v1": "Vacuum flask", "v2": "Lunch box"}


def _product(product_id: str) -> dict | None:
    return {"id": product_id, "name": PRODUCTS[product_id]} if product_id in PRODUCTS else None


SUBGRAPHS = {
    "products": Resolvers(
        query={
            "product": lambda info, id: _product(id),
            "products": lambda info, first: [_product(key) for key in PRODUCTS][:first],
        },
        entities={"Product": lambda rep: _product(rep["id"])},
    ),
    "stock": Resolvers(
        entities={"Product": lambda rep: {
            "id": rep["id"], "inStock": rep["id"] == "v1", "warehouse": {"city": "Graz"}}},
    ),
}
