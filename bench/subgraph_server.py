"""The four benchmark subgraphs (accounts, products, inventory, reviews) in one process.

Each is a Federation v2 subgraph built with graphql-core from its SDL in
bench/schemas/, served at /<name> by bench/lean_http.py (asyncio, httptools,
uvloop: a few µs per memoised answer). The data is static, so a whole response
is a pure function of the request body: responses are memoised by (subgraph,
body) and a repeated fetch costs one dict lookup. That keeps the subgraphs far
from being the bottleneck; what the benchmark measures is the gateway.

    python -m bench.subgraph_server --port 4200

GET /stats returns per-subgraph request counts (the harness uses them to report
how many subgraph fetches each gateway makes per client request).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
    build_schema,
    graphql_sync,
    parse,
)

from bench import lean_http
from bench.data import (
    CATALOGUE_SIZE,
    PRODUCT_SCALARS,
    Data,
    data,
    in_stock,
    product_rows,
    shipping_estimate,
)
from router.health import health_answer

SCHEMAS = Path(__file__).parent / "schemas"

# The federation directives the subgraph SDLs use, so graphql-core can build them.
_FEDERATION_PRELUDE = """
scalar _Any
scalar FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @link(url: String!, as: String, for: link__Purpose, import: [link__Import])
  repeatable on SCHEMA
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @external(reason: String) on OBJECT | FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
type _Service { sdl: String! }
"""

EntityResolver = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass
class Subgraph:
    name: str
    sdl: str
    schema: GraphQLSchema
    cache: dict[bytes, bytes] = field(default_factory=dict)
    requests: int = 0
    misses: int = 0


def _build(name: str, query_fields: dict[str, Callable[..., Any]],
           entities: dict[str, EntityResolver]) -> Subgraph:
    sdl = (SCHEMAS / f"{name}.graphql").read_text()
    query_keyword = "extend type Query" if "type Query" in sdl else "type Query"
    executable = (
        _FEDERATION_PRELUDE
        + sdl
        + f"\nunion _Entity = {' | '.join(entities)}\n"
        + f"{query_keyword} {{ _entities(representations: [_Any!]!): [_Entity]! "
        + "_service: _Service! }\n"
    )
    schema = build_schema(executable)

    def resolve_entities(_root: Any, _info: Any, representations: list[dict]) -> list:
        return [entities[rep["__typename"]](rep) for rep in representations]

    query_type = schema.query_type
    assert query_type is not None
    for field_name, resolver in query_fields.items():
        query_type.fields[field_name].resolve = resolver
    query_type.fields["_entities"].resolve = resolve_entities
    query_type.fields["_service"].resolve = lambda *_: {"sdl": sdl}
    entity_union = schema.type_map["_Entity"]
    entity_union.resolve_type = lambda value, *_: value["__typename"]  # type: ignore[attr-defined]
    return Subgraph(name, sdl, schema)


def _typed(typename: str, value: dict | None) -> dict | None:
    return None if value is None else {"__typename": typename, **value}


def build_subgraphs() -> dict[str, Subgraph]:
    """The four subgraphs over the benchmark's static data, by name."""
    d = data()
    built = (_accounts(d), _products(d), _inventory(d), _reviews(d))
    return {s.name: s for s in built}


def _accounts(d: Data) -> Subgraph:
    users_list = list(d.users.values())
    return _build(
        "accounts",
        {
            "me": lambda *_: d.users["1"],
            "user": lambda _root, _info, id: d.users.get(id),
            "users": lambda *_: users_list,
        },
        {"User": lambda rep: _typed("User", d.users.get(rep["id"]))},
    )


def _products(d: Data) -> Subgraph:
    return _build(
        "products",
        {"topProducts": lambda _root, _info, first=5: d.top_products[: max(first, 0)]},
        {"Product": lambda rep: _typed("Product", d.products.get(rep["upc"]))},
    )


def _inventory(d: Data) -> Subgraph:
    def inventory_product(rep: dict[str, Any]) -> dict[str, Any] | None:
        upc = rep["upc"]
        if upc not in d.products:
            return None
        return {
            "__typename": "Product",
            "upc": upc,
            "inStock": in_stock(upc),
            "shippingEstimate": shipping_estimate(rep.get("price"), rep.get("weight")),
        }

    return _build("inventory", {}, {"Product": inventory_product})


def _review_views(d: Data) -> dict[str, dict[str, Any]]:
    """The reviews subgraph's own view of the graph, linked once so the default
    resolver (dict lookup) answers every field."""
    review_views = {
        r["id"]: {
            "id": r["id"],
            "body": r["body"],
            "product": {"upc": r["product_upc"]},
            "author": {"id": r["author_id"], "username": d.users[r["author_id"]]["username"]},
        }
        for r in d.reviews.values()
    }
    for review in review_views.values():
        review["author"]["reviews"] = [
            review_views[r["id"]] for r in d.reviews_by_user[review["author"]["id"]]
        ]
        review["product"]["reviews"] = [
            review_views[r["id"]] for r in d.reviews_by_product[review["product"]["upc"]]
        ]
    return review_views


