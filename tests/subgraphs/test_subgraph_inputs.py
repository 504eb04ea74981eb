"""Hostile values that pass the string guard (issue 10): entity representations,
keyset cursors and decimal filters are checked before any SQL.

A client's mistake is BAD_USER_INPUT naming the input at fault, never an
INTERNAL_SERVER_ERROR with a traceback in the log; an `_entities` request costs
a bounded amount whatever it holds; a failure many entities share is logged once.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from subgraph_stack import (
    Stack,
    admin_token,
    customer_token,
    insert_products,
    make_product,
)

from subgraphs.common.entities import (
    DEFAULT_MAX_REPRESENTATIONS,
    ENV,
    IN_LIST_CHUNK,
    max_representations_setting,
)
from subgraphs.common.limits import LimitsSettingError

ENTITIES = "query ($r: [_Any!]!) { _entities(representations: $r) { %s } }"
PRODUCT_ENTITIES = ENTITIES % "... on Product { id sku }"
NIL = "00000000-0000-0000-0000-000000000000"


async def statements_of(
    stack: Stack, name: str, request: Callable[[], Awaitable[Any]]
) -> tuple[Any, list[str]]:
    """`request`'s result and every SQL statement the `name` app sent meanwhile."""
    sent: list[str] = []
    unsubscribe = stack.app_db(name).on_statement(sent.append)
    try:
        return await request(), sent
    finally:
        unsubscribe()


def errors_of(body: dict[str, Any]) -> list[tuple[Any, str, dict[str, Any]]]:
    return [(e.get("path"), e["message"], e["extensions"]) for e in body["errors"]]


def bad(field: list[str]) -> dict[str, Any]:
    return {"code": "BAD_USER_INPUT", "field": field}


def refused_key(index: int, key: str, problem: str) -> tuple[Any, str, dict[str, Any]]:
    """The error of representation `index`, whose `key` value is wrong."""
    at = ["representations", str(index), key]
    return ["_entities", index], f"`{'.'.join(at)}` {problem}", bad(at)


# --- _entities: representations -------------------------------------------------------


