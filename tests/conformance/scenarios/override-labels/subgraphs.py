"""A migration in progress: stockroom will take item quantities and locations over.

Both overrides carry a label that is off (a 0 percent rollout and a custom
label nobody enabled), so inventory still answers them. The two subgraphs
answer differently, which makes the choice visible.
"""

from tests.conformance.kit import Resolvers

ITEMS = {
    "p-100": {"label": "Hex bolts M6", "quantity": 240, "location": "A-3", "aisle": 3},
    "p-200": {"label": "Wing nuts", "quantity": 0, "location": "B-1", "aisle": 11},
}


def _inventory(sku: str) -> dict | None:
    row = ITEMS.get(sku)
    return row and {"sku": sku, "label": row["label"], "quantity": row["quantity"],
                    "location": row["location"]}


def _stockroom(sku: str) -> dict | None:
    row = ITEMS.get(sku)
    # stockroom counts are not migrated yet: they are placeholders
    return row and {"sku": sku, "quantity": -1, "location": "unassigned", "aisle": row["aisle"]}


SUBGRAPHS = {
    "inventory": Resolvers(
        query={"items": lambda info: [_inventory(sku) for sku in ITEMS]},
        entities={"Item": lambda rep: _inventory(rep["sku"])},
    ),
    "stockroom": Resolvers(entities={"Item": lambda rep: _stockroom(rep["sku"])}),
}
