"""A shop shelf keyed by the list of its items (`items { id sku }` / `items { id }`).

catalog knows items only by `id sku`; sections leads back to items by `id` alone, so the
sku has to come from picks before catalog can be asked again (a cycle Item -> Section ->
Item). picks chooses items from the shelf's own key.
"""

from tests.conformance.kit import Resolvers

ITEMS = {
    "i1": {"sku": "A1", "amount": 100, "section": "s1"},
    "i2": {"sku": "B2", "amount": 250, "section": "s2"},
    "i3": {"sku": "C3", "amount": 75, "section": "s1"},
}
SECTIONS = {"s1": ("Kitchen", "i3"), "s2": ("Garden", "i2")}
TOP_SELLERS = ["i1", "i2"]


def _ref(id_: str) -> dict:
    return {"id": id_, "sku": ITEMS[id_]["sku"]}


def _catalog_item(rep: dict) -> dict | None:
    row = ITEMS.get(rep["id"])
    if row is None or row["sku"] != rep["sku"]:
        return None
    return {
        **_ref(rep["id"]),
        "price": {"amount": row["amount"], "currency": "EUR"},
        "section": {"id": row["section"]},
    }


def _picks_shelf(rep: dict) -> dict:
    ids = [item["id"] for item in rep["items"]]
    chosen = max(ids, key=lambda i: ITEMS[i]["amount"]) if ids else None
    return {
        "items": [_ref(i) for i in ids],
        "first": _ref(ids[0]) if ids else None,
        "chosen": _ref(chosen) if chosen else None,
    }


SUBGRAPHS = {
    "lists": Resolvers(
        query={"topSellers": lambda info: {"items": [_ref(i) for i in TOP_SELLERS]}},
        entities={
            "Shelf": lambda rep: {"items": [_ref(i["id"]) for i in rep["items"]]},
            "Item": lambda rep: _ref(rep["id"]) if rep["id"] in ITEMS else None,
        },
    ),
    "picks": Resolvers(
        entities={
            "Shelf": _picks_shelf,
            "Item": lambda rep: _ref(rep["id"]) if rep["id"] in ITEMS else None,
        }
    ),
    "catalog": Resolvers(entities={"Item": _catalog_item}),
    "sections": Resolvers(
        entities={
            "Section": lambda rep: {
                "id": rep["id"],
                "label": SECTIONS[rep["id"]][0],
                "lead": {"id": SECTIONS[rep["id"]][1]},
            },
            "Item": lambda rep: {"id": rep["id"]},
        }
    ),
}
