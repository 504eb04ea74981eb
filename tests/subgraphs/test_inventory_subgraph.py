"""inventory: stock on Product, admin adjustments, reservations and their expiry."""

from __future__ import annotations

import uuid

from graphql import InputObjectTypeDefinitionNode, parse
from router_helpers import authorization_directives
from subgraph_stack import ADJUST_STOCK, Stack, admin_token, customer_token, service_token

from subgraphs.inventory import stock
from subgraphs.sdl import service_sdl

STOCK = """
query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Product { id stock { onHand reserved available } inStock }
  }
}
"""
RESERVE = """
mutation Reserve($input: ReserveStockInput!) {
  reserveStock(input: $input) {
    reservation { id status lines { product { id } quantity } }
    userErrors { code field message }
  }
}
"""
COMMIT = """
mutation ($input: CommitReservationInput!) {
  commitReservation(input: $input) { reservation { id status } userErrors { code message } }
}
"""
RELEASE = """
mutation ($input: ReservationIdInput!) {
  releaseReservation(input: $input) { reservation { id status } userErrors { code message } }
}
"""


async def levels(stack: Stack, *product_ids: str) -> list[tuple[int, int, int, bool]]:
    body = await stack.data(
        "inventory",
        STOCK,
        {"reps": [{"__typename": "Product", "id": p} for p in product_ids]},
        service_token(),
    )
    return [
        (e["stock"]["onHand"], e["stock"]["reserved"], e["stock"]["available"], e["inStock"])
        for e in body["_entities"]
    ]


async def adjust(stack: Stack, product_id: str, delta: int, key: str, token: str | None = None):
    return await stack.gql(
        "inventory",
        ADJUST_STOCK,
        {"input": {"productId": product_id, "delta": delta, "idempotencyKey": key}},
        token or admin_token(),
    )


async def reserve(stack: Stack, reservation_id: str, lines: list[tuple[str, int]], ttl: int = 600):
    body = await stack.data(
        "inventory",
        RESERVE,
        {
            "input": {
                "reservationId": reservation_id,
                "lines": [{"productId": p, "quantity": q} for p, q in lines],
                "ttlSeconds": ttl,
            }
        },
        service_token(),
    )
    return body["reserveStock"]


async def test_unknown_products_have_zero_stock(stack: Stack) -> None:
    assert await levels(stack, str(uuid.uuid4()), str(uuid.uuid4())) == [(0, 0, 0, False)] * 2
    # a malformed id is not an unknown product but the caller's mistake
    reps = [{"__typename": "Product", "id": "not-a-uuid"}]
    body = await stack.gql("inventory", STOCK, {"reps": reps})
    assert body["data"] == {"_entities": [None]}
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["_entities", 0], {"code": "BAD_USER_INPUT", "field": ["representations", "0", "id"]})
    ]


async def test_adjust_stock_is_idempotent_per_key(stack: Stack) -> None:
    product = str(uuid.uuid4())
    first = (await adjust(stack, product, 10, "restock-1"))["data"]["adjustStock"]
    assert first["userErrors"] == []
    assert first["adjustment"] == {
        "idempotencyKey": "restock-1",
        "delta": 10,
        "onHandAfter": 10,
        "product": {"id": product},
    }
    assert first["product"]["stock"] == {"onHand": 10, "reserved": 0, "available": 10}

    repeat = (await adjust(stack, product, 10, "restock-1"))["data"]["adjustStock"]
    assert repeat["adjustment"] == first["adjustment"]
    assert await levels(stack, product) == [(10, 0, 10, True)]

    reused = (await adjust(stack, product, 5, "restock-1"))["data"]["adjustStock"]
    assert reused["adjustment"] is None
    assert reused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    removed = (await adjust(stack, product, -4, "shrinkage-1"))["data"]["adjustStock"]
    assert removed["adjustment"]["onHandAfter"] == 6
    assert await levels(stack, product) == [(6, 0, 6, True)]


async def test_an_adjustment_key_is_bound_to_its_product_and_delta(stack: Stack) -> None:
    mug, tea = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await adjust(stack, mug, 3, "k1"))["data"]["adjustStock"]["userErrors"] == []
    for product, delta in ((tea, 3), (mug, 4)):
        other = (await adjust(stack, product, delta, "k1"))["data"]["adjustStock"]
        assert other["userErrors"] == [
            {
                "code": "IDEMPOTENCY_KEY_REUSED",
                "field": ["input", "idempotencyKey"],
                "message": "This idempotencyKey was used for a different adjustment",
            }
        ]
    # a refused adjustment did not use its key
    refused = (await adjust(stack, mug, -9, "k2"))["data"]["adjustStock"]
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert (await adjust(stack, mug, -1, "k2"))["data"]["adjustStock"]["userErrors"] == []
    assert await levels(stack, mug, tea) == [(2, 0, 2, True), (0, 0, 0, False)]


