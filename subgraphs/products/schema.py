"""products: the catalogue (categories, products, search) and its admin mutations."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.authorization import admin_only
from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema
from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import Connection, PageArgs
from subgraphs.common.types import UserError, UserErrorCode, echo, user_error

from . import admin, listing
from .admin import (
    CategoryPayload,
    CreateCategoryInput,
    CreateProductInput,
    DeleteProductInput,
    DeleteProductPayload,
    ProductPayload,
    UpdateProductInput,
)
from .category import Category, SlugArgument, all_categories, category_by_slug
from .listing import ProductFilter, ProductSort
from .models import SKU_CONSTRAINT, SLUG_CONSTRAINT, SLUG_LENGTH, CategoryRow, ProductRow
from .product import Product, product_by_id, product_by_sku, product_by_slug

Info = strawberry.Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="A product by exactly one of `id`, `sku` or `slug`.")
    async def product(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        sku: Annotated[
            str | None, strawberry.argument(metadata=max_length(admin.SKU_LENGTH))
        ] = None,
        slug: Annotated[str | None, strawberry.argument(metadata=max_length(SLUG_LENGTH))] = None,
    ) -> Product | None:
        """The product the one given key names, or null."""
        if [id, sku, slug].count(None) != 2:
            raise BadUserInput("Pass exactly one of `id`, `sku` or `slug`")
        if id is not None:
            return await product_by_id(info.context, str(id))
        if sku is not None:
            return await product_by_sku(info.context, sku)
        return await product_by_slug(info.context, str(slug))

    @strawberry.field(description=listing.PRODUCTS_DESCRIPTION)
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilter | None = None,
        sort: ProductSort | None = None,
    ) -> Connection[Product] | None:
        """The catalogue, one page of it."""
        args = PageArgs(first, after, last, before)
        return await listing.product_connection(info.context, args, filter, sort)

    @strawberry.field(description="Every category, alphabetically by name.")
    async def categories(self, info: Info) -> list[Category]:
        """All categories (a shop has a handful)."""
        return await all_categories(info.context)

    @strawberry.field(description="A category by its slug (case-insensitive), or null.")
    async def category(self, info: Info, slug: SlugArgument) -> Category | None:
        """The category with this slug."""
        return await category_by_slug(info.context, slug)


def _sku_taken(sku: str) -> UserError:
    return user_error(UserErrorCode.SKU_TAKEN, f"SKU {echo(sku)} is taken", "input", "sku")


def _create_errors(input: CreateProductInput) -> list[UserError]:
    return [
        *admin.text_errors("sku", input.sku, admin.SKU_LENGTH),
        *admin.text_errors("name", input.name, admin.NAME_LENGTH),
        *admin.text_errors(
            "description", input.description, admin.DESCRIPTION_LENGTH, required=False
        ),
        *admin.image_url_errors(input.image_url),
        *admin.price_errors(input.price),
    ]


def _update_errors(input: UpdateProductInput) -> list[UserError]:
    errors: list[UserError] = []
    if input.name is not strawberry.UNSET:
        errors += admin.text_errors("name", input.name, admin.NAME_LENGTH)
    if input.description is not strawberry.UNSET:
        errors += admin.text_errors(
            "description", input.description, admin.DESCRIPTION_LENGTH, required=False
        )
    if input.image_url is not strawberry.UNSET:
        errors += admin.image_url_errors(input.image_url)
    if input.price is not strawberry.UNSET:
        errors += admin.price_errors(input.price)
    return errors


def _apply_update(row: ProductRow, input: UpdateProductInput) -> None:
    """Write the given fields of a checked input onto the locked row."""
    name = row.name if input.name in (strawberry.UNSET, None) else str(input.name).strip()
    described = input.description not in (strawberry.UNSET, None)
    admin.set_texts(row, name, str(input.description) if described else row.description)
    if input.category_slug not in (strawberry.UNSET, None):
        row.category_slug = str(input.category_slug).strip().lower()
    if input.image_url is not strawberry.UNSET:
        row.image_url = input.image_url
    if input.price not in (strawberry.UNSET, None):
        row.price_amount = input.price.amount
        row.currency_code = input.price.currency_code.value
    row.updated_at = func.now()


_SLUG_ATTEMPTS = 3  # the last candidate has a random suffix: a third clash is a bug


async def _insert_product(session: AsyncSession, row: ProductRow, name: str) -> bool:
    """Insert `row` with a free slug; False if its SKU is taken.

    free_slug reads before the insert, so a concurrent create can take the same
    slug first: the unique violation then names products_slug_key, and the next
    attempt (a new statement, which sees that commit) picks the next free slug.
    """
    for _ in range(_SLUG_ATTEMPTS):
        row.slug = await admin.free_slug(session, name, row.sku)
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError as error:
            constraint = admin.violated_constraint(error)
            if constraint == SKU_CONSTRAINT:
                return False
            if constraint != SLUG_CONSTRAINT:
                raise
            continue
        return True
    raise RuntimeError(f"no free slug for a product after {_SLUG_ATTEMPTS} attempts")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Admin only. The slug is made from the name.", directives=[admin_only()]
    )
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        """A new product in an existing category."""
        info.context.auth.require_admin()
        errors = _create_errors(input)
        async with info.context.db.session() as session, session.begin():
            errors += await admin.category_errors(session, input.category_slug)
            if errors:
                return ProductPayload(user_errors=errors)
            sku = input.sku.strip()
            row = ProductRow(
                id=uuid.uuid4(),
                sku=sku,
                category_slug=input.category_slug.strip().lower(),
                image_url=input.image_url,
                price_amount=input.price.amount,
                currency_code=input.price.currency_code.value,
            )
            admin.set_texts(row, input.name.strip(), input.description)
            if not await _insert_product(session, row, input.name):
                return ProductPayload(user_errors=[_sku_taken(sku)])
        return ProductPayload(product=Product.from_row(row))

    @strawberry.mutation(
        description="Admin only; fields left out stay unchanged.", directives=[admin_only()]
    )
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        """Change some of a product's fields."""
        info.context.auth.require_admin()
        errors = _update_errors(input)
        product_id = parse_uuid(str(input.id))
        if product_id is None:
            errors.insert(0, admin.not_found(str(input.id)))
        async with info.context.db.session() as session, session.begin():
            if input.category_slug is not strawberry.UNSET:
                errors += await admin.category_errors(session, input.category_slug)
            if errors:
                return ProductPayload(user_errors=errors)
            row = await session.get(ProductRow, product_id, with_for_update=True)
            if row is None:
                return ProductPayload(user_errors=[admin.not_found(str(input.id))])
            _apply_update(row, input)
            await session.flush()
            await session.refresh(row)
            return ProductPayload(product=Product.from_row(row))

    @strawberry.mutation(description="Admin only.", directives=[admin_only()])
    async def delete_product(self, info: Info, input: DeleteProductInput) -> DeleteProductPayload:
        """Remove a product from the catalogue."""
        info.context.auth.require_admin()
        product_id = parse_uuid(str(input.id))
        if product_id is not None:
            async with info.context.db.session() as session, session.begin():
                deleted = await session.scalar(
                    delete(ProductRow).where(ProductRow.id == product_id).returning(ProductRow.id)
                )
            if deleted is not None:
                return DeleteProductPayload(deleted_product_id=strawberry.ID(str(deleted)))
        return DeleteProductPayload(user_errors=[admin.not_found(str(input.id))])

    @strawberry.mutation(description="Admin only.", directives=[admin_only()])
    async def create_category(self, info: Info, input: CreateCategoryInput) -> CategoryPayload:
        """A new, empty category."""
        info.context.auth.require_admin()
        slug, errors = admin.category_input_errors(input)
        if errors:
            return CategoryPayload(user_errors=errors)
        row = CategoryRow(slug=slug, name=input.name.strip())
        try:
            async with info.context.db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return CategoryPayload(user_errors=[admin.slug_taken(slug)])
        return CategoryPayload(category=Category.from_row(row))


schema = EntitySchema(query=Query, mutation=Mutation, federation_version="2.7")
