"""The demo shop's baskets, so that suggestions make sense out of the box.

The customers' past orders of subgraphs.seed (same order, user and product ids),
plus deterministic baskets of shoppers without an account, built around themes
(a pour-over set-up, tea time, ...): in each theme the first product is in every
basket and the k-th of the others in every (k)-th one, so a theme's products are
suggested with one another in a clear order. All are bought; they go through the
same incremental path as the events (counts.py), so seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from subgraphs.common.database import Database
from subgraphs.seed import NAMESPACE, PAST_ORDERS, product_id, user_id

from . import counts

# (theme, SKUs: the anchor first, then by how often they go with it)
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pour-over", ("BRW-001", "BRW-005", "COF-001", "BRW-002", "BRW-006", "COF-008")),
    ("french-press", ("BRW-004", "COF-002", "BRW-003", "MUG-001", "COF-009")),
    ("espresso", ("BRW-008", "COF-003", "MUG-004", "SNK-002", "MUG-009")),
    ("tea-time", ("TEA-003", "MUG-006", "SNK-004", "GFT-008", "TEA-001")),
    ("matcha", ("TEA-005", "SNK-008", "TEA-002", "MUG-002", "TEA-006")),
    ("chai-latte", ("TEA-007", "BRW-009", "MUG-007", "SNK-006", "TEA-004")),
    ("on-the-go", ("COF-005", "MUG-003", "MUG-008", "COF-008", "MUG-005")),
    ("chocolate", ("SNK-001", "COF-007", "SNK-007", "GFT-009", "SNK-009")),
    ("gifts", ("GFT-001", "GFT-004", "SNK-003", "GFT-007", "GFT-005")),
    ("brewing-kit", ("GFT-003", "BRW-007", "COF-004", "GFT-006", "BRW-002")),
    ("evening-tea", ("TEA-009", "TEA-008", "SNK-005", "GFT-002", "MUG-006")),
    ("coffee-lover", ("COF-006", "BRW-003", "COF-001", "SNK-001", "MUG-001")),
)
BASKETS_PER_THEME = 12
# consumables people buy two of
TWO_OF = frozenset({"BRW-005", "COF-008", "SNK-001", "SNK-006", "SNK-002"})


@dataclass(frozen=True)
class DemoBasket:
    """One bought demo order: its id, buyer (None: no account) and units per product."""

    order_id: uuid.UUID
    user_id: uuid.UUID | None
    lines: dict[uuid.UUID, int]


def theme_baskets(theme: str, skus: Sequence[str]) -> list[DemoBasket]:
    """A theme's baskets: the anchor in each, the k-th other product in every k-th."""
    anchor, others = skus[0], skus[1:]
    baskets = []
    for number in range(BASKETS_PER_THEME):
        chosen = [anchor, *(sku for k, sku in enumerate(others, 1) if number % k == 0)]
        lines = {product_id(s): 2 if s in TWO_OF else 1 for s in chosen}
        order = uuid.uuid5(NAMESPACE, f"suggestions-basket:{theme}:{number}")
        baskets.append(DemoBasket(order, None, lines))
    return baskets


def past_order_baskets() -> list[DemoBasket]:
    """The demo customers' paid orders (ids as subgraphs.seed derives them)."""
    return [
        DemoBasket(
            uuid.uuid5(NAMESPACE, f"order:{number}"),
            user_id(email),
            {product_id(sku): quantity for sku, quantity in lines},
        )
        for number, (email, _, _, lines) in enumerate(PAST_ORDERS, start=1)
    ]


def demo_baskets() -> list[DemoBasket]:
    """Every demo basket: the past orders, then the themes'."""
    themed = [basket for theme, skus in THEMES for basket in theme_baskets(theme, skus)]
    return past_order_baskets() + themed


async def seed_suggestions(db: Database) -> None:
    """Count the demo baskets not counted yet (one transaction)."""
    async with db.session() as session, session.begin():
        for basket in demo_baskets():
            await counts.basket_placed(session, basket.order_id, basket.user_id, basket.lines)
            await counts.basket_bought(session, basket.order_id, basket.user_id)
