"""The demo shop's promotions: "TEA3FOR2" running (buy two teas, the cheapest of
every three is free) and an expired fixed-amount example.

Ids are derived from the codes (uuid5) like the rest of the demo data, and a
code already there is left as it is, so seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert

from subgraphs.common.database import Database

from .engine import BuyNGetMFree, FixedAmountOverThreshold
from .models import PromotionRow
from .rules import stored
from .store import NewPromotion

NAMESPACE = uuid.UUID("6f1c2a4e-5b7d-4c1e-9a3f-2d8e7b6a5c40")  # the demo shop's (subgraphs.seed)


def demo_promotions(now: datetime) -> list[NewPromotion]:
    """The demo promotions, scheduled around `now`."""
    return [
        NewPromotion(
            code="TEA3FOR2",
            description="Tea: buy 2, get the cheapest of every 3 free",
            rule=BuyNGetMFree("tea", 2, 1),
            priority=10,
            starts_at=now - timedelta(days=7),
            ends_at=None,
        ),
        NewPromotion(
            code="WELCOME5",
            description="$5 off orders of $40 or more (launch week)",
            rule=FixedAmountOverThreshold(Decimal("5.00"), Decimal("40.00"), "USD"),
            priority=0,
            starts_at=now - timedelta(days=60),
            ends_at=now - timedelta(days=53),
        ),
    ]


async def seed_promotions(db: Database) -> None:
    """Insert the demo promotions whose codes are not taken yet."""
    rows = []
    for promotion in demo_promotions(datetime.now(UTC)):
        kind, parameters = stored(promotion.rule)
        rows.append(
            {
                "id": uuid.uuid5(NAMESPACE, f"promotion:{promotion.code}"),
                "code": promotion.code,
                "description": promotion.description,
                "kind": kind,
                "parameters": parameters,
                "priority": promotion.priority,
                "starts_at": promotion.starts_at,
                "ends_at": promotion.ends_at,
            }
        )
    async with db.session() as session, session.begin():
        await session.execute(insert(PromotionRow).values(rows).on_conflict_do_nothing())
