"""The interface every payment gateway implements, and what it answers.

Every call takes an idempotency key: asking twice with one key does what
asking once did, so a caller that lost an answer may simply ask again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

# GatewayPayment.status values (a subset of the shop's PaymentStatus)
PENDING = "PENDING"  # the gateway has not decided yet
AUTHORIZED = "AUTHORIZED"
CAPTURED = "CAPTURED"
DECLINED = "DECLINED"
REFUNDED = "REFUNDED"


class GatewayUnavailable(Exception):
    """The gateway could not be reached or refused to act: nothing was charged."""


@dataclass(frozen=True)
class GatewayPayment:
    """A charge as the gateway sees it: its reference, status and why it was declined."""

    reference: str | None
    status: str  # PENDING, AUTHORIZED, CAPTURED, DECLINED or REFUNDED
    decline_reason: str | None = None


class Gateway(Protocol):
    """A payment provider: authorize then capture, refund, and look a charge up again."""

    name: str  # stored on the payment row ("fake", "stripe")

    async def authorize(
        self,
        amount: Decimal,
        currency: str,
        token: str,
        idempotency_key: str,
        order_id: str | None = None,
    ) -> GatewayPayment:
        """Hold `amount` on the card `token` once per key (DECLINED is an answer, not an
        error); GatewayUnavailable if it definitely did not."""
        ...

    async def capture(
        self, reference: str, amount: Decimal, idempotency_key: str
    ) -> GatewayPayment:
        """Take the held `amount` of the authorized charge `reference`."""
        ...

    async def refund(self, reference: str, amount: Decimal, idempotency_key: str) -> GatewayPayment:
        """Give `amount` of the captured charge `reference` back."""
        ...

    async def find_by_idempotency_key(
        self, key: str, reference: str | None = None
    ) -> GatewayPayment | None:
        """The charge authorized under `key` (or known by `reference`), None if there is none."""
        ...
