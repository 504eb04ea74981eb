"""HTTP clients for the subgraphs orders depends on.

One pooled httpx client per target; every call has a timeout and turns any
transport failure, non-200 or GraphQL error into `UpstreamError`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson

from subgraphs.common.auth import SERVICE, TokenCodec


class UpstreamError(Exception):
    """A call to another subgraph failed; the outcome on its side is unknown."""


class GraphQLClient:
    def __init__(self, url: str, codec: TokenCodec, timeout: float, service_name: str) -> None:
        self.url = url
        self.timeout = timeout
        self._codec = codec
        self._service_name = service_name
        self._token: tuple[str, float] | None = None
        self._http: httpx.AsyncClient | None = None

    def _authorization(self) -> str:
        now = time.monotonic()
        if self._token is None or self._token[1] < now:
            ttl = 300
            self._token = (self._codec.issue(self._service_name, SERVICE, ttl), now + ttl / 2)
        return f"Bearer {self._token[0]}"

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self._http.post(
                self.url,
                content=orjson.dumps({"query": query, "variables": variables}),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": self._authorization(),
                },
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{self.url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise UpstreamError(f"{self.url}: HTTP {response.status_code}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"{self.url}: response is not JSON") from exc
        if body.get("errors") or not isinstance(body.get("data"), dict):
            raise UpstreamError(f"{self.url}: {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


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
        data = await self.client.execute(_QUOTE, {"input": {"lines": payload}})
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
