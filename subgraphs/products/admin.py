"""The admin mutations' inputs, checks and writes: products and categories.

A product's slug is made from its name when it is created (with its SKU added
if another product has that slug already) and kept when the name changes, so
links to it keep working.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
from .models import (
    CATEGORY_SLUG_LENGTH,
    IMAGE_URL_LENGTH,
    SLUG_LENGTH,
    CategoryRow,
    ProductRow,
)
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
# a javascript: or data: URL. Schemes are case-insensitive (RFC 3986 3.1).
_IMAGE_URL_SCHEMES = ("https://", "http://")


def _unsafe_character(value: str) -> bool:
    """Whether `value` holds a backslash, a control character or whitespace.

    Browsers (the WHATWG URL parser) drop tabs and newlines anywhere and read a
    backslash as a slash, so "/\\evil.example" and "/<TAB>/evil.example" would be
    protocol-relative links to another site; no image address needs any of them.
    """
    return any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def _image_url_allowed(value: str) -> bool:
    if _unsafe_character(value):
        return False
    lowered = value.lower()
    if lowered.startswith(_IMAGE_URL_SCHEMES):
        # a URL names its host: "http://" or "https:///x" names none
        try:
            return urlsplit(lowered).hostname is not None
        except ValueError:  # "http://[x" is not a URL at all
            return False
    return value.startswith("/") and not value.startswith("//")  # "//host" is another site


def image_url_errors(value: str | None) -> list[UserError]:
    """An image URL is optional; given, it is an http(s) URL or a path, 1-2000 characters."""
    if value is None:
        return []
    errors = text_errors("imageUrl", value, IMAGE_URL_LENGTH)
    if not errors and not _image_url_allowed(value):
        message = (
            "imageUrl must be an http(s) URL or a path starting with a single /,"
            " without spaces, backslashes or control characters"
        )
        errors.append(user_error(UserErrorCode.INVALID_INPUT, message, "input", "imageUrl"))
    return errors


def price_errors(price: MoneyInput | None) -> list[UserError]:
    """INVALID_PRICE unless the amount fits NUMERIC(12, 2) and is not negative."""
    if price is None:
        return [user_error(UserErrorCode.INVALID_PRICE, "price must not be null", "input", "price")]
    amount = price.amount
    # the column's bounds first: a NaN cannot even be compared with 0; is_signed refuses
    # "-0" too, which PostgreSQL would keep and show as "-0.00"
    if decimal_problem(amount, MONEY_PRECISION, MONEY_SCALE) is not None or amount.is_signed():
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


_SUFFIX_LENGTH = 8  # hex digits of the last-resort suffix


def _cut(slug: str, length: int) -> str:
    """`slug`'s first `length` characters, without a dash left at the end."""
    return slug[:length].rstrip("-")


def slug_candidates(name: str, sku: str) -> list[str]:
    """The slugs a new product may get, in order of preference, each within SLUG_LENGTH.

    The name's slug, then with the SKU's added, then with a random suffix too. A
    name's slug can outgrow its name (NFKD folds "㎉" into "kcal"), so the name's
    part is cut to leave room for what follows it.
    """
    base = slugify(name) or "product"
    # the SKU's slug can outgrow the SKU as the name's does: it keeps at most SKU_LENGTH
    tail = _cut(slugify(sku), SKU_LENGTH)
    suffix = uuid.uuid4().hex[:_SUFFIX_LENGTH]
    ends = [[], [tail] if tail else [], [tail, suffix] if tail else [suffix]]
    candidates = []
    for end in ends:
        room = SLUG_LENGTH - sum(len(part) + 1 for part in end)
        candidates.append("-".join([_cut(base, room), *end]))
    return candidates


async def free_slug(session: AsyncSession, name: str, sku: str) -> str:
    """A product slug no product has: the name's, else with the SKU's, else with a suffix."""
    candidates = slug_candidates(name, sku)
    taken = set(
        await session.scalars(select(ProductRow.slug).where(ProductRow.slug.in_(candidates)))
    )
    return next(slug for slug in candidates if slug not in taken or slug == candidates[-1])


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL says `error` broke, if it says one."""
    current: BaseException | None = error
    while current is not None:
        name = getattr(current, "constraint_name", None)
        if isinstance(name, str):
            return name
        current = current.__cause__ or current.__context__
    return None


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
