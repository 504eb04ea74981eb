"""`shopgraph check`: schema changes are classified breaking / dangerous / safe."""

import pytest

from router.cli import main
from router.composition.diff import BREAKING, DANGEROUS, SAFE, diff_subgraph

HEADER = ('extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
          'import: ["@key", "@shareable", "@external"])\n')
BASE = HEADER + """
type Query { product(id: ID!, currency: String = "EUR"): Product products(first: Int): [Product!]! }
type Product @key(fields: "id") {
  id: ID!
  name: String!
  description: String
  price(unit: String): Float
  status: Status!
  tags: [String!]
}
enum Status { ACTIVE ARCHIVED }
input Filter { name: String minPrice: Float! }
union Result = Product | Other
type Other { x: Int }
interface Node { id: ID! }
type Mutation { filter(f: Filter): [Product!]! }
"""

# (id, old fragment, new fragment, expected level, expected code, coordinate)
CHANGES = [
    ("field-removed", "  description: String\n", "", BREAKING, "FIELD_REMOVED",
     "Product.description"),
    ("field-added", "  tags: [String!]\n", "  tags: [String!]\n  weight: Int\n", SAFE,
     "FIELD_ADDED", "Product.weight"),
    ("type-removed", "union Result = Product | Other\n", "", BREAKING, "TYPE_REMOVED", "Result"),
    ("type-added", "type Other", "scalar Money\ntype Other", SAFE,
     "TYPE_ADDED", "Money"),
    ("enum-value-removed", "enum Status { ACTIVE ARCHIVED }", "enum Status { ACTIVE }", BREAKING,
     "ENUM_VALUE_REMOVED", "Status.ARCHIVED"),
    ("enum-value-added", "enum Status { ACTIVE ARCHIVED }", "enum Status { ACTIVE ARCHIVED DRAFT }",
     DANGEROUS, "ENUM_VALUE_ADDED", "Status.DRAFT"),
    ("output-nullability-loosened", "  name: String!\n", "  name: String\n", BREAKING,
     "FIELD_TYPE_CHANGED", "Product.name"),
    ("output-nullability-tightened", "  description: String\n", "  description: String!\n", SAFE,
     "FIELD_TYPE_NARROWED", "Product.description"),
    ("output-type-changed", "  status: Status!\n", "  status: String!\n", BREAKING,
     "FIELD_TYPE_CHANGED", "Product.status"),
    ("list-item-nullability-loosened", "  tags: [String!]\n", "  tags: [String]\n", BREAKING,
     "FIELD_TYPE_CHANGED", "Product.tags"),
    ("required-arg-added", "products(first: Int)", "products(first: Int, shop: ID!)", BREAKING,
     "REQUIRED_ARG_ADDED", "Query.products(shop:)"),
    ("optional-arg-added", "products(first: Int)", "products(first: Int, after: String)", SAFE,
     "OPTIONAL_ARG_ADDED", "Query.products(after:)"),
    ("arg-removed", "  price(unit: String): Float\n", "  price: Float\n", BREAKING, "ARG_REMOVED",
     "Product.price(unit:)"),
    ("arg-nullability-tightened", "products(first: Int)", "products(first: Int!)", BREAKING,
     "ARG_TYPE_CHANGED", "Query.products(first:)"),
    ("arg-nullability-loosened", "product(id: ID!,", "product(id: ID,", SAFE, "ARG_TYPE_WIDENED",
     "Query.product(id:)"),
    ("arg-default-changed", 'currency: String = "EUR"', 'currency: String = "USD"', DANGEROUS,
     "ARG_DEFAULT_CHANGED", "Query.product(currency:)"),
    ("input-field-required-added", "input Filter { name: String minPrice: Float! }",
     "input Filter { name: String minPrice: Float! shop: ID! }", BREAKING,
     "REQUIRED_INPUT_FIELD_ADDED", "Filter.shop"),
    ("input-field-optional-added", "input Filter { name: String minPrice: Float! }",
     "input Filter { name: String minPrice: Float! maxPrice: Float }", DANGEROUS,
     "OPTIONAL_INPUT_FIELD_ADDED", "Filter.maxPrice"),
    ("input-field-removed", "input Filter { name: String minPrice: Float! }",
     "input Filter { minPrice: Float! }", BREAKING, "INPUT_FIELD_REMOVED", "Filter.name"),
    ("input-nullability-tightened", "input Filter { name: String minPrice: Float! }",
     "input Filter { name: String! minPrice: Float! }", BREAKING, "INPUT_FIELD_TYPE_CHANGED",
     "Filter.name"),
    ("input-nullability-loosened", "input Filter { name: String minPrice: Float! }",
     "input Filter { name: String minPrice: Float }", SAFE, "INPUT_FIELD_TYPE_WIDENED",
     "Filter.minPrice"),
    ("union-member-removed", "union Result = Product | Other\n", "union Result = Product\n",
     BREAKING, "UNION_MEMBER_REMOVED", "Result"),
    ("type-kind-changed", "union Result = Product | Other\n", "type Result { x: Int }\n", BREAKING,
     "TYPE_KIND_CHANGED", "Result"),
    ("key-removed", 'type Product @key(fields: "id")', "type Product", BREAKING, "KEY_REMOVED",
     "Product"),
    ("key-added", 'type Product @key(fields: "id")',
     'type Product @key(fields: "id") @key(fields: "name")', SAFE, "KEY_ADDED", "Product"),
    ("field-deprecated", "  description: String\n",
     '  description: String @deprecated(reason: "use name")\n', SAFE, "FIELD_DEPRECATED",
     "Product.description"),
    ("interface-added", "type Product @key", "type Product implements Node @key", DANGEROUS,
     "INTERFACE_ADDED", "Product"),
]


