"""What the orders subgraph talks to besides its database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .clients import CatalogClient, InventoryClient, PromotionsClient
from .payments import PaymentProvider


@dataclass
class OrdersServices:
    """The clients and settings every orders operation is given."""

    inventory: InventoryClient
    catalog: CatalogClient
    promotions: PromotionsClient
    payments: PaymentProvider
    reservation_ttl: timedelta
    # Each provider call (charge, lookup, refund) gives up after this many seconds.
    payment_timeout: float = 10.0
    # A payment claim older than this belongs to a crashed or stuck `pay`; the sweep
    # settles it. Must exceed the longest a live `pay` can take (see paying.py).
    payment_claim_ttl: timedelta = timedelta(minutes=2)

    @property
    def inventory_timeout(self) -> float:
        return self.inventory.client.timeout

    @property
    def claim_wait(self) -> float:
        """How long to wait for another caller's payment to settle.

        A live `pay` takes at most: charge, then a lookup or the stock commit
        (and, if that times out, abandoning it), then a refund, each under its
        own timeout.
        """
        return 3 * self.payment_timeout + 2 * self.inventory_timeout + 1.0
