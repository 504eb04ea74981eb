"""Subgraph sets using @authenticated, @requiresScopes and @policy, each checked against
@apollo/composition 2.11.3 (the version tests/conformance/tools installs).

VALID: id -> ({subgraph: sdl}, hint codes Apollo gives); the supergraph Apollo composes is
committed as auth_supergraphs/<id>.graphql.
INVALID: (id, {subgraph: sdl}, [(code, coordinate, message)]) — every error we report, in
order; Apollo reports the same codes (and the same messages, except where noted).
"""

IMPORTS = '"@key", "@authenticated", "@requiresScopes", "@policy", "@shareable", "@external"'


def fed(sdl: str, version: str = "2.7", imports: str = IMPORTS, extra: str = "") -> str:
    """`sdl` under a federation @link (`extra` adds to the schema extension)."""
    return (f'extend schema @link(url: "https://specs.apollo.dev/federation/v{version}", '
            f"import: [{imports}]){extra}\n{sdl}")


def direct(spec: str, version: str = "2.5", link: str = "", sdl: str = "") -> str:
    """A subgraph linking an authorization spec itself (`link`: the rest of its @link)."""
    return fed(sdl, version, '"@key"',
               f'\n  @link(url: "https://specs.apollo.dev/{spec}/v0.1"{link})')


# What Strawberry prints for a schema using strawberry.federation.schema_directives'
# Authenticated, RequiresScopes and Policy (tests/composition/test_auth_directives.py
# checks Strawberry still prints exactly this).
STRAWBERRY_PRODUCTS = (
    'schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
    'import: ["@authenticated", "@key", "@policy", "@requiresScopes"]) {\n'
) + '''  query: Query
  mutation: Mutation
}

type Mutation {
  deleteProduct(id: ID!): Boolean! @requiresScopes(scopes: [["admin"]])
}

type Product @policy(policies: [["catalogue"]]) @key(fields: "id") {
  id: ID!
  name: String!
  cost: Int! @requiresScopes(scopes: [["admin"], ["service"]])
}

type Query {
  _entities(representations: [_Any!]!): [_Entity]!
  _service: _Service!
  product(id: ID!): Product
  cart: Int @authenticated
}

scalar _Any

union _Entity = Product

type _Service {
  sdl: String!
}
'''
INVENTORY = fed('''type Product @key(fields: "id") {
  id: ID!
  stock: Stock!
}
type Stock @shareable {
  available: Int!
  onHand: Int! @requiresScopes(scopes: [["admin"], ["service"]])
  reserved: Int! @requiresScopes(scopes: [["service"], ["admin"]])
}
type Query { reservation(id: ID!): Int @requiresScopes(scopes: [["admin"], ["service"]]) }
''')