def _reviews(d: Data) -> Subgraph:
    review_views = _review_views(d)

    def reviews_user(rep: dict[str, Any]) -> dict[str, Any] | None:
        user_id = rep["id"]
        if user_id not in d.users:
            return None
        found = [review_views[r["id"]] for r in d.reviews_by_user.get(user_id, [])]
        return {"__typename": "User", "id": user_id, "reviews": found}

    def reviews_product(rep: dict[str, Any]) -> dict[str, Any] | None:
        upc = rep["upc"]
        if upc not in d.products:
            return None
        found = [review_views[r["id"]] for r in d.reviews_by_product.get(upc, [])]
        return {"__typename": "Product", "upc": upc, "reviews": found}

    return _build(
        "reviews",
        {},
        {
            "Review": lambda rep: _typed("Review", review_views.get(rep["id"])),
            "User": reviews_user,
            "Product": reviews_product,
        },
    )


_CACHE_LIMIT = 20_000  # distinct bodies per subgraph; static data makes this ample


def execute(subgraph: Subgraph, body: bytes) -> bytes:
    """Answer one GraphQL-over-HTTP request body, memoised by the body."""
    subgraph.requests += 1
    cached = subgraph.cache.get(body)
    if cached is not None:
        return cached
    subgraph.misses += 1
    try:
        request = orjson.loads(body)
        result = graphql_sync(
            subgraph.schema,
            request["query"],
            variable_values=request.get("variables"),
            operation_name=request.get("operationName"),
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        payload = {"errors": [{"message": f"bad request: {exc}"}]}
    response = orjson.dumps(payload)
    if len(subgraph.cache) >= _CACHE_LIMIT:
        subgraph.cache.clear()
    subgraph.cache[body] = response
    return response


_BIG_FIELDS = frozenset((*PRODUCT_SCALARS, "__typename"))


def big_request(subgraph: Subgraph, body: bytes) -> tuple[int, tuple[str, ...]] | None:
    """(first, fields) when the request is `{ topProducts(first: N) { scalars } }` to the
    products subgraph with N beyond the materialised catalogue: answered from
    `product(i)` without graphql-core (which would take seconds and gigabytes)."""
    if subgraph.name != "products" or b"topProducts" not in body:
        return None
    try:
        request = orjson.loads(body)
        document = parse(request["query"], no_location=True)
    except (orjson.JSONDecodeError, KeyError, TypeError, GraphQLError):
        return None
    (operation, *rest) = document.definitions
    if rest or not isinstance(operation, OperationDefinitionNode):
        return None
    (root, *others) = operation.selection_set.selections
    if others or not isinstance(root, FieldNode) or root.name.value != "topProducts":
        return None
    if root.alias or root.directives or not root.selection_set or len(root.arguments or ()) != 1:
        return None
    value = root.arguments[0].value
    if isinstance(value, VariableNode):
        first = (request.get("variables") or {}).get(value.name.value)
    else:
        first = int(value.value) if isinstance(value, IntValueNode) else None
    fields = []
    for selection in root.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in _BIG_FIELDS:
            return None
        if selection.alias or selection.directives or selection.selection_set:
            return None
        fields.append(selection.name.value)
    if not isinstance(first, int) or first <= CATALOGUE_SIZE:
        return None
    return first, tuple(fields)


@lru_cache(maxsize=1)
def big_answer(first: int, fields: tuple[str, ...]) -> tuple[bytes, ...]:
    """The answer to a `big_request`, in pieces of ~1.5 MB (memoised: the last one)."""
    blocks = list(product_rows(first, fields))
    pieces = [b'{"data":{"topProducts":[']
    for index, block in enumerate(blocks):
        pieces.append(block if index == 0 or not block else b"," + block)
    pieces.append(b"]}}")
    return tuple(pieces)


class SubgraphsHandler:
    """POST /<subgraph>, GET /health, GET /stats (served by bench/lean_http.py)."""

    def __init__(self, subgraphs: dict[str, Subgraph]) -> None:
        self.subgraphs = subgraphs

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            name: {"requests": s.requests, "misses": s.misses}
            for name, s in self.subgraphs.items()
        }

    def __call__(self, method: bytes, path: bytes, body: bytes) -> tuple[int, tuple[bytes, ...]]:
        """The status and body pieces answering one request."""
        name = path.decode("latin-1").strip("/")
        if method == b"GET":
            if name == "health":
                status, answer = health_answer("bench-subgraphs")
                return status, (answer,)
            if name == "stats":
                return 200, (orjson.dumps(self.stats()),)
            return 404, (b'{"errors":[{"message":"not found"}]}',)
        subgraph = self.subgraphs.get(name)
        if subgraph is None:
            return 404, (b'{"errors":[{"message":"no such subgraph"}]}',)
        cached = subgraph.cache.get(body)
        if cached is not None:  # the usual case: no parse to see whether it is big
            subgraph.requests += 1
            return 200, (cached,)
        big = big_request(subgraph, body)
        if big is not None:
            subgraph.requests += 1
            return 200, big_answer(*big)
        return 200, (execute(subgraph, body),)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4200)
    args = parser.parse_args()
    lean_http.serve(SubgraphsHandler(build_subgraphs()), args.host, args.port)


if __name__ == "__main__":
    main()
