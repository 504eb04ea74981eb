"""promotions: the shop's discounts, what a storefront shows of them, and the quote
orders asks for every cart.

Public: `activePromotions` (a storefront's banner). Admins (`@requiresScopes(admin)`,
and the role checked here again): `promotions`, `promotion(code:)`,
createPromotion, schedulePromotion, disablePromotion. Internal (`@inaccessible`,
service role): `quoteDiscounts` (quoting.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy import func, select

from subgraphs.common.authorization import admin_only
from subgraphs.common.entities import EntitySchema
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import (
    Connection,
    Ordering,
    PageArgs,
    PageQuery,
    SortKey,
    build_connection,
    load_page,
    page_window,
)
from subgraphs.common.types import UserErrorCode, echo, user_error

from . import store
from .inputs import CreatePromotionInput, DisablePromotionInput, SchedulePromotionInput
from .models import PromotionRow
from .objects import Info, Promotion, PromotionPayload, PromotionStatus
from .quoting import DiscountQuote, DiscountQuoteInput, quote_discounts
from .validation import code_errors, new_promotion, normalized_code, schedule_errors

# Newest first: what an administrator looks for.
NEWEST = Ordering(
    "newest",
    (
        SortKey(
            PromotionRow.created_at, True, encode=datetime.isoformat, decode=datetime.fromisoformat
        ),
        SortKey(PromotionRow.id, True, decode=uuid.UUID),
    ),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found(code: str) -> PromotionPayload:
    return PromotionPayload(
        user_errors=[
            user_error(
                UserErrorCode.PROMOTION_NOT_FOUND,
                f"No promotion with code {echo(code)}",
                "input",
                "code",
            )
        ]
    )


async def _promotions_page(
    info: Info, args: PageArgs, status: store.Status | None
) -> Connection[Promotion]:
    now = _now()
    where = [] if status is None else [store.status_condition(status, now)]
    query = PageQuery(select(PromotionRow).where(*where), NEWEST, page_window(args, NEWEST))
    db = info.context.db
    async with db.session() as session:
        page = await load_page(session, query)

    async def count() -> int:
        async with db.session() as session:
            return int(await session.scalar(select(func.count(PromotionRow.id)).where(*where)) or 0)

    return build_connection(
        page,
        NEWEST,
        lambda row: (row.created_at, row.id),
        lambda row: Promotion.of(row, now),
        count,
    )


@strawberry.type
class Query:
    """The storefront's banner, the admins' lists and the internal quote."""

    @strawberry.field(
        description="The promotions running now, highest priority first (a storefront's "
        "banner). Public."
    )
    async def active_promotions(self, info: Info) -> list[Promotion]:
        now = _now()
        return [Promotion.of(row, now) for row in await store.active(info.context.db, now)]

    @strawberry.field(
        description="Every promotion, newest first, optionally only those with `status`. "
        "Admins only; `first`/`last` at most 100.",
        directives=[admin_only()],
    )
    async def promotions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: PromotionStatus | None = None,  # type: ignore[valid-type]
    ) -> Connection[Promotion]:
        info.context.auth.require_admin()
        return await _promotions_page(info, PageArgs(first, after, last, before), status)

    @strawberry.field(
        description="A promotion by code (any case). Admins only.", directives=[admin_only()]
    )
    async def promotion(
        self, info: Info, code: Annotated[str, strawberry.argument(metadata=max_length(64))]
    ) -> Promotion | None:
        info.context.auth.require_admin()
        row = await store.by_code(info.context.db, normalized_code(code))
        return None if row is None else Promotion.of(row, _now())

    @strawberry.federation.field(
        inaccessible=True,
        description="Internal (orders, service role): the discounts the active promotions "
        "give a cart. Lines in several currencies are BAD_USER_INPUT.",
    )
    async def quote_discounts(self, info: Info, input: DiscountQuoteInput) -> DiscountQuote:
        return await quote_discounts(info, input)


@strawberry.type
class Mutation:
    """The admins' changes to promotions."""

    @strawberry.mutation(
        description="Admin only. A code is unique for good (a disabled one stays taken).",
        directives=[admin_only()],
    )
    async def create_promotion(self, info: Info, input: CreatePromotionInput) -> PromotionPayload:
        info.context.auth.require_admin()
        now = _now()
        new, errors = new_promotion(input, now)
        if new is None:
            return PromotionPayload(user_errors=errors)
        row = await store.create(info.context.db, new)
        if row is None:
            taken = user_error(
                UserErrorCode.PROMOTION_CODE_TAKEN,
                f"The code {new.code} is already used by another promotion",
                "input",
                "code",
            )
            return PromotionPayload(user_errors=[taken])
        return PromotionPayload(promotion=Promotion.of(row, now))

    @strawberry.mutation(
        description="Admin only. Sets when an enabled promotion runs; `endsAt` null: no end.",
        directives=[admin_only()],
    )
    async def schedule_promotion(
        self, info: Info, input: SchedulePromotionInput
    ) -> PromotionPayload:
        info.context.auth.require_admin()
        now, code = _now(), normalized_code(input.code)
        errors = code_errors(code) or schedule_errors(input.starts_at, input.ends_at, now)
        if errors:
            return PromotionPayload(user_errors=errors)
        row = await store.reschedule(info.context.db, code, input.starts_at, input.ends_at)
        if row is not None:
            return PromotionPayload(promotion=Promotion.of(row, now))
        existing = await store.by_code(info.context.db, code)
        if existing is None:
            return _not_found(input.code)
        disabled = user_error(
            UserErrorCode.INVALID_STATUS_TRANSITION,
            f"Promotion {code} is disabled; create a new one instead",
            "input",
            "code",
        )
        return PromotionPayload(promotion=Promotion.of(existing, now), user_errors=[disabled])

    @strawberry.mutation(
        description="Admin only. Stops a promotion for good; disabling it again changes nothing.",
        directives=[admin_only()],
    )
    async def disable_promotion(self, info: Info, input: DisablePromotionInput) -> PromotionPayload:
        info.context.auth.require_admin()
        now, code = _now(), normalized_code(input.code)
        row = await store.disable(info.context.db, code, now)
        if row is None:
            return _not_found(input.code)
        return PromotionPayload(promotion=Promotion.of(row, now))


schema = EntitySchema(query=Query, mutation=Mutation, federation_version="2.7")
