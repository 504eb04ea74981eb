"""PRICE_CHANGED: whether the cart checkout is about to sell is the cart the customer saw.

A storefront sends back what it showed: `expectedTotal` (Cart.total) and
`expectedPriceDigest` (Cart.priceDigest, see price_digest.py), either or both.
Checkout prices the cart again and refuses it, once per input that no longer
matches, with the userError on that input's path. The total alone misses a
price that went down by as much as a discount did; the digest catches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from subgraphs.common.types import UserError, UserErrorCode, user_error

from .price_digest import price_digest
from .pricing import PricedCart

_AGAIN = "review the cart and check out again"


@dataclass(frozen=True)
class ExpectedTotal:
    """The total the customer was shown (CheckoutInput.expectedTotal)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class Expected:
    """What the customer was shown, as checkout's input says (either may be left out)."""

    total: ExpectedTotal | None = None  # CheckoutInput.expectedTotal
    digest: str | None = None  # CheckoutInput.expectedPriceDigest


NOTHING_EXPECTED = Expected()


def price_changes(expected: Expected, priced: PricedCart) -> list[UserError]:
    """PRICE_CHANGED on each expected input that `priced` (the cart now) does not match."""
    now = ExpectedTotal(priced.total, priced.currency)
    changes = []
    total = expected.total
    if total is not None and (total.amount, total.currency) != (now.amount, now.currency):
        message = f"The total changed from {total} to {now} since the cart was shown; {_AGAIN}"
        changes.append(user_error(UserErrorCode.PRICE_CHANGED, message, "input", "expectedTotal"))
    if expected.digest is not None and expected.digest != price_digest(priced):
        changes.append(_digest_changed(priced, now))
    return changes


def _digest_changed(priced: PricedCart, now: ExpectedTotal) -> UserError:
    # The digest cannot say what it was made of: the message gives the figures now.
    figures = (
        f"now: subtotal {priced.subtotal} {now.currency}, discounts "
        f"{priced.discount_total} {now.currency}, total {now}"
    )
    message = f"The cart's prices or discounts changed since it was shown ({figures}); {_AGAIN}"
    return user_error(UserErrorCode.PRICE_CHANGED, message, "input", "expectedPriceDigest")
