"""inStockProductIds: the products with at least one available unit, for products' filter.

Internal (service role, @inaccessible): the products subgraph asks it to apply
`products(filter: {inStock})` with it.
"""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from subgraphs.common.context import Context
from subgraphs.common.internal import require_service

from .models import StockItemRow

Info = strawberry.Info[Context, None]


@strawberry.type
class AvailabilityQuery:
    """The internal availability query, mixed into inventory's Query."""

    @strawberry.federation.field(
        inaccessible=True,
        description="Ids of the products with available units (onHand - reserved > 0); "
        "service role only.",
    )
    async def in_stock_product_ids(self, info: Info) -> list[strawberry.ID]:
        """Every product id whose available units are positive (internal)."""
        require_service(info.context.auth)
        available = StockItemRow.on_hand - StockItemRow.reserved
        stmt = select(StockItemRow.product_id).where(available > 0)
        async with info.context.db.session() as session:
            ids = (await session.scalars(stmt)).all()
        return [strawberry.ID(str(product_id)) for product_id in ids]
