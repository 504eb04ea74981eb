"""A gateway that behaves like a card processor's test mode: the token decides.

"tok_declined" is declined, "tok_error" finds the gateway unavailable (nothing
is charged), any other token is approved. It plays an outside party, so it
keeps its charges in its own table through its own sessions, never in the
caller's transaction: they survive restarts and a caller's rollback.

`response_gate` imitates a slow provider: while set and not yet open, every call
does its work but its answer waits at the gate (`held` counts the waiting ones).
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from subgraphs.common.database import Database

from ..models import FakeChargeRow
from .base import AUTHORIZED, CAPTURED, DECLINED, REFUNDED, GatewayPayment, GatewayUnavailable

DECLINED_TOKEN = "tok_declined"
ERROR_TOKEN = "tok_error"
DECLINE_REASON = "Your card was declined."


def _answer(row: FakeChargeRow) -> GatewayPayment:
    reason = DECLINE_REASON if row.status == DECLINED else None
    return GatewayPayment(row.reference, row.status, reason)


class FakeGateway:
    """Approves every token but "tok_declined" (declined) and "tok_error" (unavailable)."""

    name = "fake"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.response_gate: asyncio.Event | None = None
        self.held = 0  # answers waiting at the gate right now

    async def authorize(
        self,
        amount: Decimal,
        currency: str,
        token: str,
        idempotency_key: str,
        order_id: str | None = None,
    ) -> GatewayPayment:
        """Record the charge once per key (the first token decides), then answer."""
        if token == ERROR_TOKEN:
            raise GatewayUnavailable("fake gateway unavailable")
        status = DECLINED if token == DECLINED_TOKEN else AUTHORIZED
        async with self.db.session() as session, session.begin():
            await session.execute(
                insert(FakeChargeRow)
                .values(
                    reference=f"fake_{uuid.uuid4().hex}",
                    idempotency_key=idempotency_key,
                    amount=amount,
                    currency_code=currency,
                    status=status,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = await session.scalar(
                select(FakeChargeRow).where(FakeChargeRow.idempotency_key == idempotency_key)
            )
        assert row is not None
        await self._gate()
        return _answer(row)

    async def capture(
        self, reference: str, amount: Decimal, idempotency_key: str
    ) -> GatewayPayment:
        """AUTHORIZED -> CAPTURED; a charge already captured stays as it is."""
        return await self._move(reference, AUTHORIZED, CAPTURED)

    async def refund(self, reference: str, amount: Decimal, idempotency_key: str) -> GatewayPayment:
        """CAPTURED -> REFUNDED (the whole amount); a refunded charge stays as it is."""
        return await self._move(reference, CAPTURED, REFUNDED, refunded=amount)

    async def find_by_idempotency_key(
        self, key: str, reference: str | None = None
    ) -> GatewayPayment | None:
        """The charge recorded under `key`, if any."""
        async with self.db.session() as session:
            row = await session.scalar(
                select(FakeChargeRow).where(FakeChargeRow.idempotency_key == key)
            )
        await self._gate()
        return None if row is None else _answer(row)

    async def _move(
        self, reference: str, before: str, after: str, refunded: Decimal | None = None
    ) -> GatewayPayment:
        values: dict[Any, object] = {FakeChargeRow.status: after}
        if refunded is not None:
            values[FakeChargeRow.refunded_amount] = refunded
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(FakeChargeRow)
                .where(FakeChargeRow.reference == reference, FakeChargeRow.status == before)
                .values(values)
            )
            row = await session.get(FakeChargeRow, reference)
        if row is None:
            raise GatewayUnavailable(f"fake gateway: no charge {reference}")
        await self._gate()
        return _answer(row)

    async def _gate(self) -> None:
        gate = self.response_gate
        if gate is None:
            return
        self.held += 1
        try:
            await gate.wait()
        finally:
            self.held -= 1
