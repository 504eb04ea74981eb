"""The demo shop's payments: one CAPTURED payment (gateway "fake") for each of the
customers' past PAID/FULFILLED orders that subgraphs.seed writes, and the fake
gateway's matching charges.

Ids, amounts and keys are derived the way orders' seed derives them (uuid5 of
"order:<n>" and "payment:<n>", key "seed-<n>"), so both databases agree; a
payment already there is left as it is, so seeding twice changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from subgraphs.common.database import Database
from subgraphs.common.types import CENTS

from .models import CAPTURED, FakeChargeRow, PaymentRow


def demo_payments(now: datetime) -> list[dict[str, Any]]:
    """The seeded payments' rows, dated like their orders around `now`."""
    # Imported here: subgraphs.seed imports this module to list the seeders.
    from subgraphs.seed import NAMESPACE, PAST_ORDERS, demo_products, user_id

    prices = {p.sku: p.price for p in demo_products()}
    rows = []
    for number, (email, days, _status, lines) in enumerate(PAST_ORDERS, start=1):
        total = sum((prices[sku] * q for sku, q in lines), Decimal(0)).quantize(CENTS)
        created = now - timedelta(days=days)
        rows.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"payment:{number}"),
                "order_id": uuid.uuid5(NAMESPACE, f"order:{number}"),
                "user_id": user_id(email),
                "idempotency_key": f"seed-{number}",
                "token_hash": hashlib.sha256(b"tok_visa").hexdigest(),
                "amount": total,
                "currency_code": "USD",
                "gateway": "fake",
                "status": CAPTURED,
                "reference": f"fake_seed_{number}",
                "created_at": created + timedelta(minutes=2),
                "updated_at": created + timedelta(minutes=2),
            }
        )
    return rows


def _fake_charge(payment: dict[str, Any]) -> dict[str, Any]:
    """The fake gateway's record of a seeded payment: it took part in the charge, so a
    refund of a cancelled demo order finds it."""
    return {
        "reference": payment["reference"],
        "idempotency_key": payment["idempotency_key"],
        "amount": payment["amount"],
        "currency_code": payment["currency_code"],
        "status": CAPTURED,
        "created_at": payment["created_at"],
    }


async def seed_payments(db: Database) -> None:
    """Insert the demo payments (and the fake gateway's charges) not there yet."""
    payments = demo_payments(datetime.now(UTC))
    charges = [_fake_charge(payment) for payment in payments]
    async with db.session() as session, session.begin():
        await session.execute(insert(PaymentRow).values(payments).on_conflict_do_nothing())
        await session.execute(insert(FakeChargeRow).values(charges).on_conflict_do_nothing())
