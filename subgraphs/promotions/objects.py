"""The promotions subgraph's output types: Promotion, its rule, payloads.

What is public: everything a storefront shows in a banner or next to a product
(code, description, kind, rule, schedule, status). Bookkeeping (priority,
createdAt, disabledAt) is for administrators: `@requiresScopes(admin)` for the
router, and the resolvers check the role again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key

from subgraphs.common.authorization import admin_only
from subgraphs.common.context import Context
from subgraphs.common.errors import Forbidden
from subgraphs.common.types import Money, UserError

from . import engine, store
from .models import PromotionRow
from .rules import rule_of

Info = strawberry.Info[Context, None]


@strawberry.enum(description="What a promotion gives.")
class PromotionKind(Enum):
    """The three kinds of promotion the engine knows."""

    PERCENTAGE_OFF_CATEGORY = "PERCENTAGE_OFF_CATEGORY"
    FIXED_AMOUNT_OVER_THRESHOLD = "FIXED_AMOUNT_OVER_THRESHOLD"
    BUY_N_GET_M_FREE = "BUY_N_GET_M_FREE"


PromotionStatus = strawberry.enum(
    store.Status,
    name="PromotionStatus",
    description="SCHEDULED before startsAt, ACTIVE until endsAt, then EXPIRED; DISABLED for "
    "good once disabled.",
)


# No description: products' describes the type (one description, no composition hint).
@strawberry.federation.type(keys=[Key(fields="slug", resolvable=False)])
class Category:
    """A reference to products' Category entity by its slug: products owns the rest."""

    slug: str


def _category(root: PercentageOffCategoryRule | BuyNGetMFreeRule) -> Category:
    return Category(slug=root.category_slug)


CATEGORY_DESCRIPTION = (
    "The category, from the catalogue: null if it has no category with this slug (yet)."
)


@strawberry.type(description="A percentage off every unit of one category.")
class PercentageOffCategoryRule:
    """PERCENTAGE_OFF_CATEGORY's parameters."""

    category_slug: str
    category: Category | None = strawberry.field(
        resolver=_category, description=CATEGORY_DESCRIPTION
    )
    percent: Decimal = strawberry.field(description='In (0, 100], e.g. "15" or "12.5".')


@strawberry.type(description="A fixed amount off a cart worth at least `threshold`, same currency.")
class FixedAmountOverThresholdRule:
    """FIXED_AMOUNT_OVER_THRESHOLD's parameters."""

    amount: Money
    threshold: Money


@strawberry.type(
    description="For every buy + get units of the category in a cart, the `get` cheapest are free."
)
class BuyNGetMFreeRule:
    """BUY_N_GET_M_FREE's parameters."""

    category_slug: str
    category: Category | None = strawberry.field(
        resolver=_category, description=CATEGORY_DESCRIPTION
    )
    buy: int
    get: int


RuleObject = PercentageOffCategoryRule | FixedAmountOverThresholdRule | BuyNGetMFreeRule
PromotionRule = Annotated[
    RuleObject,
    strawberry.union("PromotionRule", description="A promotion's parameters, by kind."),
]


def rule_object(rule: engine.Rule) -> RuleObject:
    """The GraphQL object for an engine rule."""
    if isinstance(rule, engine.PercentageOffCategory):
        return PercentageOffCategoryRule(category_slug=rule.category_slug, percent=rule.percent)
    if isinstance(rule, engine.FixedAmountOverThreshold):
        return FixedAmountOverThresholdRule(
            amount=Money.of(rule.amount, rule.currency),
            threshold=Money.of(rule.threshold, rule.currency),
        )
    return BuyNGetMFreeRule(category_slug=rule.category_slug, buy=rule.buy, get=rule.get)


def _admin_only(info: Info, field: str) -> None:
    """FORBIDDEN unless an admin asks (the router already drops the field without the scope;
    this guards the subgraph's own port)."""
    viewer = info.context.auth.optional_viewer()
    if viewer is None or not viewer.is_admin:
        raise Forbidden(f"Promotion.{field} is for admins only")


@strawberry.type(
    description="A discount the shop runs. Stacking: docs/promotions.md; in short, each "
    "promotion applies at most once per cart, item-level ones (percentage, buy N get M) in "
    "priority order never discount a unit twice, then the one best order-level fixed amount "
    "applies to what remains."
)
class Promotion:
    """A stored promotion seen at one moment (`now` fixes its status)."""

    id: strawberry.ID
    code: str = strawberry.field(description="Unique, upper-case, what the customer sees.")
    description: str
    kind: PromotionKind
    rule: PromotionRule
    starts_at: datetime
    ends_at: datetime | None = strawberry.field(description="Null: runs until disabled.")
    status: PromotionStatus  # type: ignore[valid-type]
    row: strawberry.Private[PromotionRow]

    @classmethod
    def of(cls, row: PromotionRow, now: datetime) -> Promotion:
        """The Promotion for a stored row, its status as at `now`."""
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            description=row.description,
            kind=PromotionKind(row.kind),
            rule=rule_object(rule_of(row.kind, row.parameters)),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            status=store.status_of(row, now),
            row=row,
        )

    @strawberry.field(
        description="Higher applies first among item-level promotions. Admins only.",
        directives=[admin_only()],
    )
    def priority(self, info: Info) -> int | None:
        """The stacking priority (admins only)."""
        _admin_only(info, "priority")
        return self.row.priority

    @strawberry.field(description="Admins only.", directives=[admin_only()])
    def created_at(self, info: Info) -> datetime | None:
        """When the promotion was created (admins only)."""
        _admin_only(info, "createdAt")
        return self.row.created_at

    @strawberry.field(
        description="When it was disabled, if it was. Admins only.", directives=[admin_only()]
    )
    def disabled_at(self, info: Info) -> datetime | None:
        """When the promotion was disabled, if it was (admins only)."""
        _admin_only(info, "disabledAt")
        return self.row.disabled_at


@strawberry.type
class PromotionPayload:
    """What a promotion mutation did: the promotion, or why not."""

    promotion: Promotion | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
