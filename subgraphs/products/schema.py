"""products: the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from subgraphs.common.context import Context
from subgraphs.common.entities import EntitySchema, in_chunks
from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid
from subgraphs.common.inputs import max_length
from subgraphs.common.pagination import Connection, PageQuery, SortKey, build_connection
from subgraphs.common.types import (
    MONEY_PRECISION,
    MONEY_SCALE,
    CurrencyCode,
    Money,
    UserError,
    UserErrorCode,
    check_decimal,
    decimal_problem,
    echo,
    user_error,
)

from .models import ProductRow

Info = strawberry.Info[Context, None]
SKU_LENGTH = 64
NAME_LENGTH = 200
CATEGORY_LENGTH = 100
DESCRIPTION_LENGTH = 10_000


@strawberry.federation.type(keys=["id", "sku"])
class Product:
    id: strawberry.ID
    sku: str
    name: str
    description: str
    category: str
    price: Money
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return cls(
            id=strawberry.ID(str(row.id)),
            sku=row.sku,
            name=row.name,
            description=row.description,
            category=row.category,
            price=Money.of(row.price_amount, row.currency_code),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID | None = None, sku: str | None = None
    ) -> Product | None:
        if id is not None:
            return await product_by_id(info.context, str(id))
        if sku is not None:
            return await product_by_sku(info.context, sku)
        return None


async def _rows_where_in(context: Context, column: Any, values: Sequence[Any]) -> list[ProductRow]:
    """Products whose `column` is one of `values`, IN_LIST_CHUNK values per statement."""
    rows: list[ProductRow] = []
    async with context.db.session() as session:
        for part in in_chunks(values):
            rows += (await session.scalars(select(ProductRow).where(column.in_(part)))).all()
    return rows


async def product_by_id(context: Context, product_id: str) -> Product | None:
    async def load(ids: Sequence[str]) -> list[Product | None]:
        wanted = list(dict.fromkeys(u for u in map(parse_uuid, ids) if u is not None))
        rows = await _rows_where_in(context, ProductRow.id, wanted)
        found = {row.id: Product.from_row(row) for row in rows}
        return [found.get(parse_uuid(i)) for i in ids]  # type: ignore[arg-type]

    return await context.loader("products_by_id", load).load(product_id)


async def product_by_sku(context: Context, sku: str) -> Product | None:
    async def load(skus: Sequence[str]) -> list[Product | None]:
        rows = await _rows_where_in(context, ProductRow.sku, list(dict.fromkeys(skus)))
        found = {row.sku: Product.from_row(row) for row in rows}
        return [found.get(s) for s in skus]

    return await context.loader("products_by_sku", load).load(sku)


@strawberry.enum
class ProductSort(Enum):
    NAME_ASC = "NAME_ASC"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"
    NEWEST = "NEWEST"


_ID_KEY = SortKey(ProductRow.id, decode=uuid.UUID)
SORT_KEYS: dict[ProductSort, tuple[SortKey, ...]] = {
    ProductSort.NAME_ASC: (SortKey(ProductRow.name), _ID_KEY),
    ProductSort.PRICE_ASC: (SortKey(ProductRow.price_amount, decode=Decimal), _ID_KEY),
    ProductSort.PRICE_DESC: (SortKey(ProductRow.price_amount, True, decode=Decimal), _ID_KEY),
    ProductSort.NEWEST: (
        SortKey(
            ProductRow.created_at, True, encode=datetime.isoformat, decode=datetime.fromisoformat
        ),
        _ID_KEY,
    ),
}
_SORT_VALUES: dict[ProductSort, Any] = {
    ProductSort.NAME_ASC: lambda r: (r.name, r.id),
    ProductSort.PRICE_ASC: lambda r: (r.price_amount, r.id),
    ProductSort.PRICE_DESC: lambda r: (r.price_amount, r.id),
    ProductSort.NEWEST: lambda r: (r.created_at, r.id),
}


# Filters are compared with stored names (at most 200) and categories (at most 100):
# anything longer cannot match, so it is refused before it costs a scan.
@strawberry.input
class ProductFilter:
    category: str | None = strawberry.field(default=None, metadata=max_length(CATEGORY_LENGTH))
    search: str | None = strawberry.field(
        default=None, description="Substring of the name.", metadata=max_length(NAME_LENGTH)
    )
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def _check_filter(where: ProductFilter | None) -> None:
    """BadUserInput for a price bound NUMERIC(12, 2) cannot hold (PostgreSQL would fail)."""
    if where is not None:
        check_decimal(where.min_price, ["filter", "minPrice"])
        check_decimal(where.max_price, ["filter", "maxPrice"])


def _filtered(stmt: Select[Any], where: ProductFilter | None) -> Select[Any]:
    if where is None:
        return stmt
    if where.category is not None:
        stmt = stmt.where(ProductRow.category == where.category)
    if where.search:
        pattern = (
            "%" + where.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(ProductRow.name.ilike(pattern, escape="\\"))
    if where.min_price is not None:
        stmt = stmt.where(ProductRow.price_amount >= where.min_price)
    if where.max_price is not None:
        stmt = stmt.where(ProductRow.price_amount <= where.max_price)
    return stmt


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency_code: CurrencyCode


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    category: str
    price: MoneyInput
    description: str = ""


@strawberry.input
class UpdateProductInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    price: MoneyInput | None = strawberry.UNSET


@strawberry.input
class DeleteProductInput:
    id: strawberry.ID


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteProductPayload:
    deleted_product_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _text_errors(
    field: str, value: str | None, limit: int, *, required: bool = True
) -> list[UserError]:
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


def _price_errors(price: MoneyInput | None) -> list[UserError]:
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


def _not_found(product_id: str) -> UserError:
    return user_error(
        UserErrorCode.PRODUCT_NOT_FOUND, f"No product with id {echo(product_id)}", "input", "id"
    )


@strawberry.type
class Query:
    @strawberry.field(description="A product by exactly one of `id` or `sku`.")
    async def product(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        sku: Annotated[str | None, strawberry.argument(metadata=max_length(SKU_LENGTH))] = None,
    ) -> Product | None:
        if (id is None) == (sku is None):
            raise BadUserInput("Pass exactly one of `id` or `sku`")
        if id is not None:
            return await product_by_id(info.context, str(id))
        return await product_by_sku(info.context, str(sku))

    @strawberry.field(description="The catalogue, filtered and sorted; `first` is at most 100.")
    async def products(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
        sort: ProductSort = ProductSort.NAME_ASC,
    ) -> Connection[Product]:
        _check_filter(filter)
        keys = SORT_KEYS[sort]
        page = PageQuery(_filtered(select(ProductRow), filter), keys, first, after)
        stmt, size = page.statement()
        db = info.context.db
        async with db.session() as session:
            rows = (await session.scalars(stmt)).all()

        async def count() -> int:
            async with db.session() as session:
                total = await session.scalar(_filtered(select(func.count(ProductRow.id)), filter))
            return int(total or 0)

        return build_connection(
            rows, size, after, _SORT_VALUES[sort], keys, Product.from_row, count
        )

    @strawberry.field(description="Every category that has products, alphabetically.")
    async def categories(self, info: Info) -> list[str]:
        async with info.context.db.session() as session:
            stmt = select(ProductRow.category).distinct().order_by(ProductRow.category)
            return list((await session.scalars(stmt)).all())


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admin only.")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        info.context.auth.require_admin()
        errors = [
            *_text_errors("sku", input.sku, SKU_LENGTH),
            *_text_errors("name", input.name, NAME_LENGTH),
            *_text_errors("category", input.category, CATEGORY_LENGTH),
            *_text_errors("description", input.description, DESCRIPTION_LENGTH, required=False),
            *_price_errors(input.price),
        ]
        if errors:
            return ProductPayload(user_errors=errors)
        row = ProductRow(
            id=uuid.uuid4(),
            sku=input.sku.strip(),
            name=input.name.strip(),
            description=input.description,
            category=input.category.strip(),
            price_amount=input.price.amount,
            currency_code=input.price.currency_code.value,
        )
        try:
            async with info.context.db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return ProductPayload(
                user_errors=[
                    user_error(
                        UserErrorCode.SKU_TAKEN, f"SKU {echo(row.sku)} is taken", "input", "sku"
                    )
                ]
            )
        return ProductPayload(product=Product.from_row(row))

    @strawberry.mutation(description="Admin only; fields left out stay unchanged.")
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        info.context.auth.require_admin()
        errors: list[UserError] = []
        if input.name is not strawberry.UNSET:
            errors += _text_errors("name", input.name, NAME_LENGTH)
        if input.category is not strawberry.UNSET:
            errors += _text_errors("category", input.category, CATEGORY_LENGTH)
        if input.description is not strawberry.UNSET:
            errors += _text_errors(
                "description", input.description, DESCRIPTION_LENGTH, required=False
            )
        if input.price is not strawberry.UNSET:
            errors += _price_errors(input.price)
        product_id = parse_uuid(str(input.id))
        if product_id is None:
            errors.insert(0, _not_found(str(input.id)))
        if errors:
            return ProductPayload(user_errors=errors)
        async with info.context.db.session() as session, session.begin():
            row = await session.get(ProductRow, product_id, with_for_update=True)
            if row is None:
                return ProductPayload(user_errors=[_not_found(str(input.id))])
            if input.name is not strawberry.UNSET and input.name is not None:
                row.name = input.name.strip()
            if input.category is not strawberry.UNSET and input.category is not None:
                row.category = input.category.strip()
            if input.description is not strawberry.UNSET and input.description is not None:
                row.description = input.description
            if input.price is not strawberry.UNSET and input.price is not None:
                row.price_amount = input.price.amount
                row.currency_code = input.price.currency_code.value
            row.updated_at = func.now()
            await session.flush()
            await session.refresh(row)
            return ProductPayload(product=Product.from_row(row))

    @strawberry.mutation(description="Admin only.")
    async def delete_product(self, info: Info, input: DeleteProductInput) -> DeleteProductPayload:
        info.context.auth.require_admin()
        product_id = parse_uuid(str(input.id))
        if product_id is not None:
            async with info.context.db.session() as session, session.begin():
                deleted = await session.scalar(
                    delete(ProductRow).where(ProductRow.id == product_id).returning(ProductRow.id)
                )
            if deleted is not None:
                return DeleteProductPayload(deleted_product_id=strawberry.ID(str(deleted)))
        return DeleteProductPayload(user_errors=[_not_found(str(input.id))])


schema = EntitySchema(query=Query, mutation=Mutation, federation_version="2.7")
