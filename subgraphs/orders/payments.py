"""The payment provider interface, and the fake one used in dev and tests.

A real provider (Stripe, Adyen, ...) implements `PaymentProvider`; the fake
behaves like a card processor's test mode: the token decides the outcome.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

DECLINED_TOKEN = "tok_declined"
ERROR_TOKEN = "tok_error"


@dataclass(frozen=True)
class Charge:
    reference: str
    approved: bool
    decline_reason: str | None = None


class PaymentProviderError(Exception):
    """The provider could not be reached or failed; the charge did not happen."""


class PaymentProvider(Protocol):
    async def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> Charge: ...

    async def refund(self, reference: str) -> None: ...


@dataclass
class FakeCharge:
    charge: Charge
    amount: Decimal
    currency: str
    refunded: bool = False


class FakePaymentProvider:
    """Approves every token except `tok_declined` (declined) and `tok_error` (fails)."""

    def __init__(self) -> None:
        self.charges: dict[str, FakeCharge] = {}
        self._by_reference: dict[str, FakeCharge] = {}
        self._lock = asyncio.Lock()

    async def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> Charge:
        if token == ERROR_TOKEN:
            raise PaymentProviderError("payment provider unavailable")
        async with self._lock:
            previous = self.charges.get(idempotency_key)
            if previous is not None:
                return previous.charge
            approved = token != DECLINED_TOKEN
            charge = Charge(
                reference=f"fake_{uuid.uuid4().hex}",
                approved=approved,
                decline_reason=None if approved else "card_declined",
            )
            record = FakeCharge(charge, amount, currency)
            self.charges[idempotency_key] = record
            self._by_reference[charge.reference] = record
            return charge

    async def refund(self, reference: str) -> None:
        async with self._lock:
            self._by_reference[reference].refunded = True
