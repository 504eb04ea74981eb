"""orders: carts, checkout, the order lifecycle, and User.orders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy import select
from strawberry import ID
from strawberry.federation.schema_directives import Authenticated

from subgraphs.common.auth import Viewer
from subgraphs.common.authorization import admin_only
from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema, in_chunks
from subgraphs.common.errors import BadUserInput, Forbidden
from subgraphs.common.ids import parse_uuid
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import Connection, PageArgs
from subgraphs.common.types import CurrencyCode, Money, UserError, check_decimal

from . import cart as carts
from . import checkout as checkouts
from . import lifecycle, live_orders, paying, user_orders
from .cart_graph import UNPRICED_NOTE, Cart, cart_of
from .graph_types import AppliedPromotion, Product
from .models import OrderLineRow, OrderPromotionRow, OrderRow
from .price_changes import Expected, ExpectedTotal
from .price_digest import DIGEST_MAX_LENGTH
from .pricing import MAX_CART_LINES, MAX_ORDER_AMOUNT
from .services import OrdersServices

Info = strawberry.Info[Context, None]
# Providers' card tokens are a few dozen characters; longer is not a token.
PAYMENT_TOKEN_LENGTH = 255
CART_FIELD_DESCRIPTION = (
    "The signed-in user's cart, priced now. Null with an error for a guest (the router "
    "answers UNAUTHORIZED_FIELD_OR_TYPE: @authenticated) and when the cart cannot be priced "
    "now: SERVICE_UNAVAILABLE if the catalogue or promotions cannot be reached, "
    "CURRENCY_MISMATCH if its products' currencies diverged, CART_FULL if it holds more than "
    "one order can (a price raised since). A total is never shown without "
    "its discount; the query's other root fields still answer."
)


def _services(info: Info) -> OrdersServices:
    return cast(OrdersServices, info.context.services)


def _viewer_id(info: Info) -> uuid.UUID:
    viewer = info.context.auth.require_viewer()
    try:
        return uuid.UUID(viewer.user_id)
    except ValueError as exc:
        raise Forbidden("This token's subject cannot own a cart or orders") from exc


@strawberry.enum
class OrderStatus(Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class CancelReason(Enum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"
    EXPIRED = "EXPIRED"
    OUT_OF_STOCK = "OUT_OF_STOCK"  # paid, but inventory could not commit its stock: refunded


@strawberry.type(description="A product as it was sold: name and price are frozen at checkout.")
class OrderLine:
    line_number: int
    product: Product
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


async def _order_rows(context: Context, order_id: str) -> OrderRow | None:
    async def load(ids: Sequence[str]) -> list[OrderRow | None]:
        wanted = list(dict.fromkeys(u for u in map(parse_uuid, ids) if u is not None))
        rows: list[OrderRow] = []
        async with context.db.session() as session:
            for part in in_chunks(wanted):
                rows += (await session.scalars(select(OrderRow).where(OrderRow.id.in_(part)))).all()
        found = {str(row.id): row for row in rows}
        return [found.get(str(parse_uuid(i))) for i in ids]

    return await context.loader("orders", load).load(order_id)


async def _rows_per_order(
    context: Context, order_ids: list[uuid.UUID], model: Any, *order_by: Any
) -> dict[uuid.UUID, list[Any]]:
    """The `model` rows (order lines, applied promotions) of each of `order_ids`, in
    `order_by` order, read with bounded IN lists."""
    rows: list[Any] = []
    async with context.db.session() as session:
        for part in in_chunks(order_ids):
            stmt = select(model).where(model.order_id.in_(part)).order_by(*order_by)
            rows += (await session.scalars(stmt)).all()
    grouped: dict[uuid.UUID, list[Any]] = {order_id: [] for order_id in order_ids}
    for row in rows:
        grouped[row.order_id].append(row)
    return grouped


def _order_line(row: OrderLineRow, currency: str) -> OrderLine:
    return OrderLine(
        line_number=row.line_number,
        product=Product(id=strawberry.ID(str(row.product_id))),
        sku=row.sku,
        name=row.name,
        quantity=row.quantity,
        unit_price=Money.of(row.unit_price, currency),
        line_total=Money.of(row.unit_price * row.quantity, currency),
    )


async def _order_lines(context: Context, order: OrderRow) -> list[OrderLine]:
    async def load(keys: Sequence[tuple[uuid.UUID, str]]) -> list[list[OrderLine]]:
        currency = dict(keys)
        grouped = await _rows_per_order(
            context, list(currency), OrderLineRow, OrderLineRow.order_id, OrderLineRow.line_number
        )
        return [[_order_line(row, code) for row in grouped[order_id]] for order_id, code in keys]

    return await context.loader("order_lines", load).load((order.id, order.currency_code))


def _check_owner(viewer: Viewer, row: OrderRow) -> None:
    if str(row.user_id) != viewer.user_id and not viewer.is_admin:
        raise Forbidden("Not allowed to see another user's order")


async def _order_promotions(context: Context, order: OrderRow) -> list[AppliedPromotion]:
    async def load(keys: Sequence[tuple[uuid.UUID, str]]) -> list[list[AppliedPromotion]]:
        order_ids = list(dict(keys))
        grouped = await _rows_per_order(
            context, order_ids, OrderPromotionRow, OrderPromotionRow.position
        )
        return [
            [
                AppliedPromotion(
                    code=row.code, description=row.description, amount=Money.of(row.amount, code)
                )
                for row in grouped[order_id]
            ]
            for order_id, code in keys
        ]

    return await context.loader("order_promotions", load).load((order.id, order.currency_code))


@strawberry.federation.type(
    keys=["id"],
    description="An order; its money was frozen at checkout: subtotal - discountTotal = total.",
)
class Order:
    id: strawberry.ID
    status: OrderStatus
    subtotal: Money = strawberry.field(description="The sum of the line totals.")
    discount_total: Money = strawberry.field(
        description="What the applied promotions took off, together."
    )
    total: Money = strawberry.field(description="What the order costs: subtotal - discountTotal.")
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = strawberry.field(
        description="When an unpaid order is cancelled and its stock released."
    )
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: CancelReason | None
    row: strawberry.Private[OrderRow]

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=OrderStatus(row.status),
            subtotal=Money.of(row.subtotal, row.currency_code),
            discount_total=Money.of(row.discount_total, row.currency_code),
            total=Money.of(row.total, row.currency_code),
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            paid_at=row.paid_at,
            fulfilled_at=row.fulfilled_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=CancelReason(row.cancel_reason) if row.cancel_reason else None,
            row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Order | None:
        viewer = info.context.auth.require_viewer()
        row = await _order_rows(info.context, str(id))
        if row is None:
            return None
        _check_owner(viewer, row)
        return cls.from_row(row)

    @strawberry.field
    def customer(self) -> User:
        return User(id=strawberry.ID(str(self.row.user_id)))

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return await _order_lines(info.context, self.row)

    @strawberry.field
    async def item_count(self, info: Info) -> int:
        return sum(line.quantity for line in await _order_lines(info.context, self.row))

    @strawberry.field(description="The promotions applied at checkout, as they were then.")
    async def applied_promotions(self, info: Info) -> list[AppliedPromotion]:
        return await _order_promotions(info.context, self.row)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(description="This user's orders, newest first (the user or an admin).")
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: OrderStatus | None = None,
    ) -> Connection[Order]:
        info.context.auth.require_self_or_admin(str(self.id))
        owner = parse_uuid(str(self.id))
        if owner is None:
            raise BadUserInput("User id must be a UUID")
        args = PageArgs(first, after, last, before)
        state = status.value if status else None
        return await user_orders.user_order_connection(
            info.context, owner, args, state, Order.from_row
        )


@strawberry.input
class AddToCartInput:
    product_id: strawberry.ID
    quantity: int = 1


@strawberry.input
class UpdateCartLineInput:
    product_id: strawberry.ID
    quantity: int = strawberry.field(description="The line's new quantity; 0 removes the line.")


@strawberry.input
class RemoveFromCartInput:
    product_id: strawberry.ID


@strawberry.input
class MoneyInput:
    """An amount and its currency as a client sends them (as products' MoneyInput)."""

    amount: Decimal
    currency_code: CurrencyCode


@strawberry.input
class CheckoutInput:
    idempotency_key: str = strawberry.field(
        description=(
            "Binds this checkout to the order it makes: the same key again returns that order "
            "and changes nothing, provided the rest of the input (expectedTotal and "
            "expectedPriceDigest) is the same; with a different one it is "
            "IDEMPOTENCY_KEY_REUSED. A checkout that failed with userErrors made no order and "
            "did not use its key: retry with it."
        )
    )
    expected_total: MoneyInput | None = strawberry.field(
        default=None,
        description=(
            "The total the customer was shown (Cart.total). Checkout prices the cart again; "
            "if the total is now different (a price or a promotion changed) it makes no "
            "order, reserves nothing, leaves the cart as it is and answers PRICE_CHANGED "
            "naming both totals. Leave it out to accept the current total."
        ),
    )
    expected_price_digest: str | None = strawberry.field(
        default=None,
        description=(
            "The priceDigest of the cart the customer was shown (Cart.priceDigest). If its "
            "lines (product, quantity, unit price) or promotions (code, amount) are now "
            "different, even with the same total, checkout makes no order, reserves nothing, "
            "leaves the cart as it is and answers PRICE_CHANGED on this field, giving the "
            "figures now. Leave it out to accept the cart as priced now; with expectedTotal "
            "too, each one that no longer matches has its own PRICE_CHANGED."
        ),
        metadata=max_length(DIGEST_MAX_LENGTH),
    )


@strawberry.input
class PayInput:
    order_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description=(
            "Binds this payment attempt to its first request's input: the same key with the "
            "same orderId and paymentToken returns the first attempt's result and charges "
            "nothing more; with a different orderId or paymentToken it is "
            "IDEMPOTENCY_KEY_REUSED. A declined payment uses up its key: pay again with a "
            "new key (and the new token). A SERVICE_UNAVAILABLE answer says what to do: "
            "'Payments are unavailable; nothing was charged' did not use the key (retry with "
            "the same key, with this or another paymentToken); 'retry with the same key for "
            "its result': the payment is still being settled; 'pay again with a new key': it "
            "was refunded and used its key."
        )
    )
    payment_token: str = strawberry.field(
        description="From the payment provider's client SDK (only a hash of it is kept).",
        metadata=max_length(PAYMENT_TOKEN_LENGTH),
    )