async def test_a_key_of_the_wrong_type_fails_only_its_entity_and_reaches_no_sql(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # a non-string sku failed the batched SQL: every entity INTERNAL_SERVER_ERROR, N tracebacks
    product = await make_product(stack, sku="GOOD-1")
    reps = [
        {"__typename": "Product", "sku": "GOOD-1"},
        {"__typename": "Product", "sku": 12345},
        {"__typename": "Product", "id": 5},
        {"__typename": "Product", "id": "not-a-uuid"},
        {"__typename": "Product", "sku": None},
        {"__typename": "Product", "id": product["id"]},
    ]
    with caplog.at_level(logging.ERROR):
        body = await stack.gql("products", PRODUCT_ENTITIES, {"r": reps})
    found = {"id": product["id"], "sku": "GOOD-1"}
    assert body["data"] == {"_entities": [found, None, None, None, None, found]}
    assert errors_of(body) == [
        refused_key(1, "sku", "must be a string"),
        refused_key(2, "id", "must be a string"),
        refused_key(3, "id", "must be a UUID"),
        refused_key(4, "sku", "must be a string"),
    ]
    assert caplog.records == []

    # a single bad key alone: no SQL at all
    alone, sent = await statements_of(
        stack,
        "products",
        lambda: stack.gql(
            "products", PRODUCT_ENTITIES, {"r": [{"__typename": "Product", "sku": 7}]}
        ),
    )
    assert alone["data"] == {"_entities": [None]}
    assert errors_of(alone) == [refused_key(0, "sku", "must be a string")]
    assert sent == []


@pytest.mark.parametrize(
    ("representation", "message", "field"),
    [
        ("Product", "`representations.0` must be an object with `__typename`", []),
        (7, "`representations.0` must be an object with `__typename`", []),
        ([1, 2], "`representations.0` must be an object with `__typename`", []),
        (
            {"id": NIL},
            "`representations.0.__typename` must name an entity type this subgraph resolves",
            ["__typename"],
        ),
        (
            {"__typename": 5, "id": NIL},
            "`representations.0.__typename` must name an entity type this subgraph resolves",
            ["__typename"],
        ),
        (
            {"__typename": "Nope", "id": NIL},
            "`representations.0.__typename` must name an entity type this subgraph resolves",
            ["__typename"],
        ),
        (
            {"__typename": "Money", "id": NIL},
            "`representations.0.__typename` must name an entity type this subgraph resolves",
            ["__typename"],
        ),
        (
            {"__typename": "Product"},
            "`representations.0` must hold a key of Product: `id` or `sku`",
            [],
        ),
        (
            {"__typename": "Product", "id": NIL, "name": "x"},
            "`representations.0.name` is not a field of a Product representation",
            ["name"],
        ),
        (
            {"__typename": "Product", "id": NIL, "info": "x"},
            "`representations.0.info` is not a field of a Product representation",
            ["info"],
        ),
    ],
)
async def test_malformed_representations_are_bad_user_input(
    stack: Stack,
    caplog: pytest.LogCaptureFixture,
    representation: Any,
    message: str,
    field: list[str],
) -> None:
    # each was an INTERNAL_SERVER_ERROR (KeyError, AttributeError, TypeError) with a traceback
    with caplog.at_level(logging.ERROR):
        body = await stack.gql("products", PRODUCT_ENTITIES, {"r": [representation]})
    assert body["data"] == {"_entities": [None]}
    assert errors_of(body) == [(["_entities", 0], message, bad(["representations", "0", *field]))]
    assert caplog.records == []


async def test_entities_this_subgraph_does_not_resolve_are_refused(stack: Stack) -> None:
    # orders declares Product with @key(resolvable: false): nothing to resolve it with
    reps = [{"__typename": "Product", "id": NIL}, {"__typename": "User", "id": NIL}]
    query = ENTITIES % "... on User { id }"
    body = await stack.gql("orders", query, {"r": reps}, admin_token())
    assert body["data"] == {"_entities": [None, {"id": NIL}]}
    assert errors_of(body) == [
        (
            ["_entities", 0],
            "`representations.0.__typename` must name an entity type this subgraph resolves",
            bad(["representations", "0", "__typename"]),
        )
    ]


@pytest.mark.parametrize(
    ("name", "fragment", "token"),
    [
        ("accounts", "... on User { id }", admin_token),
        ("inventory", "... on Product { id }", None),
        ("orders", "... on Order { id }", admin_token),
        ("orders", "... on User { id }", admin_token),
    ],
)
async def test_malformed_ids_are_refused_by_every_subgraph(
    stack: Stack, name: str, fragment: str, token: Callable[[], str] | None
) -> None:
    typename = fragment.split()[2]
    reps = [{"__typename": typename, "id": "x" * 40}, {"__typename": typename, "id": 12}]
    body = await stack.gql(name, ENTITIES % fragment, {"r": reps}, token() if token else None)
    assert body["data"] == {"_entities": [None, None]}
    assert errors_of(body) == [
        refused_key(0, "id", "must be a UUID"),
        refused_key(1, "id", "must be a string"),
    ]


async def test_too_many_representations_are_refused_before_any_sql(stack: Stack) -> None:
    # 50,000-100,000 representations took a subgraph to ~23 GB (one IN with every id)
    reps = [{"__typename": "Product", "id": NIL}] * (DEFAULT_MAX_REPRESENTATIONS + 1)
    body, sent = await statements_of(
        stack, "products", lambda: stack.gql("products", PRODUCT_ENTITIES, {"r": reps})
    )
    assert body == {
        "data": None,
        "errors": [
            {
                "message": f"`representations` holds {DEFAULT_MAX_REPRESENTATIONS + 1} entities: "
                f"at most {DEFAULT_MAX_REPRESENTATIONS} in one request",
                "locations": [{"line": 1, "column": 24}],
                "path": ["_entities"],
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "field": ["representations"],
                    "maxRepresentations": DEFAULT_MAX_REPRESENTATIONS,
                },
            }
        ],
    }
    assert sent == []


