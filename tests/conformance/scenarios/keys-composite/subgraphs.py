from tests.conformance.kit import Resolvers

VARIANTS = [
    {"sku": "desk-1", "region": "EU", "label": "Desk (EU plug)"},
    {"sku": "desk-1", "region": "US", "label": "Desk (US plug)"},
    {"sku": "lamp-2", "region": "EU", "label": "Lamp"},
]
PRICES = {
    ("desk-1", "EU"): (349, "EUR"),
    ("desk-1", "US"): (379, "USD"),
    ("lamp-2", "EU"): (29, "EUR"),
}
STORES = {"s1": {"name": "Downtown", "city": "Lyon"}, "s2": {"name": "Harbour", "city": "Nantes"}}
SHELVES = [
    {"store": "s1", "position": 1, "category": "desks", "itemCount": 4, "restockedFrom": "s2"},
    {"store": "s1", "position": 2, "category": "lamps", "itemCount": 0, "restockedFrom": None},
    {"store": "s2", "position": 1, "category": "chairs", "itemCount": 12, "restockedFrom": "s1"},
]
SHELF_BY_KEY = {(s["store"], s["position"]): s for s in SHELVES}


def price(rep: dict) -> dict | None:
    found = PRICES.get((rep["sku"], rep["region"]))
    if found is None:
        return None
    return {"sku": rep["sku"], "region": rep["region"], "price": found[0], "currency": found[1]}


def catalog_shelf(row: dict) -> dict:
    return {"store": {"id": row["store"]}, "position": row["position"], "category": row["category"]}


def stock_shelf(rep: dict) -> dict | None:
    row = SHELF_BY_KEY.get((rep["store"]["id"], rep["position"]))
    if row is None:
        return None
    restocked = row["restockedFrom"]
    restocked_store = {"id": restocked, "city": STORES[restocked]["city"]} if restocked else None
    return {
        "store": {"id": row["store"], "city": STORES[row["store"]]["city"]},
        "position": row["position"],
        "itemCount": row["itemCount"],
        "restockedFrom": restocked_store,
    }


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "variants": lambda info: VARIANTS,
            "shelves": lambda info: [catalog_shelf(s) for s in SHELVES],
        },
        entities={
            "Store": lambda rep: {"id": rep["id"], "name": STORES[rep["id"]]["name"]},
            "Shelf": lambda rep: catalog_shelf(SHELF_BY_KEY[(rep["store"]["id"], rep["position"])]),
        },
        fields={"Store": {"name": lambda obj, info: STORES[obj["id"]]["name"]}},
    ),
    "pricing": Resolvers(entities={"Variant": price}),
    "stock": Resolvers(
        entities={
            "Shelf": stock_shelf,
            "Store": lambda rep: {"id": rep["id"], "city": STORES[rep["id"]]["city"]},
        }
    ),
}
