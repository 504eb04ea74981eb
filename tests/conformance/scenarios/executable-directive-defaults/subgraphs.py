"""A composed executable directive whose default argument only one subgraph declares.

Both subgraphs define `@trace(level: TraceLevel!)` and compose it; pricing gives `level`
the default BASIC, catalog gives none, so the supergraph's definition carries the default.
A client's bare `@trace` is valid against the supergraph; forwarded as is, catalog would
reject it (its `level` is required). The router spells the default out.
"""

from tests.conformance.kit import Resolvers

PRODUCTS = {"p1": {"name": "Teapot", "priceCents": 2400}}


def _product(id_: str, field: str) -> dict | None:
    row = PRODUCTS.get(id_)
    return {"id": id_, field: row[field]} if row else None


SUBGRAPHS = {
    "catalog": Resolvers(
        query={"product": lambda info, id: _product(id, "name")},
        entities={"Product": lambda rep: _product(rep["id"], "name")},
    ),
    "pricing": Resolvers(entities={"Product": lambda rep: _product(rep["id"], "priceCents")}),
}
