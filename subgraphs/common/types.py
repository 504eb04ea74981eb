"""GraphQL types several subgraphs serve identically (hence @shareable)."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from .errors import BadUserInput

CENTS = Decimal("0.01")
ECHO_LENGTH = 64
# Money columns are NUMERIC(12, 2): up to 9999999999.99.
MONEY_PRECISION = 12
MONEY_SCALE = 2


@strawberry.enum(description="ISO 4217 currency code.")
class CurrencyCode(Enum):
    """The currencies the shop sells in."""

    USD = "USD"
    EUR = "EUR"
    GBP = "GBP"


@strawberry.federation.type(shareable=True, description="An exact amount of money.")
class Money:
    """An amount with its currency, exact to the cent."""

    amount: Decimal = strawberry.field(description='Decimal string, e.g. "19.99".')
    currency_code: CurrencyCode

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        """The Money for a stored amount, rounded to cents."""
        return cls(amount=amount.quantize(CENTS), currency_code=CurrencyCode(currency))


@strawberry.enum(description="Why a mutation did not do what was asked.")
class UserErrorCode(Enum):
    """Every reason a mutation can give in its userErrors."""

    INVALID_INPUT = "INVALID_INPUT"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    SKU_TAKEN = "SKU_TAKEN"
    INVALID_PRICE = "INVALID_PRICE"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    CATEGORY_NOT_FOUND = "CATEGORY_NOT_FOUND"
    SLUG_TAKEN = "SLUG_TAKEN"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    RESERVATION_NOT_FOUND = "RESERVATION_NOT_FOUND"
    RESERVATION_NOT_ACTIVE = "RESERVATION_NOT_ACTIVE"
    CART_EMPTY = "CART_EMPTY"
    NOT_IN_CART = "NOT_IN_CART"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_PAYABLE = "ORDER_NOT_PAYABLE"
    ORDER_EXPIRED = "ORDER_EXPIRED"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    PRICE_CHANGED = "PRICE_CHANGED"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    CART_FULL = "CART_FULL"
    PROMOTION_NOT_FOUND = "PROMOTION_NOT_FOUND"
    PROMOTION_CODE_TAKEN = "PROMOTION_CODE_TAKEN"


@strawberry.federation.type(shareable=True, description="A business rule the input broke.")
class UserError:
    """A business rule a mutation's input broke, returned in the payload (not a GraphQL error)."""

    code: UserErrorCode
    field: list[str] | None = strawberry.field(
        default=None,
        description=(
            "Path to the offending input field, e.g. [\"input\", \"quantity\"]; null when no "
            "input field is at fault (checkout's problems with the cart's lines are not in its "
            "input: their message names the product)."
        ),
    )
    message: str


def user_error(code: UserErrorCode, message: str, *field: str) -> UserError:
    """A UserError with `code` and `message`, naming the input path `field` if given."""
    return UserError(code=code, field=list(field) or None, message=message)


def echo(value: str, limit: int = ECHO_LENGTH) -> str:
    """Client input quoted in a message: at most `limit` characters, then "…"."""
    return value if len(value) <= limit else value[:limit] + "…"


def decimal_problem(value: Decimal, precision: int, scale: int) -> str | None:
    """Why `value` does not fit NUMERIC(precision, scale) exactly, or None if it does.

    A value that does not fit would make PostgreSQL fail the statement (numeric
    field overflow, or an infinity it cannot compare) or silently round it, so
    inputs are checked with this before they reach SQL. Cheap for any input: the
    magnitude is read from the exponent before anything is rounded.
    """
    if not value.is_finite():
        return "must be a finite number"
    digits = precision - scale
    if value != 0 and value.adjusted() >= digits:
        return f"must have at most {digits} digits before the decimal point"
    if value != value.quantize(Decimal(1).scaleb(-scale)):
        return f"must have at most {scale} digits after the decimal point"
    return None


def check_decimal(
    value: Decimal | None,
    field: list[str],
    precision: int = MONEY_PRECISION,
    scale: int = MONEY_SCALE,
) -> None:
    """BadUserInput naming `field` unless `value` (if given) fits NUMERIC(precision, scale)."""
    if value is None:
        return
    problem = decimal_problem(value, precision, scale)
    if problem is not None:
        raise BadUserInput(f"`{'.'.join(field)}` {problem}", field=field)
