"""The payment provider interface, and the fake one used in dev and tests.

A real provider (Stripe, Adyen, ...) implements `PaymentProvider`; the fake
behaves like a card processor's test mode: the token decides the outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
    refunded: bool = False


class PaymentProviderError(Exception):
    """The provider could not be reached or failed; the charge did not happen."""


class PaymentProvider(Protocol):
    async def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> Charge:
        """Charge once per `idempotency_key`: repeating a key returns the first charge."""
        ...

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """The charge made under `idempotency_key`, or None if the provider has none."""
        ...

    async def refund(self, reference: str) -> None: ...


@dataclass
class FakeCharge:
    charge: Charge
    amount: Decimal
    currency: str
    refunded: bool = False

    def current(self) -> Charge:
        return dataclasses.replace(self.charge, refunded=self.refunded)


class FakePaymentProvider:
    """Approves every token except `tok_declined` (declined) and `tok_error` (fails).

    `response_gate` imitates a slow provider: while it is set and not yet
    open, a charge is recorded but its answer waits for the gate.
    """

    def __init__(self) -> None:
        self.charges: dict[str, FakeCharge] = {}
        self._by_reference: dict[str, FakeCharge] = {}
        self._lock = asyncio.Lock()
        self.response_gate: asyncio.Event | None = None
        self.held = 0  # charges waiting at the gate right now

    async def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> Charge:
        if token == ERROR_TOKEN:
            raise PaymentProviderError("payment provider unavailable")
        async with self._lock:
            record = self.charges.get(idempotency_key)
            if record is None:
                approved = token != DECLINED_TOKEN
                charge = Charge(
                    reference=f"fake_{uuid.uuid4().hex}",
                    approved=approved,
                )
                record = FakeCharge(charge, amount, currency)
                self.charges[idempotency_key] = record
                self._by_reference[charge.reference] = record
        gate = self.response_gate
        if gate is not None:
            self.held += 1
            try:
                await gate.wait()
            finally:
                self.held -= 1
        return record.current()

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        async with self._lock:
            record = self.charges.get(idempotency_key)
            return record.current() if record else None

    async def refund(self, reference: str) -> None:
        async with self._lock:
            self._by_reference[reference].refunded = True