VALID: dict[str, tuple[dict[str, str], list[str]]] = {
    # The shop's shape: Strawberry's SDL next to a hand-written one.
    "shop": ({"products": STRAWBERRY_PRODUCTS, "inventory": INVENTORY}, []),
    # Different applications on one element merge by UNION, in order of first appearance
    # (a duplicate within the first one stays); equal ones count once.
    "union": ({
        "a": fed('type Query { v: V @shareable } type V @shareable @policy(policies: [["p1"]]) '
                 '{ x: Int @requiresScopes(scopes: [["a"], ["b", "c"]]) '
                 'y: Int @requiresScopes(scopes: [["k"], ["k"]]) }'),
        "b": fed('type Query { w: V @shareable } type V @shareable @policy(policies: [["p2"], '
                 '["p1"]]) { x: Int @requiresScopes(scopes: [["b", "c"], ["d"]]) '
                 'y: Int @requiresScopes(scopes: [["k"], ["k"]]) }'),
        "c": fed('type Query { u: V @shareable } type V @shareable { '
                 'x: Int @requiresScopes(scopes: [["c", "b"], ["a"]]) y: Int @authenticated }'),
    }, ["MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS"] * 2),
    # Every location the directives take; interfaces get nothing from their
    # implementations, an @interfaceObject's fields carry theirs to the implementations.
    "locations": ({
        "a": fed('type Query { i: I e: E s: S } '
                 'interface I @key(fields: "id") @authenticated { id: ID! x: Int } '
                 'type A implements I @key(fields: "id") { id: ID! '
                 'x: Int @requiresScopes(scopes: [["x"]]) } '
                 'enum E @policy(policies: [["e"]]) { ONE TWO } '
                 'scalar S @requiresScopes(scopes: [["s"]])', imports=IMPORTS + ', "@tag"'),
        "b": fed('type I @key(fields: "id") @interfaceObject @requiresScopes(scopes: [["b"]]) '
                 '{ id: ID! y: Int @authenticated @policy(policies: [["y"]]) }',
                 imports=IMPORTS + ', "@interfaceObject"'),
    }, []),
    # Renamed imports name the supergraph's directives (imported back under that name).
    "renamed": ({
        "a": fed('type Query { a: Int @auth b: Int @scopes(scopes: [["x"]]) }',
                 imports='{name: "@authenticated", as: "@auth"}, '
                         '{name: "@requiresScopes", as: "@scopes"}'),
        "b": fed('type Query { c: Int @auth }', imports='{name: "@authenticated", as: "@auth"}'),
    }, []),
    # Unimported, under federation's prefix (v2.5 has no @policy yet; the join spec stays
    # 0.3) or under the federation link's own `as:`.
    "prefixed": ({
        "a": fed('type Query { a: Int @federation__authenticated '
                 'b: Int @federation__requiresScopes(scopes: [["x"]]) }', "2.5", '"@key"'),
        "b": 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", as: "fed")\n'
             'type Query { c: Int @fed__policy(policies: [["p"]]) }\nscalar fed__Policy',
    }, []),
    # The SECURITY links follow the subgraphs (by name), each listing first what its SDL
    # defines, then federation's order; @tag and @inaccessible take part.
    "link-order": ({
        "a": fed('type Query { a: Int @policy(policies: [["p"]]) @inaccessible b: Int }\n'
                 "directive @policy(policies: [[federation__Policy!]!]!) on FIELD_DEFINITION\n"
                 "scalar federation__Policy", imports=IMPORTS + ', "@inaccessible"'),
        "b": fed('type Query { c: Int @requiresScopes(scopes: [["s"]]) @tag(name: "t") '
                 "d: Int @authenticated }", imports=IMPORTS + ', "@tag"'),
    }, []),
    # Linking the specs themselves: @authenticated implies federation 2.5 (Apollo's hint);
    # the spec's scalar is then a subgraph type too; a directive named by the link's `as:`
    # finds no composition rule in Apollo and is dropped.
    "direct-links": ({
        "a": direct("authenticated", "2.4", ', import: ["@authenticated"]',
                    "type Query { a: Int @authenticated }"),
        "b": direct("requiresScopes", "2.5", ', import: ["@requiresScopes", "Scope"]',
                    'type Query { b: Int @requiresScopes(scopes: [["b"]]) }'),
        "c": direct("policy", "2.5", ', as: "pol"',
                    'type Query { c: Int @pol(policies: [["c"]]) }'),
    }, ["IMPLICITLY_UPGRADED_FEDERATION_VERSION"]),
    # Scopes are custom-scalar literals: printed as JavaScript values (enum values as
    # strings, 1.0 as 1), compared as such (1 and 1.0 alike, true and 1 not); a flat list's
    # items stand for one-item lists and merge as they are.
    "values": ({
        "a": fed('type Query { v: V @shareable } type V @shareable { '
                 'x: Int @requiresScopes(scopes: [[ADMIN, 1.0, true, {k: "v"}]]) '
                 'y: Int @requiresScopes(scopes: ["one", "two"]) '
                 'z: Int @requiresScopes(scopes: [["a\\"b", "é", """block"""]]) }'),
        "b": fed('type Query { w: V @shareable } type V @shareable { '
                 'x: Int @requiresScopes(scopes: [["ADMIN", 1, true, {k: "v"}], [1]]) '
                 'y: Int @requiresScopes(scopes: [["three"]]) '
                 'z: Int @requiresScopes(scopes: [["solo"]]) }'),
    }, ["MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS"] * 3),
    # The composition version we match checks nothing transitive: a @requires selecting a
    # protected field, and a @composeDirective of one (only Apollo's hint).
    "no-transitive-check": ({
        "a": fed('type Query { t: T } type T @key(fields: "id") { id: ID! w: Int @external '
                 'total: Int @requires(fields: "w") }', extra=' @composeDirective(name: "@policy")',
                 imports=IMPORTS + ', "@requires", "@composeDirective"'),
        "b": fed('type T @key(fields: "id") { id: ID! w: Int @authenticated '
                 '@requiresScopes(scopes: [["w"]]) @policy(policies: [["w"]]) }'),
    }, ["DIRECTIVE_COMPOSITION_INFO"]),
}

_ON = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"

