"""inventory: stock levels on Product, reservations for orders, admin adjustments.

reserveStock / commitReservation / abandonCommit / releaseReservation are @inaccessible: the
orders subgraph calls them directly with a service token; they are not part
of the public (router) API.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry

from subgraphs.common.auth import ADMIN, SERVICE
from subgraphs.common.authorization import admin_only, staff_only
from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema, in_chunks
from subgraphs.common.errors import BadUserInput, Forbidden
from subgraphs.common.idempotency import MAX_KEY_LENGTH, clean_idempotency_key
from subgraphs.common.ids import parse_uuid
from subgraphs.common.internal import require_service
from subgraphs.common.types import UserError, UserErrorCode, user_error

from . import live_stock, stock
from .availability import AvailabilityQuery
from .stock import Failure

Info = strawberry.Info[Context, None]
# Nullable because the router removes a field whose whole selection it refuses (as Apollo
# Router does): a guest's `stock { onHand }` must not null the product, or the whole list.
STOCK_DESCRIPTION = (
    "The product's units. Every product has a stock level (zero until adjusted), so this is "
    "null only when inventory cannot be reached (with that error) or when everything "
    "selected in it is refused to the caller (the staff-only counts `onHand` and "
    "`reserved`): the router then answers null here, with an UNAUTHORIZED_FIELD_OR_TYPE "
    "error at each refused field, and the product keeps its other selected fields."
)
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Binds this adjustment to its first request's input (productId and delta): the same key "
    "again with the same productId and delta returns the first adjustment (its onHandAfter "
    "as it was then) and changes nothing; with a different productId or delta it is "
    "IDEMPOTENCY_KEY_REUSED. A refused adjustment (userErrors) did not use its key. "
    f"1-{MAX_KEY_LENGTH} characters, surrounding blanks ignored; one key space for the whole "
    "shop, not one per admin."
)
DEFAULT_TTL_SECONDS = 15 * 60
MAX_TTL_SECONDS = 24 * 3600


def _staff_only(info: Info, field: str) -> None:
    """Refuse `field` to all but admins and services: FORBIDDEN for a guest or a customer
    (the router already removes it without the scope; this guards the subgraph's port)."""
    viewer = info.context.auth.optional_viewer()
    if viewer is None or viewer.role not in (ADMIN, SERVICE):
        raise Forbidden(f"Stock.{field} is for admins and services only")


@strawberry.type(description="Units of one product: available = onHand - reserved.")
class Stock:
    available: int
    units_on_hand: strawberry.Private[int]
    units_reserved: strawberry.Private[int]

    @strawberry.field(
        description="Units in the warehouse. Admins and services only: null, with an "
        "error, for anyone else.",
        directives=[staff_only()],
    )
    def on_hand(self, info: Info) -> int | None:
        _staff_only(info, "onHand")
        return self.units_on_hand

    @strawberry.field(
        description="Units held for unpaid orders. Admins and services only: null, with an "
        "error, for anyone else.",
        directives=[staff_only()],
    )
    def reserved(self, info: Info) -> int | None:
        _staff_only(info, "reserved")
        return self.units_reserved


async def load_stock(context: Context, product_id: str) -> Stock:
    async def load(ids: Sequence[str]) -> list[Stock]:
        parsed = [parse_uuid(i) for i in ids]
        wanted = list(dict.fromkeys(p for p in parsed if p is not None))
        levels: dict[uuid.UUID, tuple[int, int]] = {}
        for part in in_chunks(wanted):
            levels.update(await stock.stock_levels(context.db, part))
        result = []
        for product_id in parsed:
            on_hand, reserved = levels.get(product_id, (0, 0)) if product_id else (0, 0)
            result.append(
                Stock(
                    available=on_hand - reserved,
                    units_on_hand=on_hand,
                    units_reserved=reserved,
                )
            )
        return result

    return await context.loader("stock", load).load(product_id)


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Product:
        # Every product has a stock level (zero until adjusted), so no lookup here;
        # the stock fields batch their reads per request.
        return cls(id=id)

    @strawberry.field(description=STOCK_DESCRIPTION)
    async def stock(self, info: Info) -> Stock | None:
        return await load_stock(info.context, str(self.id))

    @strawberry.field(description="Whether at least one unit is available.")
    async def in_stock(self, info: Info) -> bool:
        return (await load_stock(info.context, str(self.id))).available > 0


@strawberry.enum
class ReservationStatus(Enum):
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


@strawberry.type
class ReservationLine:
    product: Product
    quantity: int


@strawberry.type(description="Units held for an order until it is paid or expires.")
class Reservation:
    id: strawberry.ID
    status: ReservationStatus
    expires_at: datetime
    created_at: datetime
    lines: list[ReservationLine]

    @classmethod
    def of(cls, value: stock.Reservation) -> Reservation:
        return cls(
            id=strawberry.ID(str(value.id)),
            status=ReservationStatus(value.status),
            expires_at=value.expires_at,
            created_at=value.created_at,
            lines=[
                ReservationLine(product=Product(id=strawberry.ID(str(p))), quantity=q)
                for p, q in value.lines
            ],
        )


@strawberry.type
class StockAdjustment:
    idempotency_key: str
    product: Product
    delta: int
    on_hand_after: int
    created_at: datetime


@strawberry.input
class AdjustStockInput:
    product_id: strawberry.ID
    delta: int = strawberry.field(description="Units to add (negative to remove).")
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY_DESCRIPTION)


