"""Orders whose payment details fail for some orders and whose shipping service is down.

payments raises for order o2 (every field of its payment), refuses receipts
for card payments with a coded error and fails its `refunds` root field;
shipping answers every request with HTTP 500.
"""

from graphql import GraphQLError

from tests.conformance.kit import Resolvers

ORDERS = {"o1": (2500, "gift"), "o2": (990, None), "o3": (12000, None)}
PAYMENTS = {"o1": "paypal", "o3": "card"}


def _order(order_id: str) -> dict | None:
    if order_id not in ORDERS:
        return None
    total, note = ORDERS[order_id]
    return {"id": order_id, "totalCents": total, "note": note}


def _failing_order(info) -> dict:
    raise RuntimeError("order database timed out")


def _payment(order: dict, info) -> dict | None:
    if order["id"] == "o2":
        raise RuntimeError(f"payment lookup failed for {order['id']}")
    method = PAYMENTS.get(order["id"])
    return method and {"method": method, "order": order["id"]}


def _payment_status(order: dict, info) -> str:
    if order["id"] == "o2":
        raise RuntimeError("payment status unavailable")
    return "CAPTURED"


def _receipt(payment: dict, info) -> str:
    if payment["method"] == "card":
        raise GraphQLError("receipts for card payments need a signed-in user",
                           extensions={"code": "FORBIDDEN", "reason": "card"})
    return f"https://pay.example/r/{payment['order']}"


def _fraud_check(payment: dict, info) -> str:
    if payment["order"] == "o3":
        return None  # violates the non-null type: the subgraph reports it
    return "PASSED"


def _refunds(info) -> list[str]:
    raise RuntimeError("refund ledger offline")


SUBGRAPHS = {
    "orders": Resolvers(
        query={
            "orders": lambda info: [_order(key) for key in ORDERS],
            "recentOrders": lambda info: [_order(key) for key in reversed(ORDERS)],
            "order": lambda info, id: _order(id),
            "failingOrder": _failing_order,
            "strictOrder": _failing_order,
        },
        entities={"Order": lambda rep: _order(rep["id"])},
    ),
    "payments": Resolvers(
        query={"refunds": _refunds},
        entities={"Order": lambda rep: {"id": rep["id"]} if rep["id"] in ORDERS else None},
        fields={
            "Order": {"payment": _payment, "paymentStatus": _payment_status},
            "Payment": {"receiptUrl": _receipt, "fraudCheck": _fraud_check},
        },
    ),
    "shipping": Resolvers(http_status=500, http_body="upstream connect error"),
}
