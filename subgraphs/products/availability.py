"""Which products are in stock: products asks inventory, as the `products` service.

Only the `inStock` filter needs it. Inventory's `inStockProductIds` is an
internal query (service role, @inaccessible). If inventory cannot answer, the
filtered field fails with SERVICE_UNAVAILABLE (the rest of the request still
runs): a storefront can show the list without the filter, and nobody is shown
an in-stock list that is not one.
"""

from __future__ import annotations

import uuid

from subgraphs.common.errors import ServiceUnavailable
from subgraphs.common.service_client import GraphQLClient, UpstreamError

IN_STOCK_IDS = "query InStockProductIds { inStockProductIds }"


class AvailabilityClient:
    """Reads the ids of the products with at least one available unit from inventory."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client

    async def in_stock_ids(self) -> list[uuid.UUID]:
        """Every product id inventory has available units of; ServiceUnavailable on failure."""
        try:
            data = await self.client.execute(IN_STOCK_IDS, {})
            return [uuid.UUID(value) for value in data["inStockProductIds"]]
        except (UpstreamError, KeyError, TypeError, ValueError) as exc:
            raise ServiceUnavailable(
                "Stock levels are unavailable right now, so `inStock` cannot be applied; "
                "retry, or leave the filter out"
            ) from exc

    async def close(self) -> None:
        """Close the pooled HTTP connections."""
        await self.client.close()