@strawberry.type
class AdjustStockPayload:
    adjustment: StockAdjustment | None = None
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.federation.input(inaccessible=True)
class ReservationLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.federation.input(inaccessible=True)
class ReserveStockInput:
    reservation_id: strawberry.ID
    lines: list[ReservationLineInput]
    ttl_seconds: int = DEFAULT_TTL_SECONDS


@strawberry.federation.input(inaccessible=True)
class ReservationIdInput:
    reservation_id: strawberry.ID


@strawberry.federation.input(inaccessible=True)
class CommitReservationInput:
    reservation_id: strawberry.ID
    attempt_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The caller's attempt (a UUID); abandonCommit with it fences this commit.",
    )


@strawberry.federation.input(inaccessible=True)
class AbandonCommitInput:
    reservation_id: strawberry.ID
    attempt_id: strawberry.ID


@strawberry.federation.type(inaccessible=True)
class ReservationPayload:
    reservation: Reservation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _reservation_id(value: strawberry.ID) -> uuid.UUID:
    parsed = parse_uuid(str(value))
    if parsed is None:
        raise BadUserInput("reservationId must be a UUID")
    return parsed


def _attempt_id(value: strawberry.ID) -> uuid.UUID:
    parsed = parse_uuid(str(value))
    if parsed is None:
        raise BadUserInput("attemptId must be a UUID")
    return parsed


def _payload(result: stock.ReservationResult) -> ReservationPayload:
    reservation = Reservation.of(result.reservation) if result.reservation else None
    if result.failure is None:
        return ReservationPayload(reservation=reservation)
    if result.failure is Failure.NOT_FOUND:
        error = user_error(UserErrorCode.RESERVATION_NOT_FOUND, "No such reservation")
    elif result.failure is Failure.ABANDONED:
        error = user_error(
            UserErrorCode.RESERVATION_NOT_ACTIVE,
            "This commit attempt was abandoned by its caller; nothing was changed",
            "input",
            "attemptId",
        )
    elif result.failure is Failure.KEY_REUSED:
        error = user_error(
            UserErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This reservation id was already used with different lines",
            "input",
            "reservationId",
        )
    else:
        status = result.reservation.status if result.reservation else "unknown"
        error = user_error(
            UserErrorCode.RESERVATION_NOT_ACTIVE,
            f"Reservation is {status}",
            "input",
            "reservationId",
        )
    return ReservationPayload(reservation=reservation, user_errors=[error])


