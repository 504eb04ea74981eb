"""suggestions: `Product.suggestions` ("bought together") and `User.recommendedProducts`.

Both answer Product references ({id}); the router fetches the rest from products.
`first` is 1..50 (else BAD_USER_INPUT naming `first`). recommendedProducts is for the
user themself or an admin: a guest is UNAUTHENTICATED, anyone else FORBIDDEN.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import strawberry

from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema
from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid

from . import queries, scoring
from .services import SuggestionsServices

Info = strawberry.Info[Context, None]
MAX_FIRST = 50
SUGGESTIONS_DESCRIPTION = (
    "Products most often bought together with this one (paid orders that were not "
    "cancelled), most shared orders first, ties by id; when fewer, the best sellers of its "
    f"category (by units, then name). Never the product itself. `first`: 1-{MAX_FIRST}."
)
RECOMMENDED_DESCRIPTION = (
    "Products bought together with what this user bought, then the shop's best sellers, "
    f"none they bought already. The user themself or an admin. `first`: 1-{MAX_FIRST}."
)


def bounded_first(first: int | None, default: int) -> int:
    """`first` (null: the default) if within 1..MAX_FIRST; BAD_USER_INPUT otherwise."""
    value = default if first is None else first
    if not 1 <= value <= MAX_FIRST:
        raise BadUserInput(f"`first` must be between 1 and {MAX_FIRST}", field=["first"])
    return value


def _services(info: Info) -> SuggestionsServices:
    services: SuggestionsServices = info.context.services
    return services


async def _co_purchased(info: Info, product: str) -> list[str]:
    """The product's MAX_FIRST most co-purchased products, read once per request for every
    product the request asks about (each field slices its `first`)."""

    async def load(keys: Sequence[str]) -> list[list[str]]:
        return await queries.co_purchased(info.context.db, keys, MAX_FIRST)

    return await info.context.loader("co-purchased", load).load(product)


async def _category_best_sellers(info: Info, product: str) -> list[str]:
    """The best sellers of the product's category, read once per request for every
    product whose suggestions need the fallback."""

    async def load(keys: Sequence[str]) -> list[list[str]]:
        return await queries.category_best_sellers(info.context.db, _services(info).catalogue, keys)

    return await info.context.loader("category-best-sellers", load).load(product)


async def _suggested(info: Info, product: str, first: int) -> list[str]:
    co_purchased = await _co_purchased(info, product)
    if len(co_purchased) >= first:
        return co_purchased[:first]
    fallback = await _category_best_sellers(info, product)
    return scoring.suggestions(product, co_purchased, fallback, first)


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Product:
        # any product may have suggestions (a fallback at least): no lookup here
        return cls(id=id)

    @strawberry.field(description=SUGGESTIONS_DESCRIPTION)
    async def suggestions(self, info: Info, first: int | None = 4) -> list[Product]:
        count = bounded_first(first, 4)
        product = parse_uuid(str(self.id))
        if product is None:
            return []
        return [Product(id=strawberry.ID(p)) for p in await _suggested(info, str(product), count)]


async def _recommend(info: Info, users: Sequence[str]) -> list[list[str]]:
    """Each user's MAX_FIRST recommendations: three statements for all of them."""
    db, catalogue = info.context.db, _services(info).catalogue
    bought = await queries.bought_by(db, users)
    co_purchased = await queries.bought_with(db, bought, MAX_FIRST)
    exclude = {u: bought[u] | set(co_purchased[u]) for u in users}
    best = await queries.best_sellers(db, catalogue, exclude, MAX_FIRST)
    return [scoring.recommendations(bought[u], co_purchased[u], best[u], MAX_FIRST) for u in users]


async def _recommended(info: Info, user: uuid.UUID, first: int) -> list[str]:
    """The user's `first` recommendations: a prefix of their MAX_FIRST ones (both rankings
    are total orders), computed once per request for every user it asks about."""

    async def load(keys: Sequence[str]) -> list[list[str]]:
        return await _recommend(info, keys)

    recommended = await info.context.loader("recommended", load).load(str(user))
    return recommended[:first]


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(description=RECOMMENDED_DESCRIPTION)
    async def recommended_products(self, info: Info, first: int | None = 8) -> list[Product]:
        info.context.auth.require_self_or_admin(str(self.id))
        count = bounded_first(first, 8)
        user = parse_uuid(str(self.id))
        if user is None:
            raise BadUserInput("User id must be a UUID")
        return [Product(id=strawberry.ID(p)) for p in await _recommended(info, user, count)]


schema = EntitySchema(query=None, types=[Product, User], federation_version="2.7")
