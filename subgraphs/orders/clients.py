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
        "PAYMENT_ATTEMPTS_EXCEEDED",  # payments: the order has had its most charge attempts
    }
)
ATTEMPTS_EXCEEDED = "PAYMENT_ATTEMPTS_EXCEEDED"


class UpstreamRefused(Exception):
    """A subgraph refused what orders sent it: not an UpstreamError, so no caller reports
    it as "unavailable, retry". A refusal of the request's values (BAD_USER_INPUT) is
    answered as a userError by the caller; any other (a bug of ours) surfaces as
    INTERNAL_SERVER_ERROR."""

    def __init__(self, message: str, codes: tuple[str | None, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes

    @property
    def bad_input(self) -> bool:
        """Whether the subgraph refused the values sent (not who sent them, or how)."""
        return "BAD_USER_INPUT" in self.codes

    @property
    def attempts_exceeded(self) -> bool:
        """Whether payments refused a new attempt: the order has had its most."""
        return ATTEMPTS_EXCEEDED in self.codes


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
                raise UpstreamRefused(f"promotions refused the quote: {exc}", exc.codes) from exc
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


_RESERVATION_FIELDS = "reservation { id status } userErrors { code field message }"
_RESERVE = f"""
mutation Reserve($input: ReserveStockInput!) {{
  reserveStock(input: $input) {{ {_RESERVATION_FIELDS} }}
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
    """Stock levels, and reserve/release on the inventory subgraph, as `orders`."""

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

    async def release(self, reservation_id: uuid.UUID) -> ReservationOutcome:
        return await self._call(
            _RELEASE, "releaseReservation", {"reservationId": str(reservation_id)}
        )


@dataclass(frozen=True)
class ChargeResult:
    """payments' answer to chargeOrder or settlePayment (see PaymentsClient)."""

    payment_id: str | None
    status: str | None  # CAPTURED, DECLINED, FAILED, PENDING, ...; None: nothing under the key
    reason: str | None
    token_reused: bool


_CHARGE_FIELDS = "paymentId status reason tokenReused"
_CHARGE = f"""
mutation Charge($input: ChargeOrderInput!) {{ chargeOrder(input: $input) {{ {_CHARGE_FIELDS} }} }}
"""
_SETTLE = f"""
mutation Settle($key: String!) {{ settlePayment(idempotencyKey: $key) {{ {_CHARGE_FIELDS} }} }}
"""


@dataclass(frozen=True)
class ChargeRequest:
    """One order's charge, once per `idempotency_key` at payments."""

    order_id: uuid.UUID
    user_id: uuid.UUID
    amount: Decimal
    currency: str
    idempotency_key: str
    payment_token: str


def _charge_result(result: dict[str, Any]) -> ChargeResult:
    return ChargeResult(
        payment_id=result["paymentId"],
        status=result["status"],
        reason=result["reason"],
        token_reused=bool(result["tokenReused"]),
    )


class PaymentsClient:
    """Charges orders and settles unanswered charges on the payments subgraph, as `orders`."""

    def __init__(self, client: GraphQLClient) -> None:
        self.client = client

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """chargeOrder: authorize and capture once per key (a repeated key charges nothing)."""
        payload = {
            "orderId": str(request.order_id),
            "userId": str(request.user_id),
            "amount": f"{request.amount:.2f}",
            "currency": request.currency,
            "idempotencyKey": request.idempotency_key,
            "paymentToken": request.payment_token,
        }
        data = await self._execute(_CHARGE, {"input": payload})
        return _charge_result(data["chargeOrder"])

    async def settle(self, idempotency_key: str) -> ChargeResult:
        """settlePayment: the final state of the charge under the key, asking the gateway if
        payments does not know it yet (status None: nothing was charged under the key)."""
        data = await self._execute(_SETTLE, {"key": idempotency_key})
        return _charge_result(data["settlePayment"])

    async def _execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.client.execute(query, variables)
        except UpstreamGraphQLError as exc:
            if refused(exc):
                raise UpstreamRefused(f"payments refused the call: {exc}", exc.codes) from exc
            raise