def _placeholders(statement: str) -> int:
    return max((int(n) for n in re.findall(r"\$(\d+)", statement)), default=0)


@pytest.mark.parametrize(
    ("name", "fragment", "token"),
    [
        ("products", "... on Product { id }", None),
        ("inventory", "... on Product { stock { onHand } }", admin_token),
        ("accounts", "... on User { id }", admin_token),
        ("orders", "... on Order { id }", admin_token),
    ],
)
async def test_entity_lookups_send_at_most_a_chunk_of_keys_per_statement(
    stack: Stack, name: str, fragment: str, token: Callable[[], str] | None
) -> None:
    count = 2 * IN_LIST_CHUNK + 500
    typename = fragment.split()[2]
    ids = [str(uuid.uuid4()) for _ in range(count)]
    reps = [{"__typename": typename, "id": i} for i in ids]
    body, sent = await statements_of(
        stack,
        name,
        lambda: stack.gql(name, ENTITIES % fragment, {"r": reps}, token() if token else None),
    )
    assert "errors" not in body
    unknown = {"stock": {"onHand": 0}} if name == "inventory" else None
    assert body["data"]["_entities"] == [unknown] * count
    # one statement per IN_LIST_CHUNK keys (all of them in one before)
    assert [_placeholders(s) for s in sent] == [IN_LIST_CHUNK, IN_LIST_CHUNK, 500]


async def test_entity_lookups_in_chunks_find_every_product(stack: Stack) -> None:
    count = IN_LIST_CHUNK + 200
    await insert_products(stack, "C", "Chunk", count)
    rows = await stack.sql("products", "SELECT id::text AS id, sku FROM products ORDER BY sku")
    reps = [{"__typename": "Product", "id": r.id} for r in rows]
    reps += [{"__typename": "Product", "sku": r.sku} for r in rows]
    body, sent = await statements_of(
        stack, "products", lambda: stack.data("products", PRODUCT_ENTITIES, {"r": reps})
    )
    expected = [{"id": r.id, "sku": r.sku} for r in rows]
    assert body["_entities"] == expected * 2
    # the id and sku batches run side by side
    assert sorted(_placeholders(s) for s in sent) == [200, 200, IN_LIST_CHUNK, IN_LIST_CHUNK]


async def test_a_failure_shared_by_many_entities_is_logged_once(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # every entity awaiting a failed batch re-raised one exception: N log lines, each
    # quoting the statement's N placeholders (3,000 entities: 174 MB of log)
    count = 300
    reps = [{"__typename": "Product", "id": str(uuid.uuid4())} for _ in range(count)]
    await stack.sql("products", "ALTER TABLE products RENAME TO products_moved")
    try:
        with caplog.at_level(logging.ERROR):
            body = await stack.gql("products", PRODUCT_ENTITIES, {"r": reps})
    finally:
        await stack.sql("products", "ALTER TABLE products_moved RENAME TO products")
    assert body["data"] == {"_entities": [None] * count}
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["_entities", i], {"code": "INTERNAL_SERVER_ERROR"}) for i in range(count)
    ]
    records = [r for r in caplog.records if r.name.startswith("shopgraph")]
    assert len(records) == 1
    logged = records[0].getMessage()
    assert logged.startswith(f"Unexpected error at ['_entities', 0] (and {count - 1} more fields)")
    assert "sqlstate 42P01" in logged  # undefined_table: the cause is still there
    # the IN list's placeholders as first and last: 300 keys made it 3 KB longer
    assert "IN ($1::UUID, …, $300::UUID)" in logged
    assert "$2::UUID" not in logged
    assert len(logged) < 12_000


