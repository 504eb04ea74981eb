"""Hostile strings (issue 10, findings 8 and 12): NUL bytes, over-long input, echoed ids, logs.

Every subgraph refuses a NUL character or an over-long string in any argument
(nested input objects, lists, `_Any` representations) with BAD_USER_INPUT and
the input path in `extensions.field`, before a resolver or PostgreSQL sees it;
database errors are logged without their parameters.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest
from orders_helpers import CHECKOUT, PAY, REMOVE, add_to_cart, checkout
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from subgraph_stack import Stack, admin_token, customer_token, make_product, service_token

from router import Router
from subgraphs.common.database import Database
from subgraphs.stack import SUBGRAPHS
from tests.paths import SCHEMA_DIR

REGISTER = """
mutation ($input: RegisterInput!) {
  register(input: $input) { token user { id } userErrors { code field message } }
}
"""
LOGIN = """
mutation ($input: LoginInput!) {
  login(input: $input) { token userErrors { code field message } }
}
"""
SEARCH = """
query ($filter: ProductFilter) { products(filter: $filter) { totalCount nodes { id } } }
"""
RESERVE = """
mutation ($input: ReserveStockInput!) {
  reserveStock(input: $input) { reservation { id } userErrors { code field message } }
}
"""
NUL = "\x00"
NO_LIST = {"products": None}  # Query.products is nullable: null with its error
DEFAULT_MAX_LENGTH = 10_000
ID_MAX_LENGTH = 256


def refused(
    body: dict[str, Any], field: list[str], message: str, data: dict[str, Any] | None = None
) -> None:
    """`body` is one BAD_USER_INPUT error naming `field`, and `data` (null for non-null roots)."""
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"] == message
    assert body["data"] == data


def nul_message(field: list[str]) -> str:
    return f"`{'.'.join(field)}` must not contain a NUL character (\\u0000)"


def long_message(field: list[str], limit: int) -> str:
    return f"`{'.'.join(field)}` is too long: at most {limit} characters"


@pytest.mark.parametrize("field", ["email", "password", "name"])
async def test_nul_in_register_fields_is_bad_user_input(stack: Stack, field: str) -> None:
    values = {"email": "nul@example.com", "password": "long-enough-pw", "name": "Nul"}
    values[field] = values[field][:3] + NUL + values[field][3:]
    body = await stack.gql("accounts", REGISTER, {"input": values})
    refused(body, ["input", field], nul_message(["input", field]))
    assert await stack.sql("accounts", "SELECT count(*) FROM users") == [(0,)]


@pytest.mark.parametrize("field", ["email", "password"])
async def test_nul_in_login_fields_is_bad_user_input(stack: Stack, field: str) -> None:
    values = {"email": "nul@example.com", "password": "long-enough-pw"}
    values[field] += NUL
    body = await stack.gql("accounts", LOGIN, {"input": values})
    refused(body, ["input", field], nul_message(["input", field]))


async def test_nul_in_a_string_literal_is_refused_too(stack: Stack) -> None:
    query = 'mutation { login(input: {email: "a\\u0000@b.c", password: "x"}) { token } }'
    body = await stack.gql("accounts", query)
    refused(body, ["input", "email"], nul_message(["input", "email"]))


async def test_over_long_password_is_bad_user_input(stack: Stack) -> None:
    values = {"email": "long@example.com", "password": "p" * 1_000_000, "name": "Long"}
    body = await stack.gql("accounts", REGISTER, {"input": values})
    refused(body, ["input", "password"], long_message(["input", "password"], DEFAULT_MAX_LENGTH))


async def test_nul_in_idempotency_keys_is_bad_user_input(stack: Stack) -> None:
    token = customer_token()
    product = await make_product(stack, stock=5)
    await add_to_cart(stack, token, product["id"])
    body = await stack.gql("orders", CHECKOUT, {"input": {"idempotencyKey": "k" + NUL}}, token)
    refused(body, ["input", "idempotencyKey"], nul_message(["input", "idempotencyKey"]))
    assert await stack.sql("orders", "SELECT count(*) FROM orders") == [(0,)]

    order = (await checkout(stack, token, "checkout-1"))["order"]
    pay_input = {"orderId": order["id"], "idempotencyKey": NUL, "paymentToken": "tok_visa"}
    body = await stack.gql("orders", PAY, {"input": pay_input}, token)
    refused(body, ["input", "idempotencyKey"], nul_message(["input", "idempotencyKey"]))
    body = await stack.gql(
        "orders", PAY, {"input": {**pay_input, "idempotencyKey": "p", "paymentToken": NUL}}, token
    )
    refused(body, ["input", "paymentToken"], nul_message(["input", "paymentToken"]))


async def test_nul_in_cart_product_id_is_bad_user_input(stack: Stack) -> None:
    body = await stack.gql(
        "orders", REMOVE, {"input": {"productId": str(uuid.uuid4()) + NUL}}, customer_token()
    )
    refused(body, ["input", "productId"], nul_message(["input", "productId"]))


async def test_nul_in_product_search_and_lookups_is_bad_user_input(stack: Stack) -> None:
    await make_product(stack, name="Searchable mug")
    body = await stack.gql("products", SEARCH, {"filter": {"search": "mug" + NUL}})
    refused(body, ["filter", "search"], nul_message(["filter", "search"]), NO_LIST)
    body = await stack.gql("products", SEARCH, {"filter": {"categorySlug": NUL}})
    refused(body, ["filter", "categorySlug"], nul_message(["filter", "categorySlug"]), NO_LIST)
    body = await stack.gql("products", "query ($s: String) { product(sku: $s) { id } }", {"s": NUL})
    refused(body, ["sku"], nul_message(["sku"]), {"product": None})
    entities = "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } } }"
    reps = [
        {"__typename": "Product", "id": str(uuid.uuid4())},
        {"__typename": "Product", "sku": NUL},
    ]
    body = await stack.gql("products", entities, {"r": reps})
    refused(body, ["representations", "1", "sku"], nul_message(["representations", "1", "sku"]))
    # the same search without the NUL still works
    found = await stack.data("products", SEARCH, {"filter": {"search": "mug"}})
    assert found["products"]["totalCount"] == 1


async def test_domain_limits_are_tighter_than_the_default(stack: Stack) -> None:
    body = await stack.gql("products", SEARCH, {"filter": {"search": "m" * 201}})
    refused(body, ["filter", "search"], long_message(["filter", "search"], 200), NO_LIST)
    ok = await stack.data("products", SEARCH, {"filter": {"search": "m" * 200}})
    assert ok["products"]["totalCount"] == 0


async def test_nested_list_inputs_are_checked(stack: Stack) -> None:
    lines = [
        {"productId": str(uuid.uuid4()), "quantity": 1},
        {"productId": "bad" + NUL, "quantity": 1},
    ]
    body = await stack.gql(
        "inventory",
        RESERVE,
        {"input": {"reservationId": str(uuid.uuid4()), "lines": lines}},
        service_token(),
    )
    field = ["input", "lines", "1", "productId"]
    refused(body, field, nul_message(field))


async def test_a_huge_id_is_refused_and_a_long_one_is_echoed_truncated(stack: Stack) -> None:
    token = customer_token()
    huge = "x" * 100_000
    response = await stack.http.post(
        stack.url("orders"),
        json={"query": REMOVE, "variables": {"input": {"productId": huge}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    refused(
        response.json(),
        ["input", "productId"],
        long_message(["input", "productId"], ID_MAX_LENGTH),
    )
    assert len(response.content) < 1000

    long_id = "y" * ID_MAX_LENGTH
    added = await add_to_cart(stack, token, long_id)
    assert added["userErrors"] == [
        {
            "code": "PRODUCT_NOT_FOUND",
            "field": ["input", "productId"],
            "message": f"No product with id {'y' * 64}…",
        }
    ]
    removed = (await stack.data("orders", REMOVE, {"input": {"productId": long_id}}, token))[
        "removeFromCart"
    ]
    assert removed["userErrors"][0]["message"] == f"Product {'y' * 64}… is not in the cart"
    update = """
    mutation ($input: UpdateProductInput!) { updateProduct(input: $input) {
      userErrors { code field message } } }
    """
    updated = await stack.data("products", update, {"input": {"id": long_id}}, admin_token())
    assert updated["updateProduct"]["userErrors"] == [
        {
            "code": "PRODUCT_NOT_FOUND",
            "field": ["input", "id"],
            "message": f"No product with id {'y' * 64}…",
        }
    ]
    cancel = """
    mutation ($input: OrderIdInput!) { cancelOrder(input: $input) { userErrors { message } } }
    """
    cancelled = await stack.data("orders", cancel, {"input": {"orderId": long_id}}, token)
    assert cancelled["cancelOrder"]["userErrors"] == [{"message": f"No order with id {'y' * 64}…"}]


async def test_database_errors_are_logged_without_parameters(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    await stack.sql("accounts", "ALTER TABLE users RENAME TO users_moved")
    values = {"email": "secret-email@example.com", "password": "hunter2-teapot-lamp", "name": "Zed"}
    try:
        with caplog.at_level(logging.ERROR):
            body = await stack.gql("accounts", REGISTER, {"input": values})
    finally:
        await stack.sql("accounts", "ALTER TABLE users_moved RENAME TO users")
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    logged = caplog.text
    assert "Unexpected error at ['register']" in logged
    assert "sqlstate 42P01" in logged  # undefined_table: enough to find the cause
    assert "INSERT INTO users" in logged
    for secret in ("$argon2", "secret-email", "Zed", "hunter2"):
        assert secret not in logged


async def test_the_engine_hides_sql_parameters(stack: Stack) -> None:
    db = Database(stack.database_urls["accounts"])
    try:
        with pytest.raises(DBAPIError) as caught:
            async with db.engine.begin() as conn:
                await conn.execute(text("SELECT CAST(:value AS text)"), {"value": "secret" + NUL})
    finally:
        await db.dispose()
    assert "secret" not in str(caught.value)
    assert "SQL parameters hidden" in str(caught.value)


async def test_a_failing_payment_provider_logs_one_warning(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    token = customer_token()
    product = await make_product(stack, stock=5)
    await add_to_cart(stack, token, product["id"])
    order = (await checkout(stack, token, "checkout-1"))["order"]
    with caplog.at_level(logging.INFO, logger="shopgraph"):
        body = await stack.data(
            "orders",
            PAY,
            {
                "input": {
                    "orderId": order["id"],
                    "idempotencyKey": "p1",
                    "paymentToken": "tok_error",
                }
            },
            token,
        )
    assert body["pay"]["userErrors"][0]["code"] == "SERVICE_UNAVAILABLE"
    records = [r for r in caplog.records if r.name.startswith("shopgraph")]
    assert [(r.name, r.levelname, r.exc_info) for r in records] == [
        ("shopgraph.orders.paying", "WARNING", None)
    ]
    assert records[0].getMessage() == (
        f"payment provider failed for order {order['id']}: payment provider unavailable"
    )


async def test_deeply_nested_json_in_representations_is_bad_user_input(stack: Stack) -> None:
    # a representation's id nested 1,000 lists deep crashed str(id) with a RecursionError
    text = (
        '{"query": "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }", '
        '"variables": {"r": [{"__typename": "Product", "id": ' + "[" * 1000 + "]" * 1000 + "}]}}"
    )
    response = await stack.http.post(
        stack.url("products"), content=text, headers={"Content-Type": "application/json"}
    )
    field = ["representations", "0", "id", "0", "0", "0", "0", "0"]
    refused(
        response.json(),
        field,
        "`representations.0.id.0.0.0.0.0…` nests too deeply: at most 64 levels",
    )


async def test_an_operation_name_that_is_not_a_name_is_refused_unechoed(stack: Stack) -> None:
    for name in ("x" * 100_000, "no spaces", "N" + NUL):
        response = await stack.http.post(
            stack.url("products"), json={"query": "query Q { categories }", "operationName": name}
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": "`operationName` must be a GraphQL name of at most 256 characters",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }


async def test_through_the_router_the_client_sees_the_same_error(stack: Stack) -> None:
    sdl = (SCHEMA_DIR / "supergraph.graphql").read_text()
    async with httpx.AsyncClient(timeout=30) as client:
        router = Router.from_supergraph(
            sdl, subgraph_urls={name: stack.url(name) for name in SUBGRAPHS}, http_client=client
        )
        values = {"email": "nul" + NUL + "@example.com", "password": "long-enough-pw", "name": "N"}
        body = await router.execute(REGISTER, {"input": values})
    assert body == {
        "data": None,
        "errors": [
            {
                "message": nul_message(["input", "email"]),
                "path": ["register"],
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "field": ["input", "email"],
                    "serviceName": "accounts",
                },
            }
        ],
    }
