"""Kitchen appliances: `Fridge` implements `Node` and `Serviceable` only in service.

In appliances a Fridge is just a keyed object in the `Appliance` union, while `Kettle`
implements both interfaces there. `node(id:)` in appliances cannot return a Fridge
(it is not a `Node` in that subgraph), so asking it for one is a subgraph error.
"""

from tests.conformance.kit import Resolvers

APPLIANCES = {
    "f1": {"__typename": "Fridge", "litres": 300},
    "k1": {"__typename": "Kettle", "serviceYears": 2, "watts": 2200},
    "f2": {"__typename": "Fridge", "litres": 180},
    "k2": {"__typename": "Kettle", "serviceYears": 3, "watts": 1800},
}
FRIDGE_SERVICE = {"f1": 5, "f2": 7}


def _appliance(id_: str) -> dict | None:
    row = APPLIANCES.get(id_)
    return row and {"id": id_, **row}


def _of_type(typename: str):
    def resolve(rep: dict) -> dict | None:
        found = _appliance(rep["id"])
        return found if found and found["__typename"] == typename else None

    return resolve


def _kettles(info: object) -> list[dict]:
    return [_appliance(i) for i, row in APPLIANCES.items() if row["__typename"] == "Kettle"]


SUBGRAPHS = {
    "appliances": Resolvers(
        query={
            "appliances": lambda info: [_appliance(i) for i in APPLIANCES],
            "node": lambda info, id: _appliance(id),
            "nodes": _kettles,
            "kettles": _kettles,
        },
        entities={"Fridge": _of_type("Fridge"), "Kettle": _of_type("Kettle")},
    ),
    "service": Resolvers(
        entities={
            "Fridge": lambda rep: (
                {"id": rep["id"], "serviceYears": FRIDGE_SERVICE[rep["id"]]}
                if rep["id"] in FRIDGE_SERVICE
                else None
            ),
        },
    ),
}
