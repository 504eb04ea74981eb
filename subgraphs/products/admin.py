"""The admin mutations' inputs, checks and writes: products and categories.

A product's slug is made from its name when it is created (with its SKU added
if another product has that slug already) and kept when the name changes, so
links to it keep working.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.types import (
    MONEY_PRECISION,
    MONEY_SCALE,
    CurrencyCode,
    UserError,
    UserErrorCode,
    decimal_problem,
    echo,
    user_error,
)

from .category import Category
from .models import CATEGORY_SLUG_LENGTH, IMAGE_URL_LENGTH, CategoryRow, ProductRow
from .product import Product
from .text import fold, slugify

SKU_LENGTH = 64
NAME_LENGTH = 200
CATEGORY_NAME_LENGTH = 100
DESCRIPTION_LENGTH = 10_000


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency_code: CurrencyCode


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    category_slug: str = strawberry.field(description="An existing category's slug.")
    price: MoneyInput
    description: str = ""
    image_url: str | None = None


@strawberry.input
class UpdateProductInput:
    id: strawberry.ID
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The slug stays as it is."
    )
    description: str | None = strawberry.UNSET
    category_slug: str | None = strawberry.UNSET
    price: MoneyInput | None = strawberry.UNSET
    image_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the picture."
    )


@strawberry.input
class DeleteProductInput:
    id: strawberry.ID


@strawberry.input
class CreateCategoryInput:
    name: str
    slug: str | None = strawberry.field(
        default=None,
        description="Lower-case letters, digits and single dashes; made from the name if left out.",
    )


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteProductPayload:
    deleted_product_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CategoryPayload:
    category: Category | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def text_errors(
    field: str, value: str | None, limit: int, *, required: bool = True
) -> list[UserError]:
    """INVALID_INPUT at ["input", field] for null, blank (if required) or too long text."""
    if value is None:
        return [
            user_error(UserErrorCode.INVALID_INPUT, f"{field} must not be null", "input", field)
        ]
    if (required and not value.strip()) or len(value) > limit:
        return [
            user_error(
                UserErrorCode.INVALID_INPUT, f"{field} must be 1-{limit} characters", "input", field
            )
        ]
    return []


# Storefronts put it in <img src>: a web address or a path of the shop's own site, never
# a javascript: or data: URL.
_IMAGE_URL_PREFIXES = ("https://", "http://", "/")


def image_url_errors(value: str | None) -> list[UserError]:
    """An image URL is optional; given, it is an http(s) URL or a path, 1-2000 characters."""
    if value is None:
        return []
    errors = text_errors("imageUrl", value, IMAGE_URL_LENGTH)
    if not errors and (not value.startswith(_IMAGE_URL_PREFIXES) or value.startswith("//")):
        message = "imageUrl must be an http(s) URL or a path starting with /"
        errors.append(user_error(UserErrorCode.INVALID_INPUT, message, "input", "imageUrl"))
    return errors


def price_errors(price: MoneyInput | None) -> list[UserError]:
    """INVALID_PRICE unless the amount fits NUMERIC(12, 2) and is not negative."""
    if price is None:
        return [user_error(UserErrorCode.INVALID_PRICE, "price must not be null", "input", "price")]
    amount = price.amount
    # the column's bounds first: a NaN cannot even be compared with 0
    if decimal_problem(amount, MONEY_PRECISION, MONEY_SCALE) is not None or amount < 0:
        return [
            user_error(
                UserErrorCode.INVALID_PRICE,
                "price.amount must be between 0 and 9999999999.99 with at most 2 decimals",
                "input",
                "price",
                "amount",
            )
        ]
    return []


def not_found(product_id: str) -> UserError:
    """PRODUCT_NOT_FOUND at ["input", "id"]."""
    return user_error(
        UserErrorCode.PRODUCT_NOT_FOUND, f"No product with id {echo(product_id)}", "input", "id"
    )


def _category_not_found(slug: str) -> UserError:
    return user_error(
        UserErrorCode.CATEGORY_NOT_FOUND,
        f"No category with slug {echo(slug)}",
        "input",
        "categorySlug",
    )


async def category_errors(session: AsyncSession, slug: str | None) -> list[UserError]:
    """CATEGORY_NOT_FOUND at ["input", "categorySlug"] unless the category exists."""
    if slug is None:
        return text_errors("categorySlug", slug, CATEGORY_SLUG_LENGTH)
    if len(slug) <= CATEGORY_SLUG_LENGTH and await session.get(CategoryRow, slug.strip().lower()):
        return []
    return [_category_not_found(slug)]


async def free_slug(session: AsyncSession, name: str, sku: str) -> str:
    """A product slug no product has: the name's, else with the SKU's, else with a suffix."""
    base = slugify(name) or "product"
    candidates = [base, f"{base}-{slugify(sku)}".strip("-")]
    taken = set(
        await session.scalars(select(ProductRow.slug).where(ProductRow.slug.in_(candidates)))
    )
    free = [candidate for candidate in candidates if candidate not in taken]
    return free[0] if free else f"{candidates[1]}-{uuid.uuid4().hex[:8]}"


def set_texts(row: ProductRow, name: str, description: str) -> None:
    """Name and description with their folded copies, which the search document reads."""
    row.name, row.name_folded = name, fold(name)
    row.description, row.description_folded = description, fold(description)


def category_input_errors(input: CreateCategoryInput) -> tuple[str, list[UserError]]:
    """The slug a new category gets, and what is wrong with the input."""
    errors = text_errors("name", input.name, CATEGORY_NAME_LENGTH)
    if input.slug is not None:
        slug = input.slug
        if not slug or slugify(slug) != slug or len(slug) > CATEGORY_SLUG_LENGTH:
            message = "slug must be 1-100 lower-case letters, digits and single dashes"
            errors.append(user_error(UserErrorCode.INVALID_INPUT, message, "input", "slug"))
        return slug, errors
    slug = slugify(input.name or "")[:CATEGORY_SLUG_LENGTH].strip("-")
    if not errors and not slug:
        message = "name needs a letter or digit to make a slug from (or pass `slug`)"
        errors.append(user_error(UserErrorCode.INVALID_INPUT, message, "input", "name"))
    return slug, errors


def slug_taken(slug: str) -> UserError:
    """SLUG_TAKEN at ["input", "slug"]."""
    return user_error(
        UserErrorCode.SLUG_TAKEN, f"A category with slug {echo(slug)} exists", "input", "slug"
    )
