"""Authorization directives read from a supergraph (names as its @links give them), the
requirement algebra, and `Router.execute`'s `access` for embedders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import parse

from router import Router
from router.authorization import (
    ANONYMOUS,
    Access,
    Requirement,
    check_operation,
    read_rules,
    restrict_operation,
)
from router.authorization.requirement import BY_AUTHENTICATED, BY_POLICY, BY_SCOPES, all_of
from router.composition import SubgraphSource, compose
from router.federation.links import read_links
from router.operation import normalize, print_operation
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


def test_scopes_are_separated_by_the_space_character_alone():
    # RFC 6749 3.3: a no-break or em space is part of a scope, never a separator
    assert Access.of({"scope": "customer\u00a0admin"}).scopes == {"customer\u00a0admin"}
    assert Access.of({"scope": "x\u2003admin\tstaff"}).scopes == {"x\u2003admin\tstaff"}
    assert not Access.of({"scope": "customer\u00a0admin"}).allows(
        Requirement(False, scopes(("admin",)).scopes)
    )


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


def test_which_directive_refuses_a_requirement():
    both = Requirement(True, scopes(("a",)).scopes, frozenset({frozenset({"p"})}))
    assert ANONYMOUS.refused_by(both) == BY_AUTHENTICATED  # Apollo's first filter
    assert Access(True).refused_by(both) == BY_SCOPES
    assert Access(True, frozenset({"a"})).refused_by(both) == BY_POLICY
    assert Access(True, frozenset({"a"}), frozenset({"p"})).refused_by(both) is None


FEDERATION = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@key", "@authenticated", "@requiresScopes"])\n'
)


def restricted(sdl: str, query: str, access: Access) -> tuple[str, list[list[str]]]:
    """The operation as `access` may run it on a one-subgraph supergraph, and the paths."""
    result = compose([SubgraphSource("a", "http://x.invalid/a", FEDERATION + sdl)])
    assert result.errors == ()
    supergraph = load_supergraph(result.supergraph_sdl)
    schema, rules = supergraph.api_schema, supergraph.authorization
    document = parse(query)
    operation = normalize(schema, document)
    checks = check_operation(operation, rules, schema, document)
    assert checks is not None
    restriction = restrict_operation(
        operation, rules, schema, dict(checks.refused(access)), document
    )
    return print_operation(restriction.operation), [list(p) for p in restriction.paths]


def test_one_at_per_list_field_and_emptied_parents_go():
    # Apollo Router pushes one "@" per list field (`is_list`), however deep the list;
    # `shelf` and `rows`, emptied, go without errors of their own
    sdl = """
      type Query { tags: [[String]] @requiresScopes(scopes: [["t"]]) shelf: Shelf name: String }
      type Shelf { rows: [[Box]] }
      type Box { label: String @requiresScopes(scopes: [["t"]]) }
    """
    printed, paths = restricted(sdl, "{ shelf { rows { label } } tags name }", Access(True))
    assert paths == [["shelf", "rows", "@", "label"], ["tags", "@"]]
    assert printed == "query {\n  name\n}"


def test_a_protected_root_type_refuses_the_whole_operation_once():
    # Apollo Router's operation-level check: one error at the path [] (its snapshot
    # `named_fragment_nested_in_authenticated_type`, Elastic License 2.0); `__typename`
    # and introspection are never the directives' business
    sdl = "type Query @authenticated { name: String }"
    printed, paths = restricted(sdl, "{ __typename name }", ANONYMOUS)
    assert (printed, paths) == ("query {\n  __typename\n}", [[]])
    assert restricted(sdl, "{ name }", Access(True)) == ("query {\n  name\n}", [])


def test_a_restricted_operation_keeps_the_fragments_introspection_spreads():
    # introspection is never the directives' business (Apollo Router's snapshot
    # `introspection_fragment_with_authenticated_root_query`, Elastic License 2.0):
    # removing `me` leaves `__schema`'s fragment in the document normalized again
    supergraph = load_supergraph(SUPERGRAPH)
    schema, rules = supergraph.api_schema, supergraph.authorization
    document = parse("{ __schema { types { ...T } } me { name } } fragment T on __Type { name }")
    operation = normalize(schema, document)
    checks = check_operation(operation, rules, schema, document)
    assert checks is not None
    restriction = restrict_operation(
        operation, rules, schema, dict(checks.refused(ANONYMOUS)), document
    )
    assert restriction.paths == (("me",),)
    printed = "query {\n  __schema {\n    types {\n      name\n    }\n  }\n}"
    assert print_operation(restriction.operation) == printed


def test_variants_are_kept_per_outcome_not_per_caller():
    router = Router(load_supergraph(SUPERGRAPH))
    prepared = router.prepare("{ products { name supplier } }")
    buyer = Access(True, frozenset({"admin", "buyer"}))
    assert router.authorize(prepared, buyer) is prepared  # sees everything: no variant
    assert len(router.variants) == 0
    guest = router.authorize(prepared, ANONYMOUS)
    # another caller failing the same requirement, the same way: the same variant
    assert router.authorize(prepared, Access(True, frozenset({"admin"}))) is guest
    assert len(router.variants) == 1
    assert guest.unauthorized == (
        {
            "message": "Unauthorized field or type",
            "path": ["products", "@", "supplier"],
            "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
        },
    )
    # its own shape: the same fields, what was removed answered null whatever is fetched
    assert guest.shape is not prepared.shape and guest.rejected is False
    assert "supplier" in str(prepared.plan) and "supplier" not in str(guest.plan)
