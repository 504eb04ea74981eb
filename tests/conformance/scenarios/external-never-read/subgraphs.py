"""@external fields answered by the subgraph that marks them external, wrongly.

storefront and orders both return stale copies of the record fields they mark @external
(`title`, `priceCents`, `minutes`: "STALE", -1); catalog owns them. Whether asked on the
interface, under a type condition, in a fragment or inside a @requires selection with a
type condition, every such field must come from catalog: a stale value in an answer shows
a plan that read an external field.
"""

from tests.conformance.kit import Resolvers

RECORDS = {
    "r1": {"title": "Blue Train", "priceCents": 1800, "minutes": 42},
    "r2": {"title": None, "priceCents": None, "minutes": None},
}
VOUCHERS = {"v1": "Gift voucher"}
STALE = {"title": "STALE", "priceCents": -1, "minutes": -1}


def _item(id_: str) -> dict:
    if id_ in VOUCHERS:
        return {"__typename": "Voucher", "id": id_, "title": VOUCHERS[id_]}
    return {"__typename": "Record", "id": id_, **STALE}


def _gross(rep: dict) -> dict | None:
    if rep["id"] not in RECORDS:
        return None
    price = rep.get("priceCents", -1)
    gross = None if price is None else price * 120 // 100
    return {"__typename": "Record", "id": rep["id"], **STALE, "grossCents": gross}


def _slip(rep: dict) -> dict:
    item = rep.get("item")
    slip = None
    if item is not None:
        slip = f"{item.get('title')} ({item.get('minutes')} min)"
    return {"id": rep["id"], "slip": slip}


ORDERS = {"o1": "r1", "o2": "v1", "o3": "r2"}

SUBGRAPHS = {
    "storefront": Resolvers(
        query={
            "shelf": lambda info: [_item(i) for i in ("r1", "v1", "r2")],
            "featured": lambda info: _item("r1"),
        },
        entities={"Record": _gross, "Voucher": lambda rep: _item(rep["id"])},
    ),
    "catalog": Resolvers(
        entities={
            "Record": lambda rep: (
                {"id": rep["id"], **RECORDS[rep["id"]]} if rep["id"] in RECORDS else None
            )
        }
    ),
    "orders": Resolvers(
        query={"orders": lambda info: [{"id": o, "item": _item(i)} for o, i in ORDERS.items()]},
        entities={
            "Order": lambda rep: {**_slip(rep), "item": _item(ORDERS[rep["id"]])},
            "Record": lambda rep: _item(rep["id"]),
            "Voucher": lambda rep: {"__typename": "Voucher", "id": rep["id"]},
        },
    ),
}
