"""Fields that once lived in a `legacy` subgraph which is no longer part of the supergraph."""

from tests.conformance.kit import Resolvers

STORES = {
    "s1": {"city": "Lyon", "openingHours": "09:00-19:00", "employees": ["Chloé", "Malik"]},
    "s2": {"city": "Porto", "openingHours": "10:00-20:00", "employees": ["Inês"]},
}


def _store(store_id: str) -> dict | None:
    row = STORES.get(store_id)
    return row and {"id": store_id, "city": row["city"], "openingHours": row["openingHours"]}


def _employees(store_id: str) -> list[dict]:
    return [{"name": name, "store": {"id": store_id}} for name in STORES[store_id]["employees"]]


def _manager(info, storeId: str) -> dict | None:
    if storeId not in STORES:
        return None
    return _employees(storeId)[0]


SUBGRAPHS = {
    "stores": Resolvers(
        query={"stores": lambda info: [_store(key) for key in STORES]},
        entities={"Store": lambda rep: _store(rep["id"])},
    ),
    "staff": Resolvers(
        query={"manager": _manager},
        entities={
            "Store": lambda rep: {"id": rep["id"], "employees": _employees(rep["id"])}
            if rep["id"] in STORES else None
        },
        fields={"Store": {"employees": lambda obj, info: _employees(obj["id"])}},
    ),
}