@strawberry.input
class OrderIdInput:
    order_id: strawberry.ID


@strawberry.type
class CartPayload:
    """A cart mutation's outcome: the cart as it is now, and why the mutation was refused."""

    @strawberry.field(
        description="The cart after the mutation, priced now as Query.cart. "
        + UNPRICED_NOTE
        + " userErrors still say what the mutation did."
    )
    async def cart(self, info: Info) -> Cart | None:
        return await cart_of(info.context, self.state)

    state: strawberry.Private[carts.CartState]
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CheckoutPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _expected(input: CheckoutInput) -> Expected:
    """What the customer was shown, as the input says."""
    money = input.expected_total
    if money is None:
        return Expected(digest=input.expected_price_digest)
    check_decimal(money.amount, ["input", "expectedTotal", "amount"])
    total = ExpectedTotal(money.amount, money.currency_code.value)
    return Expected(total, input.expected_price_digest)


async def _load_order(info: Info, order_id: uuid.UUID | None) -> Order | None:
    if order_id is None:
        return None
    async with info.context.db.session() as session:
        row = await session.get(OrderRow, order_id)
    return Order.from_row(row) if row else None


async def _cart_payload(info: Info, user_id: uuid.UUID, errors: list[UserError]) -> CartPayload:
    state = await carts.load_cart(info.context.db, user_id)
    return CartPayload(state=state, user_errors=errors)


