"""Office hardware: inventory owns the `Asset` interface and its implementations.

tagging extends `Asset` as an @interfaceObject, promos only references assets
(a non-resolvable @interfaceObject key) and warranty extends one implementation.
"""

from tests.conformance.kit import Resolvers

ASSETS = {
    "LT-01": {"__typename": "Laptop", "model": "ThinkPad X1", "cpu": "i7-1365U"},
    "MN-01": {"__typename": "Monitor", "model": "Dell U2723QE", "inches": 27},
    "LT-02": {"__typename": "Laptop", "model": "MacBook Air", "cpu": "M2"},
}
TAGS = {"LT-01": ["portable", "loaner"], "MN-01": ["desk"], "LT-02": ["portable"]}
WARRANTY = {"LT-01": 3, "LT-02": 1}
PROMOTIONS = [
    {"headline": "Desk upgrade", "percentOff": 15, "asset": {"sku": "MN-01"}},
    {"headline": "Back to school", "percentOff": 10, "asset": {"sku": "LT-02"}},
]


def _asset(sku: str) -> dict | None:
    row = ASSETS.get(sku)
    return row and {"sku": sku, **row}


def _tagged(sku: str) -> dict | None:
    return {"sku": sku, "tags": TAGS[sku]} if sku in TAGS else None


SUBGRAPHS = {
    "inventory": Resolvers(
        query={"assets": lambda info: [_asset(sku) for sku in ASSETS]},
        entities={
            "Asset": lambda rep: _asset(rep["sku"]),
            "Laptop": lambda rep: _asset(rep["sku"]),
            "Monitor": lambda rep: _asset(rep["sku"]),
        },
    ),
    "tagging": Resolvers(
        query={"tagged": lambda info, tag: [_tagged(sku) for sku in TAGS if tag in TAGS[sku]]},
        entities={"Asset": lambda rep: _tagged(rep["sku"])},
    ),
    "promos": Resolvers(query={"promotions": lambda info: PROMOTIONS}),
    "warranty": Resolvers(
        entities={
            "Laptop": lambda rep: {"sku": rep["sku"], "warrantyYears": WARRANTY[rep["sku"]]}
            if rep["sku"] in WARRANTY else None
        },
    ),
}
