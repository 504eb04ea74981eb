"""Print the supergraph model as SDL, laid out like @apollo/composition's output.

Directive definitions and types are sorted the way JavaScript's `localeCompare`
sorts identifiers (case-insensitive first, `_` before digits and letters), fields
and values keep their merge order, so our output diffs cleanly against Apollo's.
"""

from __future__ import annotations

import json

from graphql.language.block_string import print_block_string

from router.federation.specs import (
    AUTHORIZATION_ARGUMENTS,
    AUTHORIZATION_IDENTITIES,
    AUTHORIZATION_LOCATIONS,
    AUTHORIZATION_SPEC_VERSION,
    INACCESSIBLE,
    INACCESSIBLE_IDENTITY,
    JOIN_IDENTITY,
    LINK_IDENTITY,
    TAG,
    TAG_IDENTITY,
)

from .composed import ComposedArgument, ComposedSupergraph, ComposedType, JoinField, JoinType

_JOIN_FIELD_ARGS = {
    "0.3": "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, "
    "type: String, external: Boolean, override: String, usedOverridden: Boolean",
    "0.4": "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, "
    "type: String, external: Boolean, override: String, usedOverridden: Boolean, "
    "overrideLabel: String",
    "0.5": "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, "
    "type: String, external: Boolean, override: String, usedOverridden: Boolean, "
    "overrideLabel: String, contextArguments: [join__ContextArgument!]",
}
_JOIN_DIRECTIVES = {
    "join__directive": "directive @join__directive(graphs: [join__Graph!], name: String!, "
    "args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | "
    "INTERFACE | FIELD_DEFINITION",
    "join__enumValue": "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
    "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
    "join__implements": "directive @join__implements(graph: join__Graph!, interface: String!) "
    "repeatable on OBJECT | INTERFACE",
    "join__type": "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: "
    "Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = "
    "false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
    "join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!) "
    "repeatable on UNION",
}
_LINK_DIRECTIVE = (
    "directive @link(url: String, as: String, for: link__Purpose, import: "
    "[link__Import]) repeatable on SCHEMA"
)
_TAG_DIRECTIVE = (
    "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | "
    "INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | "
    "INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"
)
_INACCESSIBLE_DIRECTIVE = (
    "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | "
    "UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | "
    "INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
_LINK_PURPOSE = '''enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''
_CONTEXT_ARGUMENT = """input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}"""


def sort_key(name: str) -> tuple:
    """Approximates ICU root collation (JavaScript localeCompare) for GraphQL names."""
    primary = []
    tertiary = []
    for ch in name:
        if ch == "_":
            primary.append(0)
        elif ch.isdigit():
            primary.append(1 + int(ch))
        else:
            primary.append(20 + ord(ch.lower()))
        tertiary.append(1 if ch.isupper() else 0)
    return (primary, tertiary)


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _description(text: str | None, indent: str) -> list[str]:
    if text is None:
        return []
    block = print_block_string(text)
    return [indent + line if line else line for line in block.split("\n")]


def _join_type(j: JoinType) -> str:
    args = [f"graph: {j.graph}"]
    if j.key is not None:
        args.append(f"key: {_string(j.key)}")
    if j.extension:
        args.append("extension: true")
    if j.resolvable is not None:
        args.append(f"resolvable: {'true' if j.resolvable else 'false'}")
    if j.interface_object:
        args.append("isInterfaceObject: true")
    return f"@join__type({', '.join(args)})"


def _join_field(j: JoinField) -> str:
    args = []
    if j.graph is not None:
        args.append(f"graph: {j.graph}")
    if j.requires is not None:
        args.append(f"requires: {_string(j.requires)}")
    if j.provides is not None:
        args.append(f"provides: {_string(j.provides)}")
    if j.type is not None:
        args.append(f"type: {_string(j.type)}")
    if j.external:
        args.append("external: true")
    if j.override is not None:
        args.append(f"override: {_string(j.override)}")
    if j.used_overridden:
        args.append("usedOverridden: true")
    if j.override_label is not None:
        args.append(f"overrideLabel: {_string(j.override_label)}")
    return f"@join__field({', '.join(args)})" if args else "@join__field"


def _input_value(v: ComposedArgument) -> str:
    text = f"{v.name}: {v.type}"
    if v.default is not None:
        text += f" = {v.default}"
    directives = (
        (["@inaccessible"] if v.inaccessible else [])
        + [_join_field(j) for j in v.join_fields]
        + v.directives
    )
    if directives:
        text += " " + " ".join(directives)
    return text


def _arguments(args: dict[str, ComposedArgument], indent: str) -> str:
    if not args:
        return ""
    if not any(a.description is not None for a in args.values()):
        return "(" + ", ".join(_input_value(a) for a in args.values()) + ")"
    lines = ["("]
    for a in args.values():
        lines.extend(_description(a.description, indent + "  "))
        lines.append(indent + "  " + _input_value(a))
    lines.append(indent + ")")
    return "\n".join(lines)


def _block(entries: list[tuple[str | None, str]]) -> list[str]:
    lines = ["{"]
    for i, (description, text) in enumerate(entries):
        if description is not None:
            if i > 0:
                lines.append("")
            lines.extend(_description(description, "  "))
        lines.append("  " + text)
    lines.append("}")
    return lines


def _type(t: ComposedType) -> str:
    keyword = {
        "OBJECT": "type",
        "INTERFACE": "interface",
        "UNION": "union",
        "ENUM": "enum",
        "INPUT_OBJECT": "input",
        "SCALAR": "scalar",
    }[t.kind]
    lines = _description(t.description, "")
    head = f"{keyword} {t.name}"
    if t.interfaces:
        head += " implements " + " & ".join(t.interfaces)
    lines.append(head)
    directives = [f'@join__implements(graph: {g}, interface: "{i}")' for g, i in t.join_implements]
    directives += [_join_type(j) for j in t.join_types]
    if t.inaccessible:
        directives.append("@inaccessible")
    directives += [f'@join__unionMember(graph: {g}, member: "{m}")' for g, m in t.join_members]
    directives += t.directives
    lines.extend("  " + d for d in directives)
    lines.extend(_body(t))
    return "\n".join(lines)


def _body(t: ComposedType) -> list[str]:
    """Fields, input fields, values or members, by kind (a scalar has none)."""
    if t.kind in ("OBJECT", "INTERFACE"):
        entries = []
        for f in t.fields.values():
            text = f"{f.name}{_arguments(f.args, '  ')}: {f.type}"
            joins = [_join_field(j) for j in f.join_fields]
            # A field copied from an @interfaceObject gets its join after its directives.
            copied = all(j.graph is None for j in f.join_fields)
            ds = (
                (["@inaccessible"] if f.inaccessible else [])
                + (f.directives + joins if copied else joins + f.directives)
            )
            if ds:
                text += " " + " ".join(ds)
            entries.append((f.description, text))
        return _block(entries)
    if t.kind == "INPUT_OBJECT":
        return _block([(v.description, _input_value(v)) for v in t.input_fields.values()])
    if t.kind == "ENUM":
        entries = []
        for v in t.values.values():
            ds = (
                (["@inaccessible"] if v.inaccessible else [])
                + [f"@join__enumValue(graph: {g})" for g in v.graphs]
                + v.directives
            )
            entries.append((v.description, " ".join([v.name, *ds])))
        return _block(entries)
    if t.kind == "UNION":
        return [" = " + " | ".join(t.members)]
    return []


def print_supergraph(sg: ComposedSupergraph) -> str:
    """The supergraph SDL: schema definition, then directives and types in Apollo's order."""
    directives = _directive_definitions(sg)
    types = _type_definitions(sg)
    parts = [_schema_definition(sg)]
    parts += [directives[n] for n in sorted(directives, key=sort_key)]
    parts += [types[n] for n in sorted(types, key=sort_key)]
    return "\n\n".join(parts) + "\n"


def _schema_definition(sg: ComposedSupergraph) -> str:
    links = [
        f'@link(url: "{LINK_IDENTITY}/v1.0")',
        f'@link(url: "{JOIN_IDENTITY}/v{sg.join_version}", for: EXECUTION)',
    ]
    links += [_spec_link(sg, spec) for spec in _linked_specs(sg)]
    links.extend(sg.feature_links)
    schema = ["schema"] + ["  " + link for link in links] + ["{"]
    schema += [f"  {kind}: {name}" for kind, name in sg.roots.items()] + ["}"]
    return "\n".join(schema)


def _linked_specs(sg: ComposedSupergraph) -> list[str]:
    """The merged spec directives the supergraph links, in Apollo's order."""
    used = {TAG: sg.uses_tag, INACCESSIBLE: sg.uses_inaccessible}
    specs = [s for s in sg.spec_directives if used.get(s, s in sg.auth_names)]
    return specs + [s for s in (TAG, INACCESSIBLE) if used[s] and s not in specs]


def _spec_link(sg: ComposedSupergraph, spec: str) -> str:
    """`@link(url: ..., for: SECURITY)` of one merged spec; an authorization directive named
    otherwise than its spec in the subgraphs is imported under that name."""
    if spec == TAG:
        return f'@link(url: "{TAG_IDENTITY}/v0.3")'
    if spec == INACCESSIBLE:
        return f'@link(url: "{INACCESSIBLE_IDENTITY}/v0.2", for: SECURITY)'
    url = f"{AUTHORIZATION_IDENTITIES[spec]}/{AUTHORIZATION_SPEC_VERSION}"
    name = sg.auth_names[spec]
    imports = "" if name == spec else f', import: [{{name: "@{spec}", as: "@{name}"}}]'
    return f'@link(url: "{url}", for: SECURITY{imports})'


def _authorization_definitions(sg: ComposedSupergraph) -> dict[str, str]:
    """The authorization directives' definitions (by supergraph name) and their scalars."""
    printed: dict[str, str] = {}
    for spec, name in sg.auth_names.items():
        argument = AUTHORIZATION_ARGUMENTS[spec]
        args = f"({argument[0]}: [[{spec}__{argument[1]}!]!]!)" if argument else ""
        printed[name] = f"directive @{name}{args} on {' | '.join(AUTHORIZATION_LOCATIONS)}"
    return printed


def _authorization_scalars(sg: ComposedSupergraph) -> dict[str, str]:
    """`scalar requiresScopes__Scope` / `scalar policy__Policy` for the specs linked."""
    names = [
        f"{spec}__{argument[1]}"
        for spec in sg.auth_names
        if (argument := AUTHORIZATION_ARGUMENTS[spec]) is not None
    ]
    return {name: f"scalar {name}" for name in names}


def _directive_definitions(sg: ComposedSupergraph) -> dict[str, str]:
    """Printed directive definitions by name: the specs' and the merged ones."""
    version = sg.join_version
    directives: dict[str, str] = {}
    for name, text in _JOIN_DIRECTIVES.items():
        if name == "join__directive" and version == "0.3":
            continue
        directives[name] = text
    directives["join__field"] = (
        f"directive @join__field({_JOIN_FIELD_ARGS[version]}) "
        "repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
    )
    directives["link"] = _LINK_DIRECTIVE
    if sg.uses_tag:
        directives["tag"] = _TAG_DIRECTIVE
    if sg.uses_inaccessible:
        directives["inaccessible"] = _INACCESSIBLE_DIRECTIVE
    directives.update(_authorization_definitions(sg))
    for d in sg.directive_defs.values():
        lines = _description(d.description, "")
        lines.append(
            f"directive @{d.name}{_arguments(d.args, '')}"
            f"{' repeatable' if d.repeatable else ''} on {' | '.join(d.locations)}"
        )
        directives[d.name] = "\n".join(lines)
    return directives


def _type_definitions(sg: ComposedSupergraph) -> dict[str, str]:
    """Printed types by name: the merged ones and the spec types the join version needs."""
    version = sg.join_version
    types: dict[str, str] = {name: _type(t) for name, t in sg.types.items()}
    types["join__FieldSet"] = "scalar join__FieldSet"
    types["link__Import"] = "scalar link__Import"
    types["link__Purpose"] = _LINK_PURPOSE
    for name, text in _authorization_scalars(sg).items():
        types.setdefault(name, text)  # a subgraph linking the spec itself has it as a type
    if version != "0.3":
        types["join__DirectiveArguments"] = "scalar join__DirectiveArguments"
    if version == "0.5":
        types["join__FieldValue"] = "scalar join__FieldValue"
        types["join__ContextArgument"] = _CONTEXT_ARGUMENT
    graphs = (
        ["enum join__Graph {"]
        + [
            f"  {g.enum_name} @join__graph(name: {_string(g.name)}, url: {_string(g.url)})"
            for g in sg.graphs
        ]
        + ["}"]
    )
    types["join__Graph"] = "\n".join(graphs)
    return types