INVALID: list[tuple[str, dict[str, str], list[tuple[str, str | None, str]]]] = [
    # Apollo says 'Cannot import unknown element "@authenticated".' (and suggests names).
    ("import-before-2.5", {"a": fed("type Query { a: Int @authenticated }", "2.4")}, [
        ("INVALID_LINK_DIRECTIVE_USAGE", None, '[a] Cannot import unknown element '
         '"@authenticated" (it requires federation v2.5).'),
        ("INVALID_LINK_DIRECTIVE_USAGE", None, '[a] Cannot import unknown element '
         '"@requiresScopes" (it requires federation v2.5).'),
        ("INVALID_LINK_DIRECTIVE_USAGE", None, '[a] Cannot import unknown element "@policy" '
         "(it requires federation v2.6)."),
    ]),
    # Apollo adds ' Did you mean "@federation__extends", ...?'.
    ("prefixed-before-2.5", {"a": fed("type Query { a: Int @federation__authenticated }",
                                      "2.4", '"@key"')}, [
        ("INVALID_GRAPHQL", "Query.a", '[a] Unknown directive "@federation__authenticated".'),
    ]),
    ("on-argument", {"a": fed("type Query { a(x: Int @authenticated): Int }")}, [
        ("INVALID_GRAPHQL", "Query.a(x:)",
         '[a] Directive "@authenticated" may not be used on ARGUMENT_DEFINITION.'),
    ]),
    ("on-input-field", {"a": fed('type Query { a(x: I): Int } '
                                 'input I { f: Int @requiresScopes(scopes: [["x"]]) }')}, [
        ("INVALID_GRAPHQL", "I.f",
         '[a] Directive "@requiresScopes" may not be used on INPUT_FIELD_DEFINITION.'),
    ]),
    ("on-union", {"a": fed('type Query { a: U } union U @policy(policies: [["x"]]) = Q '
                           "type Q { q: Int }")}, [
        ("INVALID_GRAPHQL", "U", '[a] Directive "@policy" may not be used on UNION.'),
    ]),
    ("on-enum-value", {"a": fed("type Query { a: E } enum E { X @authenticated }")}, [
        ("INVALID_GRAPHQL", "E.X", '[a] Directive "@authenticated" may not be used on ENUM_VALUE.'),
    ]),
    ("outside-defined-locations", {"a": fed(
        "type Query { a: T } type T @authenticated { x: Int } "
        "directive @authenticated on FIELD_DEFINITION")}, [
        ("INVALID_GRAPHQL", "T", '[a] Directive "@authenticated" may not be used on OBJECT.'),
    ]),
    ("on-schema", {"a": fed("type Query { a: Int }", extra=" @authenticated")}, [
        ("INVALID_GRAPHQL", None, '[a] Directive "@authenticated" may not be used on SCHEMA.'),
    ]),
    # A type's definition and its extensions are one location.
    ("twice-on-a-type", {"a": fed("type Query { a: T } type T @authenticated { x: Int } "
                                  "extend type T @authenticated { y: Int }")}, [
        ("INVALID_GRAPHQL", "T",
         '[a] The directive "@authenticated" can only be used once at this location.'),
    ]),
    # A wrong definition stops the subgraph there (its applications are not checked).
    ("definition-beyond-the-spec", {"a": fed(
        "type Query { a(x: Int @authenticated): Int } "
        "directive @authenticated on FIELD_DEFINITION | ARGUMENT_DEFINITION")}, [
        ("DIRECTIVE_DEFINITION_INVALID", "@authenticated", '[a] Invalid definition for '
         'directive "@authenticated": "@authenticated" should have locations '
         "FIELD_DEFINITION, OBJECT, INTERFACE, SCALAR, ENUM, but found (non-subset) "
         "FIELD_DEFINITION, ARGUMENT_DEFINITION"),
    ]),
    ("missing-argument", {"a": fed("type Query { a: Int @requiresScopes }")}, [
        ("INVALID_GRAPHQL", "Query.a", '[a] Directive "@requiresScopes" argument "scopes" of '
         'type "[[federation__Scope!]!]!" is required, but it was not provided.'),
    ]),
    ("unknown-argument", {"a": fed('type Query { a: Int @requiresScopes(scope: [["x"]]) }')}, [
        ("INVALID_GRAPHQL", "Query.a", '[a] Unknown argument "scope" on directive '
         '"@requiresScopes". Did you mean "scopes"?'),
        ("INVALID_GRAPHQL", "Query.a", '[a] Directive "@requiresScopes" argument "scopes" of '
         'type "[[federation__Scope!]!]!" is required, but it was not provided.'),
    ]),
    ("null-scope", {"a": fed("type Query { a: Int @policy(policies: [[null]]) }")}, [
        ("INVALID_GRAPHQL", "Query.a", '[a] Invalid value for "@policy(policies:)" of type '
         '"[[federation__Policy!]!]!" in application of "@policy" to "Query.a".'),
    ]),
    ("applied-twice", {"a": fed("type Query { a: Int @authenticated @authenticated }")}, [
        ("INVALID_GRAPHQL", "Query.a",
         '[a] The directive "@authenticated" can only be used once at this location.'),
    ]),
    ("definition-mismatch", {"a": fed(
        'type Query { a: Int @requiresScopes(scopes: [["a"]]) @authenticated }\n'
        "directive @requiresScopes(scopes: [[MyScope!]!], extra: Int) repeatable on "
        f"{_ON} | UNION\nscalar MyScope\ndirective @authenticated(x: Int) on FIELD_DEFINITION")},
     [
        ("DIRECTIVE_DEFINITION_INVALID", "@requiresScopes", '[a] Invalid definition for '
         'directive "@requiresScopes": argument "scopes" should have type '
         '"[[federation__Scope!]!]!" but found type "[[MyScope!]!]"'),
        ("DIRECTIVE_DEFINITION_INVALID", "@requiresScopes", '[a] Invalid definition for '
         'directive "@requiresScopes": unknown/unsupported argument "extra"'),
        ("DIRECTIVE_DEFINITION_INVALID", "@requiresScopes", '[a] Invalid definition for '
         'directive "@requiresScopes": "@requiresScopes" should not be repeatable'),
        ("DIRECTIVE_DEFINITION_INVALID", "@requiresScopes", '[a] Invalid definition for '
         'directive "@requiresScopes": "@requiresScopes" should have locations '
         "FIELD_DEFINITION, OBJECT, INTERFACE, SCALAR, ENUM, but found (non-subset) "
         "FIELD_DEFINITION, OBJECT, INTERFACE, SCALAR, ENUM, UNION"),
        ("DIRECTIVE_DEFINITION_INVALID", "@authenticated", '[a] Invalid definition for '
         'directive "@authenticated": unknown/unsupported argument "x"'),
    ]),
    ("definition-without-argument", {"a": fed(
        'type Query { a: Int @policy(policies: [["a"]]) } directive @policy on FIELD_DEFINITION')},
     [
        ("DIRECTIVE_DEFINITION_INVALID", "@policy", '[a] Invalid definition for directive '
         '"@policy": missing required argument "policies"'),
    ]),
    ("scope-not-a-scalar", {"a": fed('type Query { a: Int @requiresScopes(scopes: [["a"]]) } '
                                     "type federation__Scope { x: Int }")}, [
        ("TYPE_DEFINITION_INVALID", "federation__Scope", "[a] Invalid definition for type "
         "federation__Scope: federation__Scope should be a ScalarType but is defined as a "
         "ObjectType"),
    ]),
    ("names-disagree", {
        "a": fed("type Query { a: Int @auth }", imports='{name: "@authenticated", as: "@auth"}'),
        "b": fed("type Query { b: Int @authenticated }", "2.5", '"@authenticated"'),
        "c": fed("type Query { c: Int @auth }", imports='{name: "@authenticated", as: "@auth"}'),
    }, [
        ("LINK_IMPORT_NAME_MISMATCH", "@authenticated", 'The "@authenticated" directive (from '
         "https://specs.apollo.dev/federation/v2.7) is imported with mismatched name between "
         'subgraphs: it is imported as "@authenticated" in subgraph "b" but "@auth" in '
         'subgraphs "a" and "c"'),
    ]),
    ("on-external", {
        "a": fed('type Query { t: T @provides(fields: "p") } type T @key(fields: "id") { '
                 'id: ID! w: Int @external @requiresScopes(scopes: [["w"]]) @authenticated '
                 'p: Int @external @tag(name: "t") @inaccessible @deprecated '
                 'z: Int @requires(fields: "w") }',
                 imports=IMPORTS + ', "@requires", "@provides", "@tag", "@inaccessible"'),
        "b": fed('type T @key(fields: "id") { id: ID! w: Int p: Int @shareable }'),
    }, [
        ("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", "T.w", '[a] Cannot apply merged directive '
         '@requiresScopes(scopes: [["w"]]) to external field "T.w"'),
        ("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", "T.w",
         '[a] Cannot apply merged directive @authenticated to external field "T.w"'),
        ("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", "T.p",
         '[a] Cannot apply merged directive @tag(name: "t") to external field "T.p"'),
        ("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", "T.p",
         '[a] Cannot apply merged directive @inaccessible to external field "T.p"'),
        ("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", "T.p",
         '[a] Cannot apply merged directive @deprecated to external field "T.p"'),
    ]),
    ("compose-a-federation-directive", {"a": fed(
        "type Query { a: Int }", extra=' @composeDirective(name: "@key")',
        imports=IMPORTS + ', "@composeDirective"')}, [
        ("DIRECTIVE_COMPOSITION_ERROR", "@key",
         'Composing federation directive "@key" in subgraph "a" is not supported'),
    ]),
]

# Where our message differs from Apollo's on purpose (see the comments above).
APOLLO_WORDS_DIFFERENTLY = {"import-before-2.5", "prefixed-before-2.5"}
