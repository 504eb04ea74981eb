"""Authorization directives read from a supergraph (names as its @links give them), the
requirement algebra, and `Router.execute`'s `access` for embedders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import parse

from router import Router
from router.authorization import ANONYMOUS, Access, Requirement, read_rules
from router.authorization.requirement import all_of
from router.composition import SubgraphSource, compose
from router.federation.links import read_links
from router.supergraph import load_supergraph
from tests.conformance.kit import SubgraphServer
from tests.server.auth_graph import HERE, SCENARIO, SUPERGRAPH, start_server

SIGNED_IN = Requirement(authenticated=True)


def scopes(*alternatives: tuple[str, ...]) -> Requirement:
    return Requirement(scopes=frozenset(frozenset(a) for a in alternatives))


def test_the_rules_of_a_composed_supergraph():
    rules = load_supergraph(SUPERGRAPH).authorization
    assert dict(rules.types) == {"Memo": SIGNED_IN, "Node": scopes(("staff",))}
    assert dict(rules.fields) == {
        ("Article", "views"): scopes(("editor",)),
        ("Mutation", "rename"): scopes(("admin",)),
        ("Product", "cost"): Requirement(policies=frozenset({frozenset({"finance"})})),
        ("Product", "supplier"): scopes(("admin", "buyer"), ("service",)),
        ("Product", "margin"): scopes(("admin",)),
        ("Product", "reserved"): SIGNED_IN,
        ("Query", "me"): SIGNED_IN,
        ("Query", "secret"): scopes(("admin",), ("service",)),
        ("Stock", "onHand"): scopes(("admin",), ("service",)),
        ("User", "email"): scopes(("read:email",)),
    }


def test_directives_renamed_by_their_links_are_read_under_their_names():
    renamed = (
        SUPERGRAPH.replace(
            '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
            '@link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "signedIn", '
            "for: SECURITY)",
        )
        .replace(
            '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
            '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", as: "scoped", '
            "for: SECURITY)",
        )
        .replace("@authenticated", "@signedIn")
        .replace("@requiresScopes", "@scoped")
        .replace("requiresScopes__Scope", "scoped__Scope")
    )
    assert "@authenticated" not in renamed and "@signedIn" in renamed
    assert load_supergraph(renamed).authorization == load_supergraph(SUPERGRAPH).authorization


def test_directives_of_no_linked_spec_mean_nothing():
    unlinked = SUPERGRAPH.replace(
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)', ""
    )
    rules = load_supergraph(unlinked).authorization
    assert "Memo" not in rules.types and ("Query", "me") not in rules.fields
    assert rules.fields[("Query", "secret")] == scopes(("admin",), ("service",))
    document = parse('schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Q }')
    assert not read_rules(document, read_links(document.definitions))


def test_requirements_combine_with_and():
    either = scopes(("a",), ("b", "c"))
    assert all_of([either, scopes(("d",))]) == scopes(("a", "d"), ("b", "c", "d"))
    # (a) OR (a AND b) is (a)
    assert all_of([either, scopes(("a",))]) == scopes(("a",))
    assert all_of([SIGNED_IN, either]) == Requirement(True, either.scopes)
    assert all_of([]) == Requirement() and not Requirement()


@pytest.mark.parametrize(
    ("access", "allowed"),
    [
        (ANONYMOUS, False),
        (Access(True), False),
        (Access(True, frozenset({"b"})), False),
        (Access(True, frozenset({"b", "c"})), True),
        (Access(False, frozenset({"a"})), False),  # scopes without a token: not signed in
        (Access(True, frozenset({"a", "z"})), True),
    ],
)
def test_access_meets_a_requirement(access: Access, allowed: bool):
    assert access.allows(Requirement(True, scopes(("a",), ("b", "c")).scopes)) is allowed


def test_scopes_of_claims():
    assert Access.of({"scope": "a  b"}).scopes == {"a", "b"}
    assert Access.of({"scope": ["a", 3, ""]}).scopes == {"a"}
    assert Access.of({}) == Access(True)
    assert Access.of(None) == ANONYMOUS


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[SubgraphServer]:
    server = start_server()
    yield server
    server.stop()


async def test_embedders_pass_the_callers_access(subgraphs: SubgraphServer):
    urls = subgraphs.subgraph_urls(SCENARIO)
    async with Router(load_supergraph(SUPERGRAPH), subgraph_urls=urls) as router:
        anonymous = await router.execute("{ me { name email } }")
        reader = await router.execute(
            "{ me { name email } }", access=Access(True, frozenset({"read:email"}))
        )
        plan = router.plan_text("{ secret }")
    assert anonymous == {
        "errors": [
            {
                "message": "Unauthorized field or type",
                "path": ["me"],
                "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
            }
        ],
        "data": {"me": None},
    }
    assert reader == {"data": {"me": {"name": "Alice", "email": "alice@example.com"}}}
    # the plan shown for an operation is the one of a caller who may see everything
    assert 'Fetch(service: "catalog")' in plan and "secret" in plan


def test_the_python_composer_carries_the_same_rules():
    sources = [
        SubgraphSource(name, f"http://x.invalid/{name}", (HERE / f"{name}.graphql").read_text())
        for name in ("catalog", "stock")
    ]
    result = compose(sources)
    assert result.errors == ()
    composed = load_supergraph(result.supergraph_sdl).authorization
    assert composed == load_supergraph(SUPERGRAPH).authorization
