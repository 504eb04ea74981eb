"""The running test stack and helpers shared by the subgraph tests (fixtures are in conftest)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from subgraphs.common.auth import ADMIN, CUSTOMER, SERVICE, TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.payments.gateways.fake import FakeGateway
from subgraphs.products.app import create_app as create_products_app
from subgraphs.products.text import slugify

# A fresh secret per test session: no test may pass only because a secret is well known.
_SECRET = secrets.token_urlsafe(32)
CODEC = TokenCodec("HS256", _SECRET, _SECRET)

# The subgraphs the stack runs, in start order (products asks inventory, orders all of them).
NAMES = (
    "accounts",
    "inventory",
    "products",
    "promotions",
    "payments",
    "suggestions",
    "orders",
)
# What every database that uses events holds (subgraphs.common.events.tables).
EVENT_TABLES = ["event_outbox", "event_handled", "event_dead_letters"]
# Emptied before every test (counts_state, suggestions' one-row version counter, stays).
TABLES = {
    "accounts": ["users", "login_failures", *EVENT_TABLES],
    "products": ["products", "categories"],
    "inventory": [
        "stock_adjustments",
        "reservation_lines",
        "reservations",
        "stock_items",
        *EVENT_TABLES,
    ],
    "orders": ["payments", "order_lines", "orders", "cart_lines", "carts", *EVENT_TABLES],
    "promotions": ["promotions"],
    "payments": ["payments", "fake_gateway_charges", *EVENT_TABLES],
    "suggestions": ["baskets", "basket_lines", "co_purchases", "product_sales", *EVENT_TABLES],
}


def admin_token() -> str:
    return CODEC.issue(str(uuid.uuid4()), ADMIN)


def customer_token(user_id: str | None = None) -> str:
    return CODEC.issue(user_id or str(uuid.uuid4()), CUSTOMER)


def service_token() -> str:
    return CODEC.issue("orders", SERVICE)


@dataclass
class Stack:
    """The running subgraphs, their databases, and payments' fake gateway."""

    http: httpx.AsyncClient
    servers: dict[str, RunningServer]
    database_urls: dict[str, str]
    dbs: dict[str, Database]
    gateway: FakeGateway
    maildir: Path | None = None  # where the SMTP sink keeps what accounts' mailer sent
    extra: list[RunningServer] = field(default_factory=list)

    def url(self, name: str) -> str:
        return self.servers[name].graphql_url

    def app_db(self, name: str) -> Database:
        """The Database object the running app itself uses (for counting its SQL)."""
        return self.servers[name].app.config["SHOPGRAPH_DB"]  # type: ignore[attr-defined, no-any-return]

    async def post(
        self,
        url: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def gql(
        self,
        name: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        return await self.post(self.url(name), query, variables, token)

    async def data(
        self,
        name: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = await self.gql(name, query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def sql(self, name: str, statement: str, **params: Any) -> list[Any]:
        async with self.dbs[name].engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def charges(self) -> list[tuple[str, str]]:
        """What the fake gateway was asked to charge: (amount, status) per charge, oldest
        first (status AUTHORIZED, CAPTURED, DECLINED or REFUNDED)."""
        rows = await self.sql(
            "payments",
            "SELECT amount::text, status FROM fake_gateway_charges ORDER BY created_at, reference",
        )
        return [(amount, status) for amount, status in rows]


CREATE_PRODUCT = """
mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id sku slug name category { slug } price { amount currencyCode } createdAt }
    userErrors { code field message }
  }
}
"""

CREATE_CATEGORY = """
mutation CreateCategory($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { slug name } userErrors { code field message } }
}
"""

ADJUST_STOCK = """
mutation Adjust($input: AdjustStockInput!) {
  adjustStock(input: $input) {
    adjustment { idempotencyKey delta onHandAfter product { id } }
    product { id stock { onHand reserved available } }
    userErrors { code field message }
  }
}
"""


async def make_category(stack: Stack, name: str) -> str:
    """The slug of the category called `name`, created unless it exists."""
    slug = slugify(name)
    variables = {"input": {"name": name, "slug": slug}}
    payload = (await stack.data("products", CREATE_CATEGORY, variables, admin_token()))[
        "createCategory"
    ]
    assert payload["userErrors"] in ([], [_slug_taken(slug)]), payload
    return slug


def _slug_taken(slug: str) -> dict[str, Any]:
    message = f"A category with slug {slug} exists"
    return {"code": "SLUG_TAKEN", "field": ["input", "slug"], "message": message}


async def make_product(
    stack: Stack,
    *,
    sku: str | None = None,
    name: str = "Test product",
    price: str = "10.00",
    category: str = "Testing",
    stock: int | None = None,
    description: str = "",
) -> dict[str, Any]:
    """A new product in the category called `category` (created if need be)."""
    slug = await make_category(stack, category)
    payload = (
        await stack.data(
            "products",
            CREATE_PRODUCT,
            {
                "input": {
                    "sku": sku or f"SKU-{uuid.uuid4().hex[:10]}",
                    "name": name,
                    "categorySlug": slug,
                    "description": description,
                    "price": {"amount": price, "currencyCode": "USD"},
                }
            },
            admin_token(),
        )
    )["createProduct"]
    assert payload["userErrors"] == []
    product: dict[str, Any] = payload["product"]
    if stock:
        await set_stock(stack, product["id"], stock)
    return product


async def insert_products(
    stack: Stack, sku_prefix: str, name_prefix: str, count: int, price_sql: str = "1"
) -> None:
    """`count` products straight into the table (fast): SKU `<sku_prefix>-<i>`, name
    `<name_prefix> <i>`, price the SQL expression `price_sql` of `i`, category "bulk"."""
    await stack.sql(
        "products",
        "INSERT INTO categories (slug, name) VALUES ('bulk', 'Bulk') ON CONFLICT DO NOTHING",
    )
    await stack.sql(
        "products",
        "INSERT INTO products (id, sku, slug, name, name_folded, description_folded, "
        "category_slug, price_amount, currency_code) "
        "SELECT gen_random_uuid(), :sku || '-' || i, lower(:sku) || '-' || i, :label || ' ' || i, "
        f"lower(:label || ' ' || i), '', 'bulk', {price_sql}, 'USD' "
        "FROM generate_series(1, :n) AS i",
        sku=sku_prefix,
        label=name_prefix,
        n=count,
    )


async def set_stock(stack: Stack, product_id: str, delta: int) -> dict[str, Any]:
    payload = (
        await stack.data(
            "inventory",
            ADJUST_STOCK,
            {
                "input": {
                    "productId": product_id,
                    "delta": delta,
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            admin_token(),
        )
    )["adjustStock"]
    assert payload["userErrors"] == []
    return payload


async def products_without_inventory(stack: Stack) -> str:
    """The GraphQL URL of a second products subgraph on the stack's database whose
    inventory does not answer (nothing listens on port 9); stopped with the stack."""
    app = create_products_app(
        stack.database_urls["products"],
        codec=CODEC,
        inventory_url="http://127.0.0.1:9/graphql",
        upstream_timeout=2,
    )
    server = await start_server(app)
    stack.extra.append(server)
    return server.graphql_url