def test_the_schema_says_what_an_adjustment_key_is_bound_to() -> None:
    document = parse(service_sdl("inventory"))
    [adjust_input] = [
        d
        for d in document.definitions
        if isinstance(d, InputObjectTypeDefinitionNode) and d.name.value == "AdjustStockInput"
    ]
    [key] = [f for f in adjust_input.fields or () if f.name.value == "idempotencyKey"]
    assert key.description is not None
    assert key.description.value == (
        "Binds this adjustment to its first request's input (productId and delta): the same "
        "key again with the same productId and delta returns the first adjustment (its "
        "onHandAfter as it was then) and changes nothing; with a different productId or delta "
        "it is IDEMPOTENCY_KEY_REUSED. A refused adjustment (userErrors) did not use its key. "
        "1-200 characters, surrounding blanks ignored; one key space for the whole shop, not "
        "one per admin."
    )


async def test_adjust_stock_never_goes_below_reserved(stack: Stack) -> None:
    product = str(uuid.uuid4())
    await adjust(stack, product, 5, "k1")
    assert (await reserve(stack, str(uuid.uuid4()), [(product, 3)]))["userErrors"] == []
    too_much = (await adjust(stack, product, -3, "k2"))["data"]["adjustStock"]
    assert too_much["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": ["input", "delta"],
            "message": "Cannot remove more units than are on hand and unreserved",
        }
    ]
    assert await levels(stack, product) == [(5, 3, 2, True)]
    ok = (await adjust(stack, product, -2, "k3"))["data"]["adjustStock"]
    assert ok["userErrors"] == []
    assert await levels(stack, product) == [(3, 3, 0, False)]
    bad = (await adjust(stack, "nope", 0, " "))["data"]["adjustStock"]
    assert [e["code"] for e in bad["userErrors"]] == [
        "PRODUCT_NOT_FOUND",
        "INVALID_QUANTITY",
        "INVALID_INPUT",
    ]


async def test_stock_writes_need_admin_and_reservations_need_service(stack: Stack) -> None:
    product = str(uuid.uuid4())
    customer = await adjust(stack, product, 5, "k", customer_token())
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await stack.gql(
        "inventory",
        RESERVE,
        {
            "input": {
                "reservationId": str(uuid.uuid4()),
                "lines": [{"productId": product, "quantity": 1}],
            }
        },
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    as_customer = await stack.gql(
        "inventory",
        RESERVE,
        {
            "input": {
                "reservationId": str(uuid.uuid4()),
                "lines": [{"productId": product, "quantity": 1}],
            }
        },
        customer_token(),
    )
    assert as_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await stack.sql("inventory", "SELECT product_id FROM stock_items") == []


async def test_reserve_is_all_or_nothing(stack: Stack) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await adjust(stack, a, 5, "a")
    await adjust(stack, b, 1, "b")
    short = await reserve(stack, str(uuid.uuid4()), [(a, 2), (b, 2)])
    assert short["reservation"] is None
    assert short["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": ["input", "lines", "1", "quantity"],
            "message": f"Only 1 available of product {b}, 2 requested",
        }
    ]
    assert await levels(stack, a, b) == [(5, 0, 5, True), (1, 0, 1, True)]
    assert await stack.sql("inventory", "SELECT id FROM reservations") == []


async def test_reserve_commit_release_lifecycle(stack: Stack) -> None:
    product = str(uuid.uuid4())
    await adjust(stack, product, 10, "init")
    rid = str(uuid.uuid4())
    held = await reserve(stack, rid, [(product, 2), (product, 1)])
    assert held["reservation"]["status"] == "ACTIVE"
    assert held["reservation"]["lines"] == [{"product": {"id": product}, "quantity": 3}]
    assert await levels(stack, product) == [(10, 3, 7, True)]

    replay = await reserve(stack, rid, [(product, 3)])
    assert replay["reservation"]["status"] == "ACTIVE"
    assert await levels(stack, product) == [(10, 3, 7, True)]
    changed = await reserve(stack, rid, [(product, 4)])
    assert changed["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    committed = await stack.data(
        "inventory", COMMIT, {"input": {"reservationId": rid}}, service_token()
    )
    assert committed["commitReservation"]["reservation"]["status"] == "COMMITTED"
    assert await levels(stack, product) == [(7, 0, 7, True)]
    again = await stack.data(
        "inventory", COMMIT, {"input": {"reservationId": rid}}, service_token()
    )
    assert again["commitReservation"]["userErrors"] == []
    assert await levels(stack, product) == [(7, 0, 7, True)]

    # Releasing a committed reservation puts the units back (order cancelled after payment).
    released = await stack.data(
        "inventory", RELEASE, {"input": {"reservationId": rid}}, service_token()
    )
    assert released["releaseReservation"]["reservation"]["status"] == "RELEASED"
    assert await levels(stack, product) == [(10, 0, 10, True)]
    twice = await stack.data(
        "inventory", RELEASE, {"input": {"reservationId": rid}}, service_token()
    )
    assert twice["releaseReservation"]["reservation"]["status"] == "RELEASED"
    assert await levels(stack, product) == [(10, 0, 10, True)]