def _not_a_product_id(*field: str) -> UserError:
    return user_error(
        UserErrorCode.PRODUCT_NOT_FOUND, "productId must be a product id", "input", *field
    )


def _adjustment_input(
    input: AdjustStockInput, product_id: uuid.UUID | None
) -> tuple[str, list[UserError]]:
    """The adjustment's idempotency key, and every rule its input breaks."""
    errors = []
    if product_id is None:
        errors.append(_not_a_product_id("productId"))
    if input.delta == 0 or abs(input.delta) > 1_000_000:
        errors.append(
            user_error(
                UserErrorCode.INVALID_QUANTITY,
                "delta must be non-zero and at most 1000000 in size",
                "input",
                "delta",
            )
        )
    key, key_error = clean_idempotency_key(input.idempotency_key)
    if key_error is not None:
        errors.append(key_error)
    return key, errors


def _adjusted(result: stock.AdjustmentResult) -> AdjustStockPayload:
    if result.failure is Failure.KEY_REUSED:
        return AdjustStockPayload(
            user_errors=[
                user_error(
                    UserErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "This idempotencyKey was used for a different adjustment",
                    "input",
                    "idempotencyKey",
                )
            ]
        )
    if result.failure is Failure.INSUFFICIENT_STOCK or result.adjustment is None:
        return AdjustStockPayload(
            user_errors=[
                user_error(
                    UserErrorCode.INSUFFICIENT_STOCK,
                    "Cannot remove more units than are on hand and unreserved",
                    "input",
                    "delta",
                )
            ]
        )
    done = result.adjustment
    product = Product(id=strawberry.ID(str(done.product_id)))
    return AdjustStockPayload(
        adjustment=StockAdjustment(
            idempotency_key=done.idempotency_key,
            product=product,
            delta=done.delta,
            on_hand_after=done.on_hand_after,
            created_at=done.created_at,
        ),
        product=product,
    )


def _reservation_input(
    input: ReserveStockInput,
) -> tuple[list[tuple[uuid.UUID, int]], list[UserError]]:
    """The lines to reserve as (product id, quantity), and every rule the input breaks."""
    errors = []
    lines = []
    if not input.lines:
        errors.append(
            user_error(UserErrorCode.INVALID_INPUT, "lines must not be empty", "input", "lines")
        )
    for index, line in enumerate(input.lines):
        product_id = parse_uuid(str(line.product_id))
        errors += _line_errors(line, product_id, index)
        if product_id is not None:
            lines.append((product_id, line.quantity))
    if not 0 < input.ttl_seconds <= MAX_TTL_SECONDS:
        errors.append(
            user_error(
                UserErrorCode.INVALID_INPUT,
                f"ttlSeconds must be 1-{MAX_TTL_SECONDS}",
                "input",
                "ttlSeconds",
            )
        )
    return lines, errors


def _line_errors(
    line: ReservationLineInput, product_id: uuid.UUID | None, index: int
) -> list[UserError]:
    errors = []
    if product_id is None:
        errors.append(_not_a_product_id("lines", str(index), "productId"))
    if line.quantity <= 0:
        errors.append(
            user_error(
                UserErrorCode.INVALID_QUANTITY,
                "quantity must be positive",
                "input",
                "lines",
                str(index),
                "quantity",
            )
        )
    return errors


def _shortage_errors(
    input: ReserveStockInput, shortages: Sequence[stock.Shortage]
) -> list[UserError]:
    """One userError per short product, at the first input line that asked for it."""
    index_of: dict[uuid.UUID | None, int] = {}
    for index, line in enumerate(input.lines):
        index_of.setdefault(parse_uuid(str(line.product_id)), index)
    return [
        user_error(
            UserErrorCode.INSUFFICIENT_STOCK,
            f"Only {s.available} available of product {s.product_id}, {s.requested} requested",
            "input",
            "lines",
            str(index_of[s.product_id]),
            "quantity",
        )
        for s in shortages
    ]


