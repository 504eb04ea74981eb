"""The clients of the subgraphs orders depends on, over common.service_client.

Every call has a timeout and turns any transport failure, non-200 or GraphQL
error into `UpstreamError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from subgraphs.common.service_client import GraphQLClient, UpstreamError, UpstreamGraphQLError

# Codes with which a subgraph refuses the request itself: asking again cannot help, so
# they are our bug, not an outage.
_REFUSAL_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHENTICATED",
        "FORBIDDEN",
    }
)


class UpstreamRefused(Exception):
    """A subgraph refused what orders sent it (a bug of ours): not an UpstreamError, so
    no caller reports it as "unavailable, retry"; it surfaces as INTERNAL_SERVER_ERROR."""


def refused(error: UpstreamGraphQLError) -> bool:
    """Whether every error of the answer is a refusal of the request, not an outage."""
    return bool(error.codes) and all(code in _REFUSAL_CODES for code in error.codes)


@dataclass(frozen=True)
class CatalogProduct:
    """A product as the catalogue sells it now: what a cart line is priced from."""

    id: str
    sku: str
    name: str
    price: Decimal
    currency_code: str
    category_slug: str


_PRODUCTS = """
query CatalogProducts($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product { id sku name price { amount currencyCode } category { slug } }
  }
}
"""


def _representations(product_ids: Sequence[str]) -> list[dict[str, str]]:
    return [{"__typename": "Product", "id": p} for p in product_ids]


class CatalogClient:
    """Reads product names, prices and categories from the products subgraph (batched)."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client

    async def products(self, product_ids: Sequence[str]) -> dict[str, CatalogProduct]:
        """The products that exist among `product_ids`, by id (gone ones are left out)."""
        if not product_ids:
            return {}
        data = await self.client.execute(
            _PRODUCTS, {"representations": _representations(product_ids)}
        )
        found = {}
        for entity in data["_entities"]:
            if entity is not None:
                found[entity["id"]] = CatalogProduct(
                    id=entity["id"],
                    sku=entity["sku"],
                    name=entity["name"],
                    price=Decimal(entity["price"]["amount"]),
                    currency_code=entity["price"]["currencyCode"],
                    category_slug=entity["category"]["slug"],
                )
        return found


@dataclass(frozen=True)
class QuoteLine:
    """One cart line as promotions prices it."""

    product_id: str
    category_slug: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Discount:
    """One promotion's reduction of a cart."""

    code: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class DiscountQuote:
    """What promotions takes off a cart: each promotion's share and their sum."""

    discounts: tuple[Discount, ...]
    total: Decimal


NO_DISCOUNT = DiscountQuote((), Decimal("0.00"))

_QUOTE = """
query Quote($input: DiscountQuoteInput!) {
  quoteDiscounts(input: $input) {
    discounts { code description amount { amount currencyCode } }
    discountTotal { amount currencyCode }
  }
}
"""


