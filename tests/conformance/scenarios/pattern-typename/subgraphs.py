"""`__typename` everywhere: a union, an entity interface, an @interfaceObject that only
knows `Appliance`, and unresolvable references whose type is known from the schema.
"""

from tests.conformance.kit import Resolvers

DEVICES = {
    "ov1": {"__typename": "Oven", "watts": 2400},
    "ts1": {"__typename": "Toaster", "slots": 4},
    "ov2": {"__typename": "Oven", "watts": 1800},
}
TICKETS = {"ov1": 3, "ts1": 1, "ov2": 0}


def _device(id_: str) -> dict | None:
    row = DEVICES.get(id_)
    return row and {"id": id_, **row}


SUBGRAPHS = {
    "devices": Resolvers(
        query={
            "gear": lambda info: [_device(i) for i in DEVICES],
            "appliances": lambda info: [_device(i) for i in ("ts1", "ov2")],
        },
        entities={
            "Appliance": lambda rep: _device(rep["id"]),
            "Oven": lambda rep: _device(rep["id"]),
            "Toaster": lambda rep: _device(rep["id"]),
        },
    ),
    "support": Resolvers(
        query={
            "troubled": lambda info: [{"id": i, "ticketCount": TICKETS[i]} for i in ("ov1", "ts1")]
        },
        entities={"Appliance": lambda rep: {"id": rep["id"], "ticketCount": TICKETS[rep["id"]]}},
    ),
    "staff": Resolvers(
        query={
            "admins": lambda info: [
                {"id": "ad1", "name": "Rosa", "fixes": [{"id": "ov1"}, {"id": "ov2"}]},
                {"id": "ad2", "name": "Ivo", "fixes": []},
            ]
        },
        entities={"Admin": lambda rep: None},
    ),
}
