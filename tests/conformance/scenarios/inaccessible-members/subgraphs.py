"""Members keyed by an internal id that clients never see.

The key field, the email, the `includeBanned` argument, the STAFF tier and the
audit log are @inaccessible: absent from the API schema, yet the key still
joins members to their orders.
"""

from tests.conformance.kit import Resolvers

MEMBERS = {
    "m-7f3a": {"handle": "@nova", "tier": "GOLD", "email": "nova@example.com", "banned": False},
    "m-19c2": {"handle": "@quill", "tier": "SILVER", "email": None, "banned": False},
    "m-a004": {"handle": "@rook", "tier": "GOLD", "email": "rook@example.com", "banned": True},
}
ORDERS = [
    {"number": "O-1001", "totalCents": 4500, "buyer": "m-19c2", "fraudScore": 0.1},
    {"number": "O-1002", "totalCents": 12000, "buyer": "m-7f3a", "fraudScore": 0.02},
    {"number": "O-1003", "totalCents": 800, "buyer": "m-19c2", "fraudScore": 0.4},
]


def _member(internal_id: str) -> dict | None:
    row = MEMBERS.get(internal_id)
    return row and {"internalId": internal_id, "handle": row["handle"], "tier": row["tier"],
                    "email": row["email"]}


def _members(info, includeBanned: bool = False) -> list[dict]:
    return [_member(key) for key, row in MEMBERS.items() if includeBanned or not row["banned"]]


def _order(row: dict) -> dict:
    return {"number": row["number"], "totalCents": row["totalCents"],
            "buyer": {"internalId": row["buyer"]}, "fraudScore": row["fraudScore"]}


def _member_orders(rep: dict) -> dict | None:
    if rep["internalId"] not in MEMBERS:
        return None
    orders = [_order(row) for row in ORDERS if row["buyer"] == rep["internalId"]]
    return {"internalId": rep["internalId"], "orders": orders,
            "lifetimeSpendCents": sum(order["totalCents"] for order in orders)}


SUBGRAPHS = {
    "members": Resolvers(
        query={
            "members": _members,
            "membersByTier": lambda info, tier: [
                _member(key) for key, row in MEMBERS.items() if row["tier"] == tier
            ],
            "auditLog": lambda info: [{"action": "login"}],
        },
        entities={"Member": lambda rep: _member(rep["internalId"])},
    ),
    "orders": Resolvers(
        query={"recentOrders": lambda info: [_order(row) for row in reversed(ORDERS)]},
        entities={"Member": _member_orders},
        fields={"Member": {
            "orders": lambda obj, info: _member_orders(obj)["orders"],
            "lifetimeSpendCents": lambda obj, info: _member_orders(obj)["lifetimeSpendCents"],
        }},
    ),
}