class PromotionsClient:
    """Asks the promotions subgraph what a cart's lines are discounted by (`quoteDiscounts`)."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client

    async def quote(self, lines: Sequence[QuoteLine], currency: str) -> DiscountQuote:
        """The discounts on `lines`, all priced in `currency`; no call for no lines."""
        if not lines:
            return NO_DISCOUNT
        payload = [
            {
                "productId": line.product_id,
                "categorySlug": line.category_slug,
                "unitPrice": {"amount": str(line.unit_price), "currencyCode": currency},
                "quantity": line.quantity,
            }
            for line in lines
        ]
        try:
            data = await self.client.execute(_QUOTE, {"input": {"lines": payload}})
        except UpstreamGraphQLError as exc:
            if refused(exc):
                raise UpstreamRefused(f"promotions refused the quote: {exc}") from exc
            raise
        quote = data["quoteDiscounts"]
        amounts = [quote["discountTotal"], *(d["amount"] for d in quote["discounts"])]
        if any(amount["currencyCode"] != currency for amount in amounts):
            raise UpstreamError(f"{self.client.url}: discounts not in {currency}")
        return DiscountQuote(
            discounts=tuple(
                Discount(d["code"], d["description"], Decimal(d["amount"]["amount"]))
                for d in quote["discounts"]
            ),
            total=Decimal(quote["discountTotal"]["amount"]),
        )


@dataclass(frozen=True)
class ReservationOutcome:
    status: str | None
    errors: tuple[dict[str, Any], ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def committed(self) -> bool:
        """The units are sold to the order."""
        return self.status == "COMMITTED"

    @property
    def held(self) -> bool:
        """The units are still reserved for the order, not sold."""
        return self.status == "ACTIVE"


_RESERVATION_FIELDS = "reservation { id status } userErrors { code field message }"
_RESERVE = f"""
mutation Reserve($input: ReserveStockInput!) {{
  reserveStock(input: $input) {{ {_RESERVATION_FIELDS} }}
}}
"""
_COMMIT = f"""
mutation Commit($input: CommitReservationInput!) {{
  commitReservation(input: $input) {{ {_RESERVATION_FIELDS} }}
}}
"""
_ABANDON_COMMIT = f"""
mutation AbandonCommit($input: AbandonCommitInput!) {{
  abandonCommit(input: $input) {{ {_RESERVATION_FIELDS} }}
}}
"""
_RELEASE = f"""
mutation Release($input: ReservationIdInput!) {{
  releaseReservation(input: $input) {{ {_RESERVATION_FIELDS} }}
}}
"""


_AVAILABLE = """
query Available($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { id stock { available } } }
}
"""


class InventoryClient:
    """Stock levels, and reserve/commit/release on the inventory subgraph, as `orders`."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client

    async def available(self, product_ids: Sequence[str]) -> dict[str, int]:
        """Units each product has available now (0 for one inventory does not stock)."""
        if not product_ids:
            return {}
        data = await self.client.execute(
            _AVAILABLE, {"representations": _representations(product_ids)}
        )
        levels = {p: 0 for p in product_ids}
        for entity in data["_entities"]:
            if entity is not None:
                levels[entity["id"]] = int(entity["stock"]["available"])
        return levels

    async def _call(self, query: str, field: str, payload: dict[str, Any]) -> ReservationOutcome:
        data = await self.client.execute(query, {"input": payload})
        result = data[field]
        reservation = result.get("reservation")
        return ReservationOutcome(
            status=reservation["status"] if reservation else None,
            errors=tuple(result["userErrors"]),
        )

    async def reserve(
        self, reservation_id: uuid.UUID, lines: Sequence[tuple[str, int]], ttl: timedelta
    ) -> ReservationOutcome:
        payload = {
            "reservationId": str(reservation_id),
            "lines": [{"productId": p, "quantity": q} for p, q in lines],
            "ttlSeconds": int(ttl.total_seconds()),
        }
        return await self._call(_RESERVE, "reserveStock", payload)

    async def commit(self, reservation_id: uuid.UUID, attempt_id: uuid.UUID) -> ReservationOutcome:
        """Sell the reserved units; `attempt_id` lets `abandon_commit` fence this call."""
        return await self._call(
            _COMMIT,
            "commitReservation",
            {"reservationId": str(reservation_id), "attemptId": str(attempt_id)},
        )

    async def abandon_commit(
        self, reservation_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> ReservationOutcome:
        """After giving up on commit(attempt_id): make sure it never lands later.

        The outcome's status is COMMITTED if it had already landed; ACTIVE if
        it had not (the units are still held for the order).
        """
        return await self._call(
            _ABANDON_COMMIT,
            "abandonCommit",
            {"reservationId": str(reservation_id), "attemptId": str(attempt_id)},
        )

    async def release(self, reservation_id: uuid.UUID) -> ReservationOutcome:
        return await self._call(
            _RELEASE, "releaseReservation", {"reservationId": str(reservation_id)}
        )
