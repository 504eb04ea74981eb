"""A real router over the test stack's subgraphs, for tests of what a client of the router
sees (authorization directives, null propagation across subgraphs)."""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from graphql import parse, print_ast
from subgraph_stack import Stack

from router import Router
from router.authorization.access import ANONYMOUS, Access
from router.composition.composer import compose
from router.composition.model import SubgraphSource
from subgraphs.sdl import SCHEMAS, service_sdl
from subgraphs.stack import SUBGRAPHS

CUSTOMER = Access(authenticated=True, scopes=frozenset({"customer"}))
ADMIN = Access(authenticated=True, scopes=frozenset({"admin"}))


@cache
def supergraph() -> str:
    """The shop's supergraph, composed from the subgraphs' printed SDL (once per session)."""
    composed = compose(
        [SubgraphSource(name, f"http://{name}.test/graphql", service_sdl(name)) for name in SCHEMAS]
    )
    assert composed.ok, composed.errors
    assert composed.supergraph_sdl is not None
    return composed.supergraph_sdl


async def through_router(
    stack: Stack,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    access: Access = ANONYMOUS,
    urls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The router's answer to `query`; `token` goes to every subgraph as the client's,
    `access` is what the router's edge verification would have made of it, and `urls`
    replace some subgraphs' URLs (a server of the test's own in place of the stack's)."""
    urls = {name: stack.url(name) for name in SUBGRAPHS} | (urls or {})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        router = Router.from_supergraph(supergraph(), subgraph_urls=urls, http_client=client)
        return await router.execute(query, variables, access=access)


def error_list(body: dict[str, Any]) -> list[tuple[list[Any], str, str]]:
    """Each error of a response as (path, message, code)."""
    return [(e.get("path"), e["message"], e["extensions"]["code"]) for e in body["errors"]]


def authorization_directives(sdl: str) -> dict[str, str]:
    """`Type.field` -> its @requiresScopes / @authenticated usages, as printed."""
    found = {}
    for definition in parse(sdl).definitions:
        for field in getattr(definition, "fields", None) or ():
            used = [
                print_ast(d)
                for d in field.directives or ()
                if d.name.value in ("requiresScopes", "authenticated")
            ]
            if used:
                found[f"{definition.name.value}.{field.name.value}"] = " ".join(used)
    return found