async def _order_payload(info: Info, result: lifecycle.OrderResult) -> OrderPayload:
    return OrderPayload(
        order=await _load_order(info, result.order_id), user_errors=list(result.errors)
    )


@strawberry.type
class Query:
    @strawberry.field(description=CART_FIELD_DESCRIPTION, directives=[Authenticated()])
    async def cart(self, info: Info) -> Cart | None:
        return await cart_of(info.context, await carts.load_cart(info.context.db, _viewer_id(info)))

    @strawberry.field(
        description="An order by id (its owner or an admin).", directives=[Authenticated()]
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        viewer = info.context.auth.require_viewer()
        row = await _order_rows(info.context, str(id))
        if row is None:
            return None
        _check_owner(viewer, row)
        return Order.from_row(row)

    @strawberry.field(
        description="Your orders, newest first; admins see every order.",
        directives=[Authenticated()],
    )
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: OrderStatus | None = None,
    ) -> Connection[Order]:
        viewer = info.context.auth.require_viewer()
        owner = None if viewer.is_admin else _viewer_id(info)
        args = PageArgs(first, after, last, before)
        state = status.value if status else None
        return await user_orders.order_connection(
            info.context.db, owner, args, state, Order.from_row
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Adds `quantity` of a product (to its line if it has one). Refused with "
        "INSUFFICIENT_STOCK if the line would hold more than is available, and with "
        "CURRENCY_MISMATCH for a product priced in another currency than the cart's. A cart "
        f"holds at most {MAX_CART_LINES} different products (a new one past that is CART_FULL "
        f'at ["input", "productId"]) and at most {MAX_ORDER_AMOUNT} in its currency, what one '
        'order can hold (more is INVALID_QUANTITY at ["input", "quantity"]).',
        directives=[Authenticated()],
    )
    async def add_to_cart(self, info: Info, input: AddToCartInput) -> CartPayload:
        user_id = _viewer_id(info)
        errors = await carts.add_to_cart(
            info.context.db, _services(info), user_id, str(input.product_id), input.quantity
        )
        return await _cart_payload(info, user_id, errors)

    @strawberry.mutation(
        description="Sets a cart line's quantity; 0 removes the line. Refused with "
        "INSUFFICIENT_STOCK above what is available, and with INVALID_QUANTITY if the cart "
        f"would then come to more than {MAX_ORDER_AMOUNT}, what one order can hold.",
        directives=[Authenticated()],
    )
    async def update_cart_line(self, info: Info, input: UpdateCartLineInput) -> CartPayload:
        user_id = _viewer_id(info)
        errors = await carts.update_cart_line(
            info.context.db, _services(info), user_id, str(input.product_id), input.quantity
        )
        return await _cart_payload(info, user_id, errors)

    @strawberry.mutation(directives=[Authenticated()])
    async def remove_from_cart(self, info: Info, input: RemoveFromCartInput) -> CartPayload:
        user_id = _viewer_id(info)
        errors = await carts.remove_from_cart(
            info.context.db, _services(info), user_id, str(input.product_id)
        )
        return await _cart_payload(info, user_id, errors)

    @strawberry.mutation(
        description="Prices the cart again, reserves its stock and turns it into an order "
        "whose money is frozen. Lines whose product is no longer in the catalogue (the cart "
        "does not show them) are dropped from the cart; a cart left with none is CART_EMPTY. "
        "Problems with the cart's lines (INSUFFICIENT_STOCK, PRODUCT_NOT_FOUND, "
        "CURRENCY_MISMATCH, CART_FULL for more than one order can hold) have no input path "
        "(`field` is null) and name the product in "
        "their message.",
        directives=[Authenticated()],
    )
    async def checkout(self, info: Info, input: CheckoutInput) -> CheckoutPayload:
        user_id = _viewer_id(info)
        result = await checkouts.checkout(
            info.context.db,
            _services(info),
            user_id,
            input.idempotency_key,
            _expected(input),
        )
        return CheckoutPayload(
            order=await _load_order(info, result.order_id), user_errors=list(result.errors)
        )

    @strawberry.mutation(
        description="Pays a PENDING_PAYMENT order's total through the payments service.",
        directives=[Authenticated()],
    )
    async def pay(self, info: Info, input: PayInput) -> OrderPayload:
        viewer = info.context.auth.require_viewer()
        result = await paying.pay(
            info.context.db,
            _services(info),
            viewer,
            str(input.order_id),
            input.payment_token,
            input.idempotency_key,
        )
        return await _order_payload(info, result)

    @strawberry.mutation(
        description="Cancels an unpaid order (admins: also a paid one, refunded).",
        directives=[Authenticated()],
    )
    async def cancel_order(self, info: Info, input: OrderIdInput) -> OrderPayload:
        viewer = info.context.auth.require_viewer()
        result = await lifecycle.cancel(
            info.context.db, _services(info), viewer, str(input.order_id)
        )
        return await _order_payload(info, result)

    @strawberry.mutation(
        description="Admin only: marks a PAID order FULFILLED.", directives=[admin_only()]
    )
    async def fulfill_order(self, info: Info, input: OrderIdInput) -> OrderPayload:
        viewer = info.context.auth.require_admin()
        result = await lifecycle.fulfill(info.context.db, str(input.order_id), viewer)
        return await _order_payload(info, result)


async def _orders_of(rows: AsyncIterator[OrderRow]) -> AsyncGenerator[Order, None]:
    async for row in rows:
        yield Order.from_row(row)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The order now, then again each time its status changes (paid, "
        "cancelled: by its owner, an admin, expiry or missing stock; fulfilled); completes "
        "after CANCELLED or FULFILLED. Its owner or an admin only: anyone else's order is "
        "NOT_FOUND, as an order that does not exist. Served over WebSocket "
        "(graphql-transport-ws)."
    )
    async def order_status_changed(
        self,
        info: Info,
        order_id: Annotated[ID, strawberry.argument(description="The order to watch.")],
    ) -> AsyncGenerator[Order, None]:
        rows = await live_orders.order_rows(info.context, str(order_id))
        return _orders_of(rows)


schema = EntitySchema(
    query=Query, mutation=Mutation, subscription=Subscription, federation_version="2.7"
)
