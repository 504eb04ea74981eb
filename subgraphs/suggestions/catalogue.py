"""What suggestions needs from the products subgraph: each product's name and category.

Asked with `_entities` (a service token, common.service_client) for the products that
were ever bought (the only ones a fallback can offer) and for a product asked about
that is not known yet; kept in memory and refreshed periodically. When products cannot
be reached, what is cached keeps serving, and asking again waits `retry_seconds`:
suggestions then answer with the co-purchase counts alone (no category fallback).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from subgraphs.common.database import Database
from subgraphs.common.entities import in_chunks
from subgraphs.common.service_client import GraphQLClient, UpstreamError

from .models import ProductSalesRow

logger = logging.getLogger("shopgraph.suggestions")

_PRODUCTS = """
query SuggestionsCatalogue($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product { id name category { slug } }
  }
}
"""
CHUNK = 500  # representations per call


@dataclass(frozen=True)
class CatalogueEntry:
    """A product's name and category slug."""

    id: str
    name: str
    category: str


@dataclass
class Catalogue:
    """The cached names and categories of the products suggestions deals with."""

    client: GraphQLClient | None
    retry_seconds: float = 5.0
    entries: dict[str, CatalogueEntry] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # products answered null: none such
    _failed_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def category_members(self, category: str) -> list[str]:
        """The known products of `category`."""
        return [e.id for e in self.entries.values() if e.category == category]

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """The known names among `ids`."""
        return {i: self.entries[i].name for i in ids if i in self.entries}

    def _available(self) -> bool:
        if self.client is None:
            return False
        return self._failed_at is None or time.monotonic() - self._failed_at > self.retry_seconds

    async def lookup(self, ids: Collection[str]) -> dict[str, CatalogueEntry]:
        """The entries of `ids`, asking products for those not known yet (when it answers)."""
        unknown = [i for i in ids if i not in self.entries and i not in self.missing]
        if unknown and self._available():
            async with self._lock:
                # another request may have fetched them, or found products down, meanwhile
                unknown = [i for i in unknown if i not in self.entries and i not in self.missing]
                if unknown and self._available():
                    await self._fetch(unknown)
        return {i: self.entries[i] for i in ids if i in self.entries}

    async def refresh(self, db: Database) -> None:
        """Ask products again about every product ever bought (the periodic job)."""
        async with db.session() as session:
            ids = [str(p) for p in await session.scalars(select(ProductSalesRow.product_id))]
        if self.client is not None and ids:
            async with self._lock:
                self.missing.clear()
                await self._fetch(ids)

    async def _fetch(self, ids: list[str]) -> None:
        try:
            for chunk in in_chunks(ids, CHUNK):
                await self._fetch_chunk(chunk)
        except UpstreamError as error:
            if self._failed_at is None:
                logger.warning("suggestions: products unavailable, no fallback: %s", error)
            self._failed_at = time.monotonic()
            return
        self._failed_at = None

    async def _fetch_chunk(self, ids: Iterable[str]) -> None:
        assert self.client is not None
        wanted = list(ids)
        representations = [{"__typename": "Product", "id": i} for i in wanted]
        data = await self.client.execute(_PRODUCTS, {"representations": representations})
        for product_id, entity in zip(wanted, data["_entities"], strict=False):
            if entity is None:
                self.entries.pop(product_id, None)
                self.missing.add(product_id)
            else:
                slug = entity["category"]["slug"]
                self.entries[product_id] = CatalogueEntry(product_id, entity["name"], slug)
