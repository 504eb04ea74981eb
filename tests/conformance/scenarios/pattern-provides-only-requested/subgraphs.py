"""Gadgets: storefront provides `name` and `description`; only owner has `warranty`.

owner answers name/description with a visible marker, so an answer that asked owner for
a provided field shows it.
"""

from tests.conformance.kit import Resolvers

GADGETS = {
    "g1": {"name": "Pocket radio", "description": "AM/FM, wind-up", "warranty": "2 years"},
    "g2": {"name": "Desk fan", "description": "Three speeds", "warranty": "1 year"},
}


def _owner(rep: dict) -> dict | None:
    row = GADGETS.get(rep["id"])
    if row is None:
        return None
    return {
        "id": rep["id"],
        "name": "owner should not be asked for name",
        "description": "owner should not be asked for description",
        "warranty": row["warranty"],
    }


def _storefront(id_: str) -> dict | None:
    row = GADGETS.get(id_)
    return row and {"id": id_, "name": row["name"], "description": row["description"]}


SUBGRAPHS = {
    "owner": Resolvers(query={"ownerPing": lambda info: True}, entities={"Gadget": _owner}),
    "storefront": Resolvers(
        query={
            "gadget": lambda info, id: _storefront(id),
            "gadgets": lambda info: [_storefront(i) for i in GADGETS],
        }
    ),
}
