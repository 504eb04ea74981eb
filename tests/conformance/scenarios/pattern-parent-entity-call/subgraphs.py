"""Products with a key-less `Category` value type split over two subgraphs.

`Category.name` exists in products, `Category.path` in taxonomy; neither can be fetched
from the other by key, so the router must go through the parent `Product` entity.
promos only has a root field; blurbs writes a card from the product name (@requires).
"""

from tests.conformance.kit import Resolvers

PRODUCTS = {
    "p1": {"name": "Chef knife", "category": "c1"},
    "p2": {"name": "Garden hose", "category": "c2"},
    "p3": {"name": "Mystery box", "category": None},
}
CATEGORIES = {"c1": ("Knives", "Kitchen > Knives"), "c2": ("Watering", "Garden > Watering")}


def _category(id_: str | None, field: str) -> dict | None:
    if id_ is None:
        return None
    name, path = CATEGORIES[id_]
    return {"id": id_, field: name if field == "name" else path}


def _product(id_: str) -> dict | None:
    row = PRODUCTS.get(id_)
    if row is None:
        return None
    return {"id": id_, "name": row["name"], "category": _category(row["category"], "name")}


def _card(rep: dict) -> dict | None:
    row = PRODUCTS.get(rep["id"])
    if row is None:
        return None
    if "name" not in rep:
        raise ValueError("card needs the product name")
    card = None
    if row["category"]:
        card = {"categoryId": row["category"], "blurb": f"Details for {rep['name']}"}
    return {"id": rep["id"], "card": card}


SUBGRAPHS = {
    "products": Resolvers(
        query={"products": lambda info: [_product(i) for i in PRODUCTS]},
        entities={"Product": lambda rep: _product(rep["id"])},
    ),
    "taxonomy": Resolvers(
        entities={
            "Product": lambda rep: (
                {
                    "id": rep["id"],
                    "category": _category(PRODUCTS[rep["id"]]["category"], "path"),
                }
                if rep["id"] in PRODUCTS
                else None
            )
        }
    ),
    "promos": Resolvers(
        query={"promoted": lambda info, id: {"id": id} if id in PRODUCTS else None},
    ),
    "blurbs": Resolvers(entities={"Product": _card}),
}
