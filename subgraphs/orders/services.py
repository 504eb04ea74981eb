"""What the orders subgraph talks to besides its database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .clients import CatalogClient, InventoryClient, PaymentsClient, PromotionsClient


@dataclass
class OrdersServices:
    """The clients and settings every orders operation is given."""

    inventory: InventoryClient
    catalog: CatalogClient
    promotions: PromotionsClient
    payments: PaymentsClient
    reservation_ttl: timedelta
    # Each call to payments (chargeOrder, settlePayment) gives up after this many seconds.
    payments_call_timeout: float = 6.0
    # A payment claim older than this belongs to a crashed or stuck `pay`; the sweep
    # settles it. Must exceed the longest a live `pay` can take (see paying.py).
    payment_claim_ttl: timedelta = timedelta(minutes=2)

    @property
    def claim_wait(self) -> float:
        """How long to wait for another caller's payment to settle: a live `pay` makes
        one chargeOrder call under its timeout, then records the outcome."""
        return self.payments_call_timeout + 1.0
