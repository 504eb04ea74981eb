"""payments: the shop's charges, and `Order.payment` / `Order.payments` by entity jump.

Public: `Payment` (an entity) and the order's payments, seen only by the order's
owner (the user id recorded on the payment), admins and services; anyone else
gets null / [] (the order itself is orders' to protect). Internal (`@inaccessible`,
service role): `chargeOrder` and `settlePayment`, which orders' `pay` and its
sweep call (charging.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from sqlalchemy import select

from subgraphs.common.auth import ADMIN, SERVICE, Viewer
from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema, in_chunks
from subgraphs.common.errors import BadUserInput
from subgraphs.common.idempotency import clean_idempotency_key
from subgraphs.common.ids import parse_uuid
from subgraphs.common.internal import require_service
from subgraphs.common.types import CurrencyCode, Money, decimal_problem

from . import charging
from .charging import ChargeRequest, ChargeState, PaymentsServices
from .models import CAPTURED, REFUNDED, PaymentRow

Info = strawberry.Info[Context, None]
MAX_TOKEN_LENGTH = 500
# ASCII digits only: re's \d would match other scripts' digits too.
PLAIN_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")


@strawberry.enum(description="Where a charge attempt stands.")
class PaymentStatus(Enum):
    """PENDING/AUTHORIZED: in flight; CAPTURED: paid; DECLINED: the card said no; REFUNDED:
    paid then given back; FAILED: the gateway could not be reached, nothing was charged."""

    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    DECLINED = "DECLINED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


def _may_see(viewer: Viewer | None, row: PaymentRow) -> bool:
    if viewer is None:
        return False
    return viewer.role in (ADMIN, SERVICE) or viewer.user_id == str(row.user_id)


@strawberry.federation.type(keys=["id"], description="One attempt to charge an order.")
class Payment:
    """A charge attempt: its status, amount, gateway and, when it failed or was refunded, why."""

    id: strawberry.ID
    status: PaymentStatus
    amount: Money
    gateway: str = strawberry.field(description='The gateway that charged: "fake", "stripe".')
    created_at: datetime
    updated_at: datetime
    reason: str | None = strawberry.field(
        description="Why it was declined, failed or refunded; null otherwise."
    )
    row: strawberry.Private[PaymentRow]

    @classmethod
    def of(cls, row: PaymentRow) -> Payment:
        """The Payment of a stored row."""
        return cls(
            id=strawberry.ID(str(row.id)),
            status=PaymentStatus(row.status),
            amount=Money.of(row.amount, row.currency_code),
            gateway=row.gateway,
            created_at=row.created_at,
            updated_at=row.updated_at,
            reason=row.reason,
            row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Payment | None:
        """The payment, for its order's owner, admins and services; else null."""
        row = await _payment_by_id(info, str(id))
        if row is None or not _may_see(info.context.auth.optional_viewer(), row):
            return None
        return cls.of(row)

    @strawberry.field(description="The order this payment was for.")
    def order(self) -> Order:
        return Order(id=strawberry.ID(str(self.row.order_id)))


async def _payment_by_id(info: Info, payment_id: str) -> PaymentRow | None:
    """The payment `payment_id` names, if any (one query per request's batch)."""

    async def load(ids: Sequence[str]) -> list[PaymentRow | None]:
        parsed = [parse_uuid(i) for i in ids]
        wanted = list(dict.fromkeys(p for p in parsed if p is not None))
        found: dict[uuid.UUID, PaymentRow] = {}
        async with info.context.db.session() as session:
            for part in in_chunks(wanted):
                rows = await session.scalars(select(PaymentRow).where(PaymentRow.id.in_(part)))
                found.update((row.id, row) for row in rows)
        return [found.get(p) if p else None for p in parsed]

    return await info.context.loader("payments", load).load(payment_id)


async def _payments_of(info: Info, order_id: str) -> list[PaymentRow]:
    """The order's payments the viewer may see, newest first (batched per request)."""

    async def load(ids: Sequence[str]) -> list[list[PaymentRow]]:
        parsed = [parse_uuid(i) for i in ids]
        wanted = list(dict.fromkeys(p for p in parsed if p is not None))
        grouped: dict[uuid.UUID, list[PaymentRow]] = {}
        async with info.context.db.session() as session:
            for part in in_chunks(wanted):
                rows = await session.scalars(
                    select(PaymentRow)
                    .where(PaymentRow.order_id.in_(part))
                    .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
                )
                for row in rows:
                    grouped.setdefault(row.order_id, []).append(row)
        return [grouped.get(p, []) if p else [] for p in parsed]

    rows = await info.context.loader("order_payments", load).load(order_id)
    viewer = info.context.auth.optional_viewer()
    return [row for row in rows if _may_see(viewer, row)]


