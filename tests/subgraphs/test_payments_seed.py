"""The demo payments agree with the demo orders (ids, owners, totals) and seed once."""

from __future__ import annotations

import uuid
from decimal import Decimal

from payments_helpers import (  # noqa: F401 (the *_fixture functions are fixtures)
    PaymentsApp,
    app_fixture,
    payments_fixture,
    payments_nats_fixture,
)

from subgraphs.payments.seed import seed_payments
from subgraphs.seed import NAMESPACE, PAST_ORDERS, user_id


async def test_one_captured_payment_per_past_order(app: PaymentsApp) -> None:
    await seed_payments(app.db)
    await seed_payments(app.db)  # twice: nothing more
    rows = await app.sql(
        "SELECT order_id, user_id, status, gateway, amount FROM payments ORDER BY created_at"
    )
    assert len(rows) == len(PAST_ORDERS)
    expected = {
        uuid.uuid5(NAMESPACE, f"order:{n}"): user_id(email)
        for n, (email, *_rest) in enumerate(PAST_ORDERS, start=1)
    }
    assert {row[0]: row[1] for row in rows} == expected
    assert {(row[2], row[3]) for row in rows} == {("CAPTURED", "fake")}
    assert all(row[4] > Decimal(0) for row in rows)
    charges = await app.sql(
        "SELECT c.status, c.amount = p.amount FROM fake_gateway_charges c "
        "JOIN payments p ON p.reference = c.reference"
    )
    assert charges == [("CAPTURED", True)] * len(PAST_ORDERS)
