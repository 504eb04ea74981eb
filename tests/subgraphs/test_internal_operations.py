"""Internal operations (issue 10, finding 10): inventory's reservation mutations answer the
service role only, and the API the router serves has no trace of them."""

from __future__ import annotations

import uuid

import pytest
from graphql import parse, print_schema, validate
from subgraph_stack import Stack, admin_token, customer_token, service_token, set_stock

from router.composition.composer import compose
from router.composition.model import SubgraphSource
from router.supergraph.load import load_supergraph
from subgraphs.common.internal import internal_root_fields
from subgraphs.sdl import SCHEMAS, service_sdl
from tests.paths import SCHEMA_DIR

INTERNAL = ("reserveStock", "commitReservation", "releaseReservation")


def _mutation(field: str, product_id: str, reservation_id: str) -> str:
    if field == "reserveStock":
        argument = (
            f'{{reservationId: "{reservation_id}", '
            f'lines: [{{productId: "{product_id}", quantity: 1}}]}}'
        )
    else:
        argument = f'{{reservationId: "{reservation_id}"}}'
    return (
        f"mutation {{ {field}(input: {argument}) "
        "{ reservation { id status } userErrors { code } } }"
    )


@pytest.mark.parametrize("field", INTERNAL)
@pytest.mark.parametrize(
    ("who", "code"),
    [("admin", "FORBIDDEN"), ("customer", "FORBIDDEN"), ("nobody", "UNAUTHENTICATED")],
)
async def test_internal_mutations_refuse_everyone_but_services(
    stack: Stack, field: str, who: str, code: str
) -> None:
    product_id = str(uuid.uuid4())
    await set_stock(stack, product_id, 5)
    reservation_id = str(uuid.uuid4())
    if field != "reserveStock":  # something a caller could commit or release
        held = await stack.data(
            "inventory",
            _mutation("reserveStock", product_id, reservation_id),
            token=service_token(),
        )
        assert held["reserveStock"]["userErrors"] == []
    token = {"admin": admin_token(), "customer": customer_token(), "nobody": None}[who]
    body = await stack.gql("inventory", _mutation(field, product_id, reservation_id), token=token)
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([field], code)]
    status = await stack.sql(
        "inventory", "SELECT status FROM reservations WHERE id = :id", id=uuid.UUID(reservation_id)
    )
    assert status == ([] if field == "reserveStock" else [("ACTIVE",)])


async def test_a_service_token_may_reserve_commit_and_release(stack: Stack) -> None:
    product_id = str(uuid.uuid4())
    await set_stock(stack, product_id, 5)
    committed, released = str(uuid.uuid4()), str(uuid.uuid4())
    steps = [
        ("reserveStock", committed, "ACTIVE"),
        ("commitReservation", committed, "COMMITTED"),
        ("reserveStock", released, "ACTIVE"),
        ("releaseReservation", released, "RELEASED"),
    ]
    for field, reservation_id, status in steps:
        done = await stack.data(
            "inventory", _mutation(field, product_id, reservation_id), token=service_token()
        )
        assert done[field]["reservation"]["status"] == status


def test_every_inaccessible_root_field_is_guarded() -> None:
    internal = internal_root_fields(SCHEMAS["inventory"]._schema)
    assert {("Mutation", name) for name in INTERNAL} <= internal
    for name in ("accounts", "products", "orders"):
        assert internal_root_fields(SCHEMAS[name]._schema) == frozenset()


def _api_schema_text(sdl: str) -> str:
    return print_schema(load_supergraph(sdl).api_schema)


def test_the_router_api_has_no_trace_of_internal_operations() -> None:
    composed = compose(
        [SubgraphSource(name, f"http://{name}.test/graphql", service_sdl(name)) for name in SCHEMAS]
    )
    assert composed.ok, composed.errors
    assert composed.supergraph_sdl is not None
    internal_types = (
        "ReserveStockInput",
        "ReservationLineInput",
        "ReservationIdInput",
        "ReservationPayload",
    )
    for sdl in (composed.supergraph_sdl, (SCHEMA_DIR / "supergraph.graphql").read_text()):
        api = _api_schema_text(sdl)
        for name in (*INTERNAL, *internal_types):
            assert name not in api
        errors = validate(
            load_supergraph(sdl).api_schema,
            parse(_mutation("reserveStock", str(uuid.uuid4()), str(uuid.uuid4()))),
        )
        assert [e.message for e in errors][:1] == [
            "Cannot query field 'reserveStock' on type 'Mutation'."
        ]