@strawberry.type
class Query(AvailabilityQuery):
    @strawberry.field(
        description="A reservation by id (admin or service).", directives=[staff_only()]
    )
    async def reservation(self, info: Info, id: strawberry.ID) -> Reservation | None:
        info.context.auth.require_service_or_admin()
        parsed = parse_uuid(str(id))
        found = await stock.get_reservation(info.context.db, parsed) if parsed else None
        return Reservation.of(found) if found else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Admin only. Repeating an idempotencyKey returns the first result.",
        directives=[admin_only()],
    )
    async def adjust_stock(self, info: Info, input: AdjustStockInput) -> AdjustStockPayload:
        viewer = info.context.auth.require_admin()
        product_id = parse_uuid(str(input.product_id))
        key, errors = _adjustment_input(input, product_id)
        if errors:
            return AdjustStockPayload(user_errors=errors)
        assert product_id is not None
        result = await stock.adjust(info.context.db, product_id, input.delta, key, viewer.user_id)
        return _adjusted(result)

    @strawberry.federation.mutation(inaccessible=True)
    async def reserve_stock(self, info: Info, input: ReserveStockInput) -> ReservationPayload:
        require_service(info.context.auth)
        reservation_id = _reservation_id(input.reservation_id)
        lines, errors = _reservation_input(input)
        if errors:
            return ReservationPayload(user_errors=errors)
        result = await stock.reserve(
            info.context.db, reservation_id, lines, timedelta(seconds=input.ttl_seconds)
        )
        if result.failure is Failure.INSUFFICIENT_STOCK:
            return ReservationPayload(user_errors=_shortage_errors(input, result.shortages))
        return _payload(result)

    @strawberry.federation.mutation(inaccessible=True)
    async def commit_reservation(
        self, info: Info, input: CommitReservationInput
    ) -> ReservationPayload:
        require_service(info.context.auth)
        reservation_id = _reservation_id(input.reservation_id)
        attempt = None if input.attempt_id is None else _attempt_id(input.attempt_id)
        return _payload(await stock.commit(info.context.db, reservation_id, attempt))

    @strawberry.federation.mutation(
        inaccessible=True,
        description="The caller stopped waiting for commitReservation(attemptId): a commit "
        "with that attempt that has not run yet never will. The reservation's status says "
        "which happened (COMMITTED: it ran first).",
    )
    async def abandon_commit(self, info: Info, input: AbandonCommitInput) -> ReservationPayload:
        require_service(info.context.auth)
        reservation_id = _reservation_id(input.reservation_id)
        attempt = _attempt_id(input.attempt_id)
        return _payload(await stock.abandon_commit(info.context.db, reservation_id, attempt))

    @strawberry.federation.mutation(inaccessible=True)
    async def release_reservation(
        self, info: Info, input: ReservationIdInput
    ) -> ReservationPayload:
        require_service(info.context.auth)
        return _payload(await stock.release(info.context.db, _reservation_id(input.reservation_id)))


async def _stocks(levels: AsyncIterator[live_stock.Level]) -> AsyncGenerator[Stock, None]:
    async for on_hand, reserved in levels:
        yield Stock(available=on_hand - reserved, units_on_hand=on_hand, units_reserved=reserved)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The product's stock now, then again each time its units change (an "
        "adjustment, a reservation, a release or expiry, a sale); changes close together "
        "may come as one event with the latest counts. Anyone may watch `available`; "
        "`onHand` and `reserved` are for admins and services, as in Product.stock. Served "
        "over WebSocket (graphql-transport-ws)."
    )
    async def stock_changed(
        self,
        info: Info,
        product_id: Annotated[
            strawberry.ID, strawberry.argument(description="The product to watch.")
        ],
    ) -> AsyncGenerator[Stock, None]:
        return _stocks(live_stock.stock_levels(info.context, str(product_id)))


schema = EntitySchema(
    query=Query, mutation=Mutation, subscription=Subscription, federation_version="2.7"
)
