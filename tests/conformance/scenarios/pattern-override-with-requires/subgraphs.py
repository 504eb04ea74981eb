"""Orders: `tax` moved to the tax subgraph with a requirement, `fee` to fees.

orders keeps stale resolvers (tax -1, fee -1), so an answer that still reads them is
visibly wrong. `currency` overrides a subgraph (billing) that no longer exists.
"""

from tests.conformance.kit import Resolvers

ORDERS = {"o1": (1000, "EU"), "o2": (250, "US"), "o3": (80, "EU")}
REFUNDS = {"r1": 12}
RATES = {"EU": 20, "US": 7}


def _order(id_: str) -> dict | None:
    if id_ not in ORDERS:
        return None
    subtotal, region = ORDERS[id_]
    return {
        "__typename": "Order",
        "id": id_,
        "subtotal": subtotal,
        "region": region,
        "tax": -1,
        "fee": -1,
    }


def _tax(rep: dict) -> dict:
    if "subtotal" not in rep or "region" not in rep:
        raise ValueError("tax needs subtotal and region")
    return {"id": rep["id"], "tax": rep["subtotal"] * RATES[rep["region"]] // 100}


SUBGRAPHS = {
    "orders": Resolvers(
        query={
            "orders": lambda info: [_order(i) for i in ORDERS],
            "billables": lambda info: [
                _order("o2"),
                {"__typename": "Refund", "id": "r1", "tax": REFUNDS["r1"]},
            ],
        },
        entities={"Order": lambda rep: _order(rep["id"]), "Refund": lambda rep: None},
    ),
    "tax": Resolvers(entities={"Order": _tax}),
    "fees": Resolvers(
        entities={
            "Order": lambda rep: {
                "id": rep["id"],
                "fee": 50 if ORDERS[rep["id"]][0] >= 500 else 5,
                "currency": "EUR" if ORDERS[rep["id"]][1] == "EU" else "USD",
            }
        }
    ),
}
