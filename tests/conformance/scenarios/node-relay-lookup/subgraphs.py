"""Relay-style global ids ("Type:key") resolved by a dedicated `nodes` subgraph.

`nodes` only decodes an id into a typed reference; the fields of users come
from accounts and those of products and orders from shop.
"""

from tests.conformance.kit import Resolvers

USERS = {"User:1": ("kit", 2019), "User:2": ("rowan", 2023)}
PRODUCTS = {"Product:p1": ("Trail shoes", 11900), "Product:p2": ("Rain jacket", 15900)}
ORDERS = {"Order:9001": ("User:2", ["Product:p1", "Product:p2"]), "Order:9002": ("User:1", [])}
KNOWN = {**dict.fromkeys(USERS, "User"), **dict.fromkeys(PRODUCTS, "Product"),
         **dict.fromkeys(ORDERS, "Order")}


def _node(node_id: str) -> dict | None:
    typename = KNOWN.get(node_id)
    return {"__typename": typename, "id": node_id} if typename else None


def _user(user_id: str) -> dict | None:
    if user_id not in USERS:
        return None
    username, year = USERS[user_id]
    return {"id": user_id, "username": username, "joinedYear": year}


def _product(product_id: str) -> dict | None:
    if product_id not in PRODUCTS:
        return None
    title, price = PRODUCTS[product_id]
    return {"id": product_id, "title": title, "priceCents": price}


def _order(order_id: str) -> dict | None:
    if order_id not in ORDERS:
        return None
    buyer, items = ORDERS[order_id]
    return {"id": order_id, "buyer": {"id": buyer}, "items": [_product(key) for key in items],
            "totalCents": sum(PRODUCTS[key][1] for key in items)}


def _shop_user(user_id: str) -> dict | None:
    if user_id not in USERS:
        return None
    return {"id": user_id,
            "orders": [_order(key) for key, (buyer, _) in ORDERS.items() if buyer == user_id]}


SUBGRAPHS = {
    "nodes": Resolvers(
        query={
            "node": lambda info, id: _node(id),
            "nodes": lambda info, ids: [_node(key) for key in ids],
        },
        entities={
            "Node": lambda rep: _node(rep["id"]),
            "User": lambda rep: _node(rep["id"]),
            "Product": lambda rep: _node(rep["id"]),
            "Order": lambda rep: _node(rep["id"]),
        },
    ),
    "accounts": Resolvers(
        query={"viewer": lambda info: _user("User:1")},
        entities={"User": lambda rep: _user(rep["id"])},
    ),
    "shop": Resolvers(
        entities={
            "Product": lambda rep: _product(rep["id"]),
            "Order": lambda rep: _order(rep["id"]),
            "User": lambda rep: _shop_user(rep["id"]),
        },
        fields={"User": {"orders": lambda obj, info: _shop_user(obj["id"])["orders"]}},
    ),
}