@pytest.mark.parametrize(("old", "new", "level", "code", "coordinate"),
                         [pytest.param(*c[1:], id=c[0]) for c in CHANGES])
def test_change_is_classified(old, new, level, code, coordinate):
    assert old in BASE
    changes = diff_subgraph(BASE, BASE.replace(old, new, 1), "products")
    assert [(c.level, c.code, c.coordinate) for c in changes] == [(level, code, coordinate)]


def test_identical_schemas_have_no_changes():
    assert diff_subgraph(BASE, BASE) == []


def test_table_has_at_least_20_changes():
    assert len(CHANGES) >= 20


def _schema_dir(tmp_path, sdl_by_name):
    folder = tmp_path / "schema"
    folder.mkdir()
    lines = ["subgraphs:"]
    for name, sdl in sdl_by_name.items():
        (folder / f"{name}.graphql").write_text(sdl)
        lines += [f"  - name: {name}", f"    url: http://127.0.0.1:9/{name}"]
    (folder / "subgraphs.yaml").write_text("\n".join(lines) + "\n")
    return folder


def test_check_command_exits_1_on_breaking_change(tmp_path, capsys):
    folder = _schema_dir(tmp_path, {"products": BASE})
    current = tmp_path / "current"
    current.mkdir()
    (current / "products.graphql").write_text(BASE.replace("  description: String\n", ""))
    code = main(["check", "--schema-dir", str(folder), "--dir", str(current)])
    out = capsys.readouterr().out
    assert code == 1
    assert "BREAKING  FIELD_REMOVED" in out and "Product.description" in out


def test_check_command_exits_0_on_safe_change(tmp_path, capsys):
    folder = _schema_dir(tmp_path, {"products": BASE})
    current = tmp_path / "current"
    current.mkdir()
    (current / "products.graphql").write_text(BASE.replace("  tags: [String!]\n",
                                                           "  tags: [String!]\n  sku: String\n"))
    code = main(["check", "--schema-dir", str(folder), "--dir", str(current)])
    assert code == 0
    assert "SAFE      FIELD_ADDED" in capsys.readouterr().out


def test_the_shops_subgraphs_match_their_committed_contracts(capsys):
    """`shopgraph check` on this repository: the code's SDL equals schema/ (what CI enforces)."""
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    names = ("accounts", "products", "inventory", "orders", "promotions", "payments", "suggestions")
    for name in names:
        assert f"{name}: no change" in out


def test_check_against_a_live_subgraph_over_http(tmp_path, capsys):
    from tests.conformance.kit import SubgraphServer
    from tests.conformance.scenarios import load_scenarios

    scenario = load_scenarios(["keys-single"])[0]
    folder = _schema_dir(tmp_path, {"products": scenario.subgraph_sdls["products"]})
    with SubgraphServer() as server:
        live = scenario.subgraph_sdls["products"] + "\nextend type Query { featured: Product }\n"
        server.mount("live", "products", live, scenario.resolvers["products"])
        url = server.url("live", "products")
        code = main(["check", "--schema-dir", str(folder), "--url", f"products={url}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SAFE      FIELD_ADDED" in out and "Query.featured" in out