def test_the_representation_cap_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert max_representations_setting() == DEFAULT_MAX_REPRESENTATIONS
    monkeypatch.setenv(ENV, "2500")
    assert max_representations_setting() == 2500
    for setting, message in (
        ("many", f"{ENV} must be a positive integer, got 'many'"),
        ("0", f"{ENV} must be a positive integer, got '0'"),
    ):
        monkeypatch.setenv(ENV, setting)
        with pytest.raises(LimitsSettingError) as refused:
            max_representations_setting()
        assert str(refused.value) == message


# --- keyset cursors ---------------------------------------------------------------------


def cursor(values: Any) -> str:
    """A cursor spelled as the lists spell theirs (compact JSON, padded url-safe base64),
    so only its values can make it one the list does not write."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


CURSOR_REFUSED = ("Invalid cursor for this list (`after`)", bad(["after"]))
PRODUCTS_PAGE = """
query ($after: String, $sort: ProductSort!) {
  products(first: 2, after: $after, sort: $sort) { nodes { sku } pageInfo { endCursor } }
}
"""


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("NAME_ASC", ["x", 123]),
        ("NAME_ASC", ["x", {"a": 1}]),
        ("NAME_ASC", [[1, 2], NIL]),
        ("NAME_ASC", [True, NIL]),
        ("NAME_ASC", [None, NIL]),
        ("NAME_ASC", ["a\u0000b", NIL]),
        ("NAME_ASC", ["n" * 201, NIL]),
        ("NAME_ASC", ["x", "not-a-uuid"]),
        ("NAME_ASC", ["x"]),
        ("NAME_ASC", {"name": "x"}),
        ("PRICE_ASC", ["1e999999", NIL]),
        ("PRICE_ASC", ["Infinity", NIL]),
        ("PRICE_DESC", ["-Infinity", NIL]),
        ("PRICE_ASC", ["NaN", NIL]),
        ("PRICE_ASC", ["sNaN", NIL]),
        ("PRICE_ASC", ["10000000000", NIL]),
        ("PRICE_ASC", ["0.001", NIL]),
        ("PRICE_ASC", ["abc", NIL]),
        ("PRICE_ASC", [12.5, NIL]),
        ("NEWEST", [1, NIL]),
        ("NEWEST", ["2020-01-01T00:00:00", NIL]),
        ("NEWEST", ["2020-01-01T00:00:00\u0000", NIL]),
        ("NEWEST", ["0001-01-01T00:00:00+14:00", NIL]),
        ("NEWEST", ["not a date", NIL]),
    ],
)
async def test_crafted_product_cursors_are_bad_user_input(
    stack: Stack, caplog: pytest.LogCaptureFixture, sort: str, values: Any
) -> None:
    # most were INTERNAL_SERVER_ERROR with a traceback; NaN, naive and NUL-suffixed
    # timestamps silently answered wrong pages
    await make_product(stack)
    with caplog.at_level(logging.ERROR):
        # a cursor names its ordering first, then holds one value per sort key
        crafted = cursor([sort, *values] if isinstance(values, list) else values)
        body = await stack.gql("products", PRODUCTS_PAGE, {"after": crafted, "sort": sort})
    assert body["data"] == {"products": None}
    assert errors_of(body) == [(["products"], *CURSOR_REFUSED)]
    assert caplog.records == []


@pytest.mark.parametrize(
    ("sort", "tampered"),
    [
        ("NAME_ASC", "\u0000"),
        ("PRICE_ASC", "Infinity"),
        ("PRICE_DESC", "1e999999"),
        ("NEWEST", "2020-01-01T00:00:00"),
    ],
)
async def test_cursors_the_list_wrote_page_through_it_and_tampered_ones_do_not(
    stack: Stack, sort: str, tampered: str
) -> None:
    for n, price in enumerate(("9999999999.99", "0.00", "12.50", "12.50", "0.01")):
        await make_product(stack, sku=f"P{n}", name=f"Page {n}", price=price)
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = await stack.data("products", PRODUCTS_PAGE, {"after": after, "sort": sort})
        seen += [node["sku"] for node in page["products"]["nodes"]]
        after = page["products"]["pageInfo"]["endCursor"]
    assert sorted(seen) == [f"P{n}" for n in range(5)]
    # the first page's end cursor with its sort value replaced
    first = await stack.data("products", PRODUCTS_PAGE, {"sort": sort})
    ordering, _, last_id = json.loads(
        base64.urlsafe_b64decode(first["products"]["pageInfo"]["endCursor"])
    )
    assert ordering == sort
    body = await stack.gql(
        "products", PRODUCTS_PAGE, {"after": cursor([sort, tampered, last_id]), "sort": sort}
    )
    assert body["data"] == {"products": None}
    assert errors_of(body) == [(["products"], *CURSOR_REFUSED)]


SEARCH_PAGE = """
query ($after: String) {
  products(first: 1, after: $after, sort: RELEVANCE, filter: {search: "page"}) {
    nodes { sku } pageInfo { endCursor }
  }
}
"""


@pytest.mark.parametrize(
    ("sort", "at", "spelled"),
    [
        # the hostile probe's: the value the list wrote spelled otherwise, or a value it
        # never writes (-0.00, a negative price or rank); each was read and paged from
        ("PRICE_ASC", 1, " 12.50 "),
        ("PRICE_ASC", 1, "\u0661\u0662.\u0665\u0660"),  # Arabic-Indic digits
        ("PRICE_ASC", 1, "1.25E+1"),
        ("PRICE_ASC", 1, "12.5"),
        ("PRICE_ASC", 1, "-0.00"),
        ("PRICE_DESC", 1, "-12.50"),  # no catalogue price is negative
        ("NAME_ASC", 2, "{%s}"),
        ("NAME_ASC", 2, "urn:uuid:%s"),
        ("RELEVANCE", 1, " %r\n"),
        ("RELEVANCE", 1, "%r0"),
        ("RELEVANCE", 1, "-%r"),  # nor is a rank
        ("NEWEST", 1, "%sZ"),
    ],
)
async def test_a_written_cursor_respelled_is_bad_user_input(
    stack: Stack, sort: str, at: int, spelled: str
) -> None:
    # every one of these paged from wherever the re-read value pointed
    for n in range(3):
        await make_product(stack, sku=f"P{n}", name=f"Page {n}", price="12.50")
    query, variables = (
        (SEARCH_PAGE, {}) if sort == "RELEVANCE" else (PRODUCTS_PAGE, {"sort": sort})
    )
    first = await stack.data("products", query, variables)
    written = first["products"]["pageInfo"]["endCursor"]
    values = orjson.loads(base64.urlsafe_b64decode(written))
    again = await stack.data("products", query, {**variables, "after": written})
    assert len(again["products"]["nodes"]) == 1  # the written cursor pages on
    value = values[at]
    if sort == "RELEVANCE":
        value = float(value)
    elif sort == "NEWEST":
        value = value.removesuffix("+00:00")
    values[at] = spelled % value if "%" in spelled else spelled
    body = await stack.gql("products", query, {**variables, "after": cursor(values)})
    assert (body["data"] or {}).get("products") is None  # null, whether or not it nulls data
    assert errors_of(body) == [(["products"], *CURSOR_REFUSED)]


ORDERS_PAGE = "query ($after: String) { orders(first: 2, after: $after) { nodes { id } } }"
USER_ORDERS_PAGE = (
    "query ($r: [_Any!]!, $after: String) { _entities(representations: $r) "
    "{ ... on User { orders(first: 2, after: $after) { nodes { id } } } } }"
)


@pytest.mark.parametrize(
    "values",
    [
        ["2020-01-01T00:00:00+00:00", 5],
        ["2020-01-01T00:00:00+00:00", {"a": 1}],
        ["2020-01-01T00:00:00\u0000", NIL],
        ["2020-01-01T00:00:00", NIL],
        ["0001-01-01T00:00:00+14:00", NIL],
        [True, NIL],
    ],
)
async def test_crafted_order_cursors_are_bad_user_input(
    stack: Stack, caplog: pytest.LogCaptureFixture, values: Any
) -> None:
    user_id = str(uuid.uuid4())
    token = customer_token(user_id)
    after = cursor(["NEWEST", *values])
    with caplog.at_level(logging.ERROR):
        mine = await stack.gql("orders", ORDERS_PAGE, {"after": after}, token)
        theirs = await stack.gql(
            "orders",
            USER_ORDERS_PAGE,
            {"r": [{"__typename": "User", "id": user_id}], "after": after},
            token,
        )
    assert mine["data"] is None
    assert errors_of(mine) == [(["orders"], *CURSOR_REFUSED)]
    assert theirs["data"] == {"_entities": [None]}
    assert errors_of(theirs) == [(["_entities", 0, "orders"], *CURSOR_REFUSED)]
    assert caplog.records == []


# --- decimal inputs ---------------------------------------------------------------------

FILTERED = """
query ($filter: ProductFilter) { products(first: 5, filter: $filter) { nodes { sku } } }
"""
TOO_MANY_DIGITS = "must have at most 10 digits before the decimal point"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e100", TOO_MANY_DIGITS),
        ("10000000000", TOO_MANY_DIGITS),
        ("-10000000000", TOO_MANY_DIGITS),
        ("1e999999", TOO_MANY_DIGITS),
        pytest.param("1" * 5000, TOO_MANY_DIGITS, id="5000-digits"),
        ("Infinity", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        ("NaN", "must be a finite number"),
        ("sNaN", "must be a finite number"),
        ("0.001", "must have at most 2 digits after the decimal point"),
        ("1e-999999", "must have at most 2 digits after the decimal point"),
    ],
)
@pytest.mark.parametrize("bound", ["minPrice", "maxPrice"])
async def test_price_filters_outside_the_column_are_bad_user_input(
    stack: Stack, caplog: pytest.LogCaptureFixture, bound: str, value: str, problem: str
) -> None:
    # over NUMERIC(12, 2) failed the statement (INTERNAL_SERVER_ERROR); NaN matched
    # nothing and 0.001 was rounded by PostgreSQL
    with caplog.at_level(logging.ERROR):
        body = await stack.gql("products", FILTERED, {"filter": {bound: value}})
    assert body["data"] == {"products": None}
    assert errors_of(body) == [
        (["products"], f"`filter.{bound}` {problem}", bad(["filter", bound]))
    ]
    assert caplog.records == []


async def test_price_filters_filter_up_to_the_column_bounds_and_no_further(stack: Stack) -> None:
    await make_product(stack, sku="CHEAP", price="0.00")
    await make_product(stack, sku="DEAR", price="9999999999.99")
    for bounds, skus in (
        ({"minPrice": "-9999999999.99", "maxPrice": "9999999999.99"}, {"CHEAP", "DEAR"}),
        ({"minPrice": "0.01"}, {"DEAR"}),
        ({"maxPrice": "9999999999.98"}, {"CHEAP"}),
        ({"minPrice": "1.500", "maxPrice": "0E+1000"}, set()),
    ):
        body = await stack.data("products", FILTERED, {"filter": bounds})
        assert {node["sku"] for node in body["products"]["nodes"]} == skus
    # under DEAR's price by half a cent, yet it matched DEAR: PostgreSQL rounded the
    # bound to 9999999999.99 (and 9999999999.995 overflowed: INTERNAL_SERVER_ERROR)
    body = await stack.gql("products", FILTERED, {"filter": {"maxPrice": "9999999999.985"}})
    assert errors_of(body) == [
        (
            ["products"],
            "`filter.maxPrice` must have at most 2 digits after the decimal point",
            bad(["filter", "maxPrice"]),
        )
    ]