@strawberry.federation.type(keys=["id"])
class Order:
    """orders' Order, with the payments made for it."""

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        """Any order id: one with no payments has none (orders decides if it exists)."""
        return cls(id=id)

    @strawberry.field(
        description="The order's CAPTURED or REFUNDED payment if any, else its latest "
        "attempt; null if none. Its owner, admins and services only (null for others)."
    )
    async def payment(self, info: Info) -> Payment | None:
        rows = await _payments_of(info, str(self.id))
        settled = [row for row in rows if row.status in (CAPTURED, REFUNDED)]
        chosen = settled[0] if settled else (rows[0] if rows else None)
        return None if chosen is None else Payment.of(chosen)

    @strawberry.field(
        description="Every attempt to pay the order, newest first. Its owner, admins and "
        "services only ([] for others); null when payments cannot be reached."
    )
    async def payments(self, info: Info) -> list[Payment] | None:
        # Nullable so that payments being down nulls this field only, not the whole Order
        # (a non-null list would propagate the router's failed fetch up to `order`).
        return [Payment.of(row) for row in await _payments_of(info, str(self.id))]


@strawberry.federation.input(inaccessible=True)
class ChargeOrderInput:
    """What orders asks to charge: the order, its owner, the amount and the card token."""

    order_id: strawberry.ID
    user_id: strawberry.ID
    amount: str = strawberry.field(description='Decimal string, e.g. "12.50".')
    currency: str
    idempotency_key: str
    payment_token: str


@strawberry.federation.type(inaccessible=True)
class ChargeResult:
    """A charge's state. status null: nothing was charged under the key (unknown key, or
    tokenReused: the key was first used for another charge)."""

    payment_id: strawberry.ID | None
    status: PaymentStatus | None
    reason: str | None
    token_reused: bool

    @classmethod
    def of(cls, state: ChargeState) -> ChargeResult:
        """The GraphQL form of a charge state."""
        return cls(
            payment_id=None if state.payment_id is None else strawberry.ID(str(state.payment_id)),
            status=None if state.status is None else PaymentStatus(state.status),
            reason=state.reason,
            token_reused=state.token_reused,
        )


def _id(value: str, name: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise BadUserInput(f"`input.{name}` must be a UUID", field=["input", name])
    return parsed


def _amount(text: str) -> Decimal:
    """A plain ASCII decimal ("12.50"): Decimal() alone would also take "1_000", "1E+2"
    and other scripts' digits, none of which orders ever sends."""
    if not PLAIN_AMOUNT.fullmatch(text):
        raise BadUserInput(
            '`input.amount` must be a plain decimal such as "12.50"', field=["input", "amount"]
        )
    amount = Decimal(text)
    problem = decimal_problem(amount, 12, 2) or (None if amount > 0 else "must be positive")
    if problem is not None:
        raise BadUserInput(f"`input.amount` {problem}", field=["input", "amount"])
    return amount


def charge_request(input: ChargeOrderInput) -> ChargeRequest:
    """chargeOrder's input checked: BAD_USER_INPUT naming the first field that is wrong."""
    key, problem = clean_idempotency_key(input.idempotency_key)
    if problem is not None:
        raise BadUserInput(problem.message, field=["input", "idempotencyKey"])
    if input.currency not in CurrencyCode.__members__:
        raise BadUserInput("`input.currency` must be USD, EUR or GBP", field=["input", "currency"])
    if not input.payment_token.strip() or len(input.payment_token) > MAX_TOKEN_LENGTH:
        message = f"`input.paymentToken` must be 1-{MAX_TOKEN_LENGTH} characters, not blank"
        raise BadUserInput(message, field=["input", "paymentToken"])
    return ChargeRequest(
        order_id=_id(str(input.order_id), "orderId"),
        user_id=_id(str(input.user_id), "userId"),
        amount=_amount(input.amount),
        currency=input.currency,
        key=key,
        token=input.payment_token,
    )


def _services(info: Info) -> PaymentsServices:
    services: PaymentsServices = info.context.services
    return services


@strawberry.type
class Mutation:
    """The internal charge and settle operations orders calls."""

    @strawberry.federation.mutation(
        inaccessible=True,
        description="Internal (orders, service role): authorize and capture once per "
        "idempotencyKey; the same key again answers the first charge's state.",
    )
    async def charge_order(self, info: Info, input: ChargeOrderInput) -> ChargeResult:
        require_service(info.context.auth)
        request = charge_request(input)
        return ChargeResult.of(await charging.charge(_services(info), request))

    @strawberry.federation.mutation(
        inaccessible=True,
        description="Internal (orders, service role): settle a payment left in flight by "
        "asking the gateway. Unknown key: status null (nothing was charged under it).",
    )
    async def settle_payment(self, info: Info, idempotency_key: str) -> ChargeResult:
        require_service(info.context.auth)
        key, problem = clean_idempotency_key(idempotency_key)
        if problem is not None:
            raise BadUserInput(problem.message, field=["idempotencyKey"])
        return ChargeResult.of(await charging.settle(_services(info), key))


schema = EntitySchema(types=[Payment, Order], mutation=Mutation, federation_version="2.7")
