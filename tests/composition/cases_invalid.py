"""Invalid compositions: (id, {subgraph: sdl}, expected code, expected coordinate)."""

FED2 = ('extend schema @link(url: "https://specs.apollo.dev/federation/v{v}", import: '
        '["@key", "@shareable", "@external", "@requires", "@provides", "@override", '
        '"@inaccessible", "@tag", "@interfaceObject", "@composeDirective"])\n')


def fed2(sdl: str, version: str = "2.7") -> str:
    return FED2.format(v=version) + sdl


CASES = [
    ("field-sharing", {
        "a": fed2('type Query { a: Int } type T @key(fields: "id") { id: ID! name: String }'),
        "b": fed2('type Query { b: T } type T @key(fields: "id") { id: ID! name: String }'),
    }, "INVALID_FIELD_SHARING", "T.name"),
    ("value-type-sharing", {
        "a": fed2("type Query { a: V } type V { x: Int }"),
        "b": fed2("type Query { b: V } type V { x: Int }"),
    }, "INVALID_FIELD_SHARING", "V.x"),
    ("root-field-sharing", {
        "a": fed2("type Query { hello: String }"),
        "b": fed2("type Query { hello: String }"),
    }, "INVALID_FIELD_SHARING", "Query.hello"),
    ("external-missing-on-base", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! w: Int @external '
                  'x: Int @requires(fields: "w") }'),
        "b": fed2('type T @key(fields: "id") { id: ID! }'),
    }, "EXTERNAL_MISSING_ON_BASE", "T.w"),
    # every field external everywhere: the type is dropped before the enum pass, which
    # looked it up and crashed with KeyError (Apollo's composer: this one error)
    ("external-on-every-subgraph", {
        "a": fed2('type Query { t: T @shareable } type T @key(fields: "id") { id: ID! @external }'),
        "b": fed2('type Query { u: T @shareable } type T @key(fields: "id") { id: ID! @external }'),
    }, "EXTERNAL_MISSING_ON_BASE", "T.id"),
    ("key-unknown-field", {
        "a": fed2('type Query { t: T } type T @key(fields: "nope") { id: ID! }'),
    }, "KEY_INVALID_FIELDS", "T"),
    ("key-selects-interface", {
        "a": fed2('type Query { t: T } interface I { x: Int } type Impl implements I { x: Int } '
                  'type T @key(fields: "i { x }") { i: I }'),
    }, "KEY_FIELDS_SELECT_INVALID_TYPE", "T"),
    ("key-field-with-args", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id(x: Int): ID! }'),
    }, "KEY_FIELDS_HAS_ARGS", "T"),
    ("requires-not-external", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! w: Int '
                  'x: Int @requires(fields: "w") }'),
    }, "REQUIRES_FIELDS_MISSING_EXTERNAL", "T.x"),
    ("requires-unknown-field", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! '
                  'x: Int @requires(fields: "nope") }'),
    }, "REQUIRES_INVALID_FIELDS", "T.x"),
    ("provides-not-external", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! name: String }'),
        "b": fed2('type Query { ts: [T] @provides(fields: "name") } '
                  'type T @key(fields: "id") { id: ID! name: String @shareable }'),
    }, "PROVIDES_FIELDS_MISSING_EXTERNAL", "Query.ts"),
    ("provides-on-scalar", {
        "a": fed2('type Query { n: Int @provides(fields: "x") }'),
    }, "PROVIDES_ON_NON_OBJECT_FIELD", "Query.n"),
    ("external-unused", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! w: Int @external }'),
        "b": fed2('type T @key(fields: "id") { id: ID! w: Int }'),
    }, "EXTERNAL_UNUSED", "T.w"),
    ("field-type-mismatch", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! v: Int @shareable }'),
        "b": fed2('type T @key(fields: "id") { id: ID! v: String @shareable }'),
    }, "FIELD_TYPE_MISMATCH", "T.v"),
    ("argument-type-mismatch", {
        "a": fed2("type Query { f(x: Int): Int @shareable }"),
        "b": fed2("type Query { f(x: String): Int @shareable }"),
    }, "FIELD_ARGUMENT_TYPE_MISMATCH", "Query.f(x:)"),
    ("argument-default-mismatch", {
        "a": fed2("type Query { f(x: Int = 1): Int @shareable }"),
        "b": fed2("type Query { f(x: Int = 2): Int @shareable }"),
    }, "FIELD_ARGUMENT_DEFAULT_MISMATCH", "Query.f(x:)"),
    ("required-argument-missing", {
        "a": fed2("type Query { f(x: Int!): Int @shareable }"),
        "b": fed2("type Query { f: Int @shareable }"),
    }, "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH", "Query.f(x:)"),
    ("type-kind-mismatch", {
        "a": fed2("type Query { a: K } type K { x: Int }"),
        "b": fed2("type Query { b: K } interface K { x: Int }"),
    }, "TYPE_KIND_MISMATCH", "K"),
    ("required-input-field-missing", {
        "a": fed2("type Query { a(i: In): Int } input In { x: Int! y: Int }"),
        "b": fed2("type Query { b(i: In): Int } input In { y: Int }"),
    }, "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH", "In.x"),
    ("empty-merged-input", {
        "a": fed2("type Query { a(i: In): Int } input In { x: Int }"),
        "b": fed2("type Query { b(i: In): Int } input In { y: Int }"),
    }, "EMPTY_MERGED_INPUT_TYPE", "In"),
    ("input-default-mismatch", {
        "a": fed2("type Query { a(i: In): Int } input In { x: Int = 1 }"),
        "b": fed2("type Query { b(i: In): Int } input In { x: Int = 2 }"),
    }, "INPUT_FIELD_DEFAULT_MISMATCH", "In.x"),
    ("enum-both-positions-mismatch", {
        "a": fed2("type Query { a(c: Color): Color } enum Color { RED GREEN }"),
        "b": fed2("type Query { b: Color } enum Color { RED }"),
    }, "ENUM_VALUE_MISMATCH", "Color.GREEN"),
    ("empty-merged-enum", {
        "a": fed2("type Query { a(c: E): Int } enum E { A }"),
        "b": fed2("type Query { b(c: E): Int } enum E { B }"),
    }, "EMPTY_MERGED_ENUM_TYPE", "E"),
    ("override-from-self", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! x: Int '
                  '@override(from: "a") }'),
    }, "OVERRIDE_FROM_SELF_ERROR", "T.x"),
    ("override-source-has-override", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! x: Int '
                  '@override(from: "b") }'),
        "b": fed2('type T @key(fields: "id") { id: ID! x: Int @override(from: "a") }'),
    }, "OVERRIDE_SOURCE_HAS_OVERRIDE", "T.x"),
    ("override-label-invalid", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! x: Int '
                  '@override(from: "b", label: "percent(101)") }'),
        "b": fed2('type T @key(fields: "id") { id: ID! x: Int }'),
    }, "OVERRIDE_LABEL_INVALID", "T.x"),
    ("override-collides-with-requires", {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! x: Int '
                  '@override(from: "b") }'),
        "b": fed2('type T @key(fields: "id") { id: ID! w: Int @external '
                  'x: Int @requires(fields: "w") }'),
        "c": fed2('type T @key(fields: "id") { id: ID! w: Int }'),
    }, "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE", "T.x"),
    ("implementation-field-not-shareable", {
        "a": fed2("type Query { i: I } interface I { x: Int } type A implements I { x: Int }"),
        "b": fed2("interface I { x: Int y: Int } type B implements I { x: Int y: Int } "
                  "type A implements I { x: Int @shareable y: Int }"),
    }, "INVALID_FIELD_SHARING", "A.x"),
    ("interface-object-without-interface", {
        "a": fed2('type Query { m: M } type M @key(fields: "id") @interfaceObject { id: ID! }'),
    }, "INTERFACE_OBJECT_USAGE_ERROR", "M"),
    ("interface-object-without-key", {
        "a": fed2('type Query { m: M } interface M @key(fields: "id") { id: ID! } '
                  'type X implements M @key(fields: "id") { id: ID! }'),
        "b": fed2('type M @interfaceObject { id: ID! extra: Int }'),
    }, "INTERFACE_OBJECT_USAGE_ERROR", "M"),
    ("interface-key-not-on-implementation", {
        "a": fed2('type Query { m: M } interface M @key(fields: "id") { id: ID! } '
                  'type X implements M { id: ID! }'),
    }, "INTERFACE_KEY_NOT_ON_IMPLEMENTATION", "M"),
    ("external-on-interface", {
        "a": fed2("type Query { i: I } interface I { x: Int @external } "
                  "type A implements I { x: Int }"),
    }, "EXTERNAL_ON_INTERFACE", "I.x"),
    ("shareable-on-interface-field", {
        "a": fed2("type Query { i: I } interface I { x: Int @shareable } "
                  "type A implements I { x: Int }"),
    }, "INVALID_SHAREABLE_USAGE", "I.x"),
    ("extension-with-no-base", {
        "a": fed2('type Query { t: T } extend type T @key(fields: "id") { id: ID! x: Int }'),
    }, "EXTENSION_WITH_NO_BASE", "T"),
    ("inaccessible-referenced", {
        "a": fed2("type Query { s: Secret } type Secret @inaccessible { x: Int }"),
    }, "REFERENCED_INACCESSIBLE", "Query.s"),
    ("inaccessible-only-children", {
        "a": fed2("type Query { a: Int v: V } type V { x: Int @inaccessible }"),
    }, "ONLY_INACCESSIBLE_CHILDREN", "V"),
    ("inaccessible-required-argument", {
        "a": fed2("type Query { f(x: Int! @inaccessible): Int }"),
    }, "REQUIRED_INACCESSIBLE", "Query.f(x:)"),
    ("unknown-type", {
        "a": fed2("type Query { f: Nope }"),
    }, "INVALID_GRAPHQL", "Query.f"),
    ("fed1-unknown-shareable", {
        "a": "type Query { f: Int @shareable }",
    }, "INVALID_GRAPHQL", "Query.f"),
    ("satisfiability-unresolvable-key", {
        "a": fed2('type Query { t: T } type T @key(fields: "id", resolvable: false) { id: ID! }'),
        "b": fed2('type T @key(fields: "id", resolvable: false) { id: ID! price: Int }'),
    }, "SATISFIABILITY_ERROR", "T.price"),
    ("satisfiability-value-type-field", {
        "a": fed2("type Query { v: V } type V { x: Int @shareable }"),
        "b": fed2("type Query { w: Int } type V { x: Int @shareable y: Int }"),
    }, "SATISFIABILITY_ERROR", "V.y"),
    ("shareable-runtime-types-disjoint", {
        "a": fed2("type Query { m: M @shareable } union M = A type A { x: Int @shareable }"),
        "b": fed2("type Query { m: M @shareable } union M = B type B { y: Int }"),
    }, "SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES", "Query.m"),
    ("compose-directive-unlinked", {
        "a": fed2('extend schema @composeDirective(name: "@custom") '
                  "directive @custom on FIELD_DEFINITION type Query { f: Int @custom }"),
    }, "DIRECTIVE_COMPOSITION_ERROR", "@custom"),
]
