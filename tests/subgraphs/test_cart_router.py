"""The cart through the router: `Query.cart` is nullable, so a cart that cannot be shown
(a guest's, or one that cannot be priced now) is null with its error while the query's
other root fields still answer."""

from __future__ import annotations

from typing import Any

import httpx
from orders_helpers import add_to_cart
from subgraph_stack import Stack, admin_token, customer_token, make_product

from router import Router
from router.authorization.access import ANONYMOUS, Access
from router.composition.composer import compose
from router.composition.model import SubgraphSource
from subgraphs.sdl import SCHEMAS, service_sdl
from subgraphs.stack import SUBGRAPHS

QUERY = "{ cart { totalQuantity total { amount } } products(first: 5) { totalCount } }"
CUSTOMER = Access(authenticated=True, scopes=frozenset({"customer"}))


def _supergraph() -> str:
    composed = compose(
        [SubgraphSource(name, f"http://{name}.test/graphql", service_sdl(name)) for name in SCHEMAS]
    )
    assert composed.ok, composed.errors
    assert composed.supergraph_sdl is not None
    return composed.supergraph_sdl


async def _through_router(stack: Stack, token: str | None, access: Access) -> dict[str, Any]:
    """QUERY through a router on the stack; `token` goes to every subgraph as the client's."""
    urls = {name: stack.url(name) for name in SUBGRAPHS}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        router = Router.from_supergraph(_supergraph(), subgraph_urls=urls, http_client=client)
        return await router.execute(QUERY, access=access)


def _errors(body: dict[str, Any]) -> list[tuple[list[Any], str, str]]:
    return [(e["path"], e["message"], e["extensions"]["code"]) for e in body["errors"]]


async def test_a_guest_has_no_cart_and_still_sees_the_catalogue(stack: Stack) -> None:
    await make_product(stack, stock=1)
    body = await _through_router(stack, None, ANONYMOUS)
    assert body["data"] == {"cart": None, "products": {"totalCount": 1}}
    assert _errors(body) == [(["cart"], "Unauthorized field or type", "UNAUTHORIZED_FIELD_OR_TYPE")]


async def test_a_customer_sees_the_cart_priced(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 2)
    body = await _through_router(stack, token, CUSTOMER)
    assert body == {
        "data": {
            "cart": {"totalQuantity": 2, "total": {"amount": "24.00"}},
            "products": {"totalCount": 1},
        }
    }


async def test_a_cart_that_cannot_be_priced_is_null_and_the_rest_answers(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=5)
    tasse = await make_product(stack, stock=5)
    await add_to_cart(stack, token, mug["id"])
    await add_to_cart(stack, token, tasse["id"])
    repriced = await stack.data(
        "products",
        'mutation ($id: ID!) { updateProduct(input: {id: $id, price: {amount: "11.00", '
        "currencyCode: EUR}}) { userErrors { code } } }",
        {"id": tasse["id"]},
        admin_token(),
    )
    assert repriced["updateProduct"]["userErrors"] == []
    body = await _through_router(stack, token, CUSTOMER)
    assert body["data"] == {"cart": None, "products": {"totalCount": 2}}
    assert _errors(body) == [
        (
            ["cart"],
            "The cart mixes currencies (EUR, USD); remove the products in the other currency",
            "CURRENCY_MISMATCH",
        )
    ]