async def test_release_before_reserve_blocks_a_late_reserve(stack: Stack) -> None:
    product = str(uuid.uuid4())
    await adjust(stack, product, 4, "init")
    rid = str(uuid.uuid4())
    released = await stack.data(
        "inventory", RELEASE, {"input": {"reservationId": rid}}, service_token()
    )
    assert released["releaseReservation"]["reservation"]["status"] == "RELEASED"
    late = await reserve(stack, rid, [(product, 1)])
    assert late["userErrors"][0]["code"] == "RESERVATION_NOT_ACTIVE"
    assert await levels(stack, product) == [(4, 0, 4, True)]


async def test_expired_reservations_release_their_stock(stack: Stack) -> None:
    product = str(uuid.uuid4())
    await adjust(stack, product, 3, "init")
    expiring, lasting = str(uuid.uuid4()), str(uuid.uuid4())
    await reserve(stack, expiring, [(product, 2)], ttl=60)
    await reserve(stack, lasting, [(product, 1)], ttl=600)
    await stack.sql(
        "inventory",
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=uuid.UUID(expiring),
    )
    assert await stock.release_expired(stack.app_db("inventory")) == 1
    assert await levels(stack, product) == [(3, 1, 2, True)]
    statuses = dict(await stack.sql("inventory", "SELECT id::text, status FROM reservations"))
    assert statuses == {expiring: "EXPIRED", lasting: "ACTIVE"}
    assert await stock.release_expired(stack.app_db("inventory")) == 0

    # Committing an expired reservation fails and returns its units.
    await stack.sql(
        "inventory",
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=uuid.UUID(lasting),
    )
    late = await stack.data(
        "inventory", COMMIT, {"input": {"reservationId": lasting}}, service_token()
    )
    assert late["commitReservation"]["userErrors"] == [
        {"code": "RESERVATION_NOT_ACTIVE", "message": "Reservation is EXPIRED"}
    ]
    assert await levels(stack, product) == [(3, 0, 3, True)]


async def test_reservation_query_is_for_admins(stack: Stack) -> None:
    product = str(uuid.uuid4())
    await adjust(stack, product, 3, "init")
    rid = str(uuid.uuid4())
    await reserve(stack, rid, [(product, 2)])
    query = "query ($id: ID!) { reservation(id: $id) { id status lines { quantity } } }"
    seen = await stack.data("inventory", query, {"id": rid}, admin_token())
    assert seen["reservation"] == {"id": rid, "status": "ACTIVE", "lines": [{"quantity": 2}]}
    denied = await stack.gql("inventory", query, {"id": rid}, customer_token())
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_stock_counts_are_refused_without_the_admin_or_service_role(stack: Stack) -> None:
    """Defence in depth: the router removes onHand/reserved without the scope; a direct
    call to the subgraph gets them null with FORBIDDEN, and `available` as usual."""
    product = str(uuid.uuid4())
    await adjust(stack, product, 5, "init")
    await reserve(stack, str(uuid.uuid4()), [(product, 2)])
    reps = {"reps": [{"__typename": "Product", "id": product}]}
    for token in (None, customer_token()):
        body = await stack.gql("inventory", STOCK, reps, token)
        assert body["data"] == {
            "_entities": [
                {
                    "id": product,
                    "stock": {"onHand": None, "reserved": None, "available": 3},
                    "inStock": True,
                }
            ]
        }
        assert [(e["path"], e["extensions"], e["message"]) for e in body["errors"]] == [
            (
                ["_entities", 0, "stock", "onHand"],
                {"code": "FORBIDDEN"},
                "Stock.onHand is for admins and services only",
            ),
            (
                ["_entities", 0, "stock", "reserved"],
                {"code": "FORBIDDEN"},
                "Stock.reserved is for admins and services only",
            ),
        ]
    for token in (admin_token(), service_token()):
        seen = await stack.data("inventory", STOCK, reps, token)
        assert seen["_entities"][0]["stock"] == {"onHand": 5, "reserved": 2, "available": 3}
    # a broken token is not a guest: UNAUTHENTICATED, whatever the field
    broken = await stack.gql("inventory", STOCK, reps, "not-a-jwt")
    assert broken["data"]["_entities"][0]["stock"]["available"] == 3
    assert [(e["path"], e["extensions"]["code"]) for e in broken["errors"]] == [
        (["_entities", 0, "stock", "onHand"], "UNAUTHENTICATED"),
        (["_entities", 0, "stock", "reserved"], "UNAUTHENTICATED"),
    ]


def test_the_schema_declares_who_may_read_stock_counts_and_reservations() -> None:
    staff = '@requiresScopes(scopes: [["admin"], ["service"]])'
    assert authorization_directives(service_sdl("inventory")) == {
        "Stock.onHand": staff,
        "Stock.reserved": staff,
        "Query.reservation": staff,
        "Mutation.adjustStock": '@requiresScopes(scopes: [["admin"]])',
    }
    assert authorization_directives(service_sdl("accounts")) == {}
