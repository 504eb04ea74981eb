"""What the orders subgraph talks to besides its database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .clients import CatalogClient, InventoryClient
from .payments import PaymentProvider


@dataclass
class OrdersServices:
    inventory: InventoryClient
    catalog: CatalogClient
    payments: PaymentProvider
    reservation_ttl: timedelta
