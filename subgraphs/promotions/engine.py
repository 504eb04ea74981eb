"""The discount engine: active promotions + cart lines -> discounts. Pure, no I/O.

The stacking rules (docs/promotions.md says the same to merchants):

1. Every promotion applies at most once per cart (one discount, however many
   units or groups it covers).
2. Item-level promotions (PERCENTAGE_OFF_CATEGORY, BUY_N_GET_M_FREE) run first,
   in priority order (higher first, then by code). Each one claims the units it
   uses, so a unit is never discounted by two item-level promotions: a unit
   claimed by one is invisible to the ones after it.
   - A percentage claims every unclaimed unit of its category.
   - Buy N get M counts the unclaimed units n of its category: g = n // (N + M)
     groups, so g * M units are free, the cheapest ones. It claims the
     g * (N + M) cheapest units (the free ones and the ones paid to earn them),
     which leaves the dearest units to later promotions.
3. Then at most one order-level promotion (FIXED_AMOUNT_OVER_THRESHOLD) applies:
   among those in the cart's currency whose threshold is met by what remains
   after the item-level discounts, the one worth the most to the customer
   (ties: priority, then code), capped at what remains.
4. Amounts are rounded per promotion to the currency's 2 places, ROUND_HALF_UP;
   a promotion worth nothing is left out. The total never exceeds the subtotal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Line:
    """One cart line: `quantity` units of a product at `unit_price` (in `currency`)."""

    product_id: str
    category_slug: str
    unit_price: Decimal
    quantity: int
    currency: str


@dataclass(frozen=True)
class PercentageOffCategory:
    """`percent` (0-100] off every unit of a category."""

    category_slug: str
    percent: Decimal


@dataclass(frozen=True)
class FixedAmountOverThreshold:
    """`amount` off an order worth at least `threshold`, both in `currency`."""

    amount: Decimal
    threshold: Decimal
    currency: str


@dataclass(frozen=True)
class BuyNGetMFree:
    """For every `buy` + `get` units of a category, the `get` cheapest are free."""

    category_slug: str
    buy: int
    get: int


Rule = PercentageOffCategory | FixedAmountOverThreshold | BuyNGetMFree


@dataclass(frozen=True)
class Offer:
    """An active promotion as the engine sees it."""

    code: str
    description: str
    rule: Rule
    priority: int = 0


@dataclass(frozen=True)
class Discount:
    """What one promotion takes off the cart."""

    code: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    """The discounts a cart earns, in application order, and their total."""

    currency: str
    subtotal: Decimal
    discounts: tuple[Discount, ...]

    @property
    def total(self) -> Decimal:
        """The sum of the discounts (never more than the subtotal)."""
        return sum((d.amount for d in self.discounts), ZERO)


class MixedCurrencies(ValueError):
    """The lines are not all in one currency."""


def round_money(amount: Decimal) -> Decimal:
    """`amount` to cents, halves away from zero."""
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


class _Units:
    """The cart's units not yet claimed by an item-level promotion, per line."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        self.left = [line.quantity for line in lines]

    def of_category(self, slug: str) -> list[int]:
        """Indexes of the lines of `slug` with unclaimed units, cheapest first (then by
        position in the cart, so equal prices are taken in a stable order)."""
        found = [i for i, line in enumerate(self.lines) if line.category_slug == slug]
        return sorted((i for i in found if self.left[i]), key=lambda i: self.lines[i].unit_price)


def _percentage(rule: PercentageOffCategory, units: _Units) -> Decimal:
    base = ZERO
    for index in units.of_category(rule.category_slug):
        base += units.lines[index].unit_price * units.left[index]
        units.left[index] = 0
    return round_money(base * rule.percent / HUNDRED)


def _buy_n_get_m(rule: BuyNGetMFree, units: _Units) -> Decimal:
    indexes = units.of_category(rule.category_slug)
    groups = sum(units.left[i] for i in indexes) // (rule.buy + rule.get)
    free, claim = groups * rule.get, groups * (rule.buy + rule.get)
    amount = ZERO
    for index in indexes:  # cheapest first: the first `free` units cost nothing
        taken = min(units.left[index], claim)
        gratis = min(taken, free)
        amount += units.lines[index].unit_price * gratis
        units.left[index] -= taken
        claim, free = claim - taken, free - gratis
    return round_money(amount)


def _item_level(offers: Iterable[Offer], units: _Units) -> list[Discount]:
    ordered = sorted(
        (o for o in offers if not isinstance(o.rule, FixedAmountOverThreshold)),
        key=lambda o: (-o.priority, o.code),
    )
    discounts = []
    for offer in ordered:
        if isinstance(offer.rule, PercentageOffCategory):
            amount = _percentage(offer.rule, units)
        else:
            assert isinstance(offer.rule, BuyNGetMFree)
            amount = _buy_n_get_m(offer.rule, units)
        if amount > 0:
            discounts.append(Discount(offer.code, offer.description, amount))
    return discounts


def _order_level(offers: Iterable[Offer], remaining: Decimal, currency: str) -> Discount | None:
    candidates = [
        (round_money(min(offer.rule.amount, remaining)), offer)
        for offer in offers
        if isinstance(offer.rule, FixedAmountOverThreshold)
        and offer.rule.currency == currency
        and remaining >= offer.rule.threshold
    ]
    candidates = [(amount, offer) for amount, offer in candidates if amount > 0]
    if not candidates:
        return None
    # the most for the customer; then the higher priority; then the first code
    amount, offer = min(candidates, key=lambda c: (-c[0], -c[1].priority, c[1].code))
    return Discount(offer.code, offer.description, amount)


def cart_currency(lines: Sequence[Line]) -> str:
    """The one currency of `lines`; MixedCurrencies if they have several, ValueError if none."""
    currencies = {line.currency for line in lines}
    if len(currencies) > 1:
        shown = ", ".join(sorted(currencies))
        raise MixedCurrencies(f"the lines are in different currencies: {shown}")
    if not currencies:
        raise ValueError("a quote needs at least one line")
    return currencies.pop()


def quote(offers: Sequence[Offer], lines: Sequence[Line]) -> Quote:
    """The discounts `offers` (the active promotions) give the cart `lines`."""
    currency = cart_currency(lines)
    subtotal = sum((line.unit_price * line.quantity for line in lines), ZERO)
    discounts = _item_level(offers, _Units(lines))
    remaining = subtotal - sum((d.amount for d in discounts), ZERO)
    order_discount = _order_level(offers, remaining, currency)
    if order_discount is not None:
        discounts.append(order_discount)
    return Quote(currency, subtotal, tuple(discounts))
