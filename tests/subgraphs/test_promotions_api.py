"""promotions through the router: the composed API has no trace of the internal quote, the
admins' fields are declared for the router to enforce, and it does."""

from __future__ import annotations

import httpx
from graphql import print_schema
from promotions_helpers import buy_get, created, percent_off
from subgraph_stack import Stack, make_category

from router import Router
from router.authorization.access import Access
from router.composition.composer import compose
from router.composition.model import SubgraphSource
from router.supergraph.load import load_supergraph
from subgraphs.common.internal import internal_root_fields
from subgraphs.sdl import SCHEMAS, service_sdl
from subgraphs.stack import SUBGRAPHS

INTERNAL_TYPES = (
    "DiscountQuote",
    "DiscountQuoteInput",
    "DiscountQuoteLineInput",
    "PromotionDiscount",
)
# Each type's fields that only admins may select.
ADMIN_FIELDS = {
    "Mutation": ("createPromotion(", "schedulePromotion(", "disablePromotion("),
    "Query": ("promotions(", "promotion("),
    "Promotion": ("priority:", "createdAt:", "disabledAt:"),
}


def _fields(sdl: str, type_name: str) -> list[str]:
    """The field lines of `type_name`'s definition in a printed supergraph."""
    lines = sdl.splitlines()
    start = lines.index(f"type {type_name}")
    end = lines.index("}", start)
    return [line.strip() for line in lines[start:end] if line.startswith("  ") and ":" in line]


def _supergraph() -> str:
    composed = compose(
        [SubgraphSource(name, f"http://{name}.test/graphql", service_sdl(name)) for name in SCHEMAS]
    )
    assert composed.ok, composed.errors
    assert composed.supergraph_sdl is not None
    return composed.supergraph_sdl


def test_the_quote_is_internal_and_guarded() -> None:
    assert internal_root_fields(SCHEMAS["promotions"]._schema) == {("Query", "quoteDiscounts")}
    api = print_schema(load_supergraph(_supergraph()).api_schema)
    assert "activePromotions: [Promotion!]!" in api
    assert "quoteDiscounts" not in api
    for name in INTERNAL_TYPES:
        assert name not in api


def test_admin_fields_carry_the_admin_scope_in_the_supergraph() -> None:
    sdl = _supergraph()
    scoped = '@requiresScopes(scopes: [["admin"]])'
    for type_name, names in ADMIN_FIELDS.items():
        fields = [
            f
            for f in _fields(sdl, type_name)
            if "@join__field(graph: PROMOTIONS)" in f or type_name == "Promotion"
        ]
        for name in names:
            [field] = [f for f in fields if f.startswith(name)]
            assert field.endswith(scoped), field
        public = [f for f in fields if not f.startswith(names)]
        assert not any(scoped in f for f in public), public
    assert any(f.startswith("activePromotions:") for f in _fields(sdl, "Query"))


async def test_the_router_shows_a_guest_the_banner_without_the_admins_fields(
    stack: Stack,
) -> None:
    await created(stack, "TEA3FOR2", buy_get(), priority=4)
    urls = {name: stack.url(name) for name in SUBGRAPHS}
    query = "{ activePromotions { code status priority } }"
    async with httpx.AsyncClient(timeout=30) as client:
        router = Router.from_supergraph(_supergraph(), subgraph_urls=urls, http_client=client)
        guest = await router.execute(query)
        admin = await router.execute(
            "{ activePromotions { code } promotions(first: 5) { totalCount } }",
            access=Access(authenticated=True, scopes=frozenset({"admin"})),
        )
        refused = await router.execute(
            'mutation { disablePromotion(input: {code: "TEA3FOR2"}) { userErrors { code } } }',
            access=Access(authenticated=True, scopes=frozenset({"customer"})),
        )
    assert guest["data"] == {
        "activePromotions": [{"code": "TEA3FOR2", "status": "ACTIVE", "priority": None}]
    }
    assert [(e["path"], e["extensions"]["code"]) for e in guest["errors"]] == [
        (["activePromotions", "@", "priority"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]
    # with the scope the router asks promotions, which checks the token itself: none here
    assert admin["data"] is None
    assert [e["extensions"]["code"] for e in admin["errors"]] == ["UNAUTHENTICATED"]
    assert refused["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in refused["errors"]] == [
        (["disablePromotion"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]
    rows = await stack.sql("promotions", "SELECT disabled_at FROM promotions")
    assert [row.disabled_at for row in rows] == [None]


async def test_a_rules_category_comes_from_the_catalogue(stack: Stack) -> None:
    await make_category(stack, "Tea")
    await created(stack, "TEA3FOR2", buy_get("tea"), priority=2)
    await created(stack, "SOON10", percent_off("seasonal", "10"))  # no such category (yet)
    query = """{ activePromotions { code rule {
      ... on BuyNGetMFreeRule { categorySlug category { slug name } }
      ... on PercentageOffCategoryRule { categorySlug category { slug name } }
    } } }"""
    urls = {name: stack.url(name) for name in SUBGRAPHS}
    async with httpx.AsyncClient(timeout=30) as client:
        router = Router.from_supergraph(_supergraph(), subgraph_urls=urls, http_client=client)
        body = await router.execute(query)
    # no error: the router only notes (as Apollo Router does) why the category is null
    assert "errors" not in body, body["errors"]
    assert body["data"] == {
        "activePromotions": [
            {
                "code": "TEA3FOR2",
                "rule": {"categorySlug": "tea", "category": {"slug": "tea", "name": "Tea"}},
            },
            {"code": "SOON10", "rule": {"categorySlug": "seasonal", "category": None}},
        ]
    }
    assert body["extensions"] == {
        "valueCompletion": [
            {
                "message": "Cannot return null for non-nullable field Category.name.",
                "path": ["activePromotions", 1, "rule", "category", "name"],
                "extensions": {"code": "INVALID_GRAPHQL"},
            }
        ]
    }
