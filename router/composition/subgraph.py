"""Read one subgraph's SDL into the subgraph model.

Resolves `@link` imports and renames, recognises Federation 1 schemas (no
federation `@link`), drops the federation plumbing a subgraph's `_service { sdl }`
may include (`_Any`, `_Entity`, `_service`, ...) and reports invalid GraphQL.
"""

from __future__ import annotations

import re

from graphql import GraphQLSyntaxError, parse, print_ast
from graphql.language import ast

from router.federation.typeref import BUILTIN_SCALARS, named_type

from .errors import Report
from .model import (
    DirectiveDef,
    EnumValue,
    InputValue,
    Key,
    LinkedSpec,
    Subgraph,
    SubgraphField,
    SubgraphSource,
    SubgraphType,
)

FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
LINK_IDENTITY = "https://specs.apollo.dev/link"

# Federation directives and the federation version that introduced each.
FEDERATION_DIRECTIVES: dict[str, tuple[int, int]] = {
    "key": (2, 0),
    "requires": (2, 0),
    "provides": (2, 0),
    "external": (2, 0),
    "extends": (2, 0),
    "shareable": (2, 0),
    "inaccessible": (2, 0),
    "override": (2, 0),
    "tag": (2, 0),
    "composeDirective": (2, 1),
    "interfaceObject": (2, 3),
    "authenticated": (2, 5),
    "requiresScopes": (2, 5),
    "policy": (2, 6),
    "context": (2, 8),
    "fromContext": (2, 8),
    "cost": (2, 9),
    "listSize": (2, 9),
}
FEDERATION1_DIRECTIVES = ("key", "requires", "provides", "external", "extends", "tag")
KNOWN_FEDERATION_VERSIONS = {(2, minor) for minor in range(0, 12)}

BUILTIN_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "include", "skip", "oneOf"})
# Elements a subgraph server adds for the federation protocol itself.
PLUMBING_TYPES = frozenset(
    {
        "_Any",
        "_Entity",
        "_Service",
        "_FieldSet",
        "FieldSet",
        "link__Import",
        "link__Purpose",
        "federation__FieldSet",
        "federation__Scope",
        "federation__Policy",
        "federation__ContextFieldValue",
        "_Scope",
        "_Policy",
    }
)
PLUMBING_ROOT_FIELDS = frozenset({"_entities", "_service"})
ROOT_KINDS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")

_TYPE_KINDS: dict[type, str] = {
    ast.ObjectTypeDefinitionNode: "OBJECT",
    ast.ObjectTypeExtensionNode: "OBJECT",
    ast.InterfaceTypeDefinitionNode: "INTERFACE",
    ast.InterfaceTypeExtensionNode: "INTERFACE",
    ast.UnionTypeDefinitionNode: "UNION",
    ast.UnionTypeExtensionNode: "UNION",
    ast.EnumTypeDefinitionNode: "ENUM",
    ast.EnumTypeExtensionNode: "ENUM",
    ast.InputObjectTypeDefinitionNode: "INPUT_OBJECT",
    ast.InputObjectTypeExtensionNode: "INPUT_OBJECT",
    ast.ScalarTypeDefinitionNode: "SCALAR",
    ast.ScalarTypeExtensionNode: "SCALAR",
}


def _split_url(url: str) -> tuple[str, str, str]:
    """`https://specs.apollo.dev/federation/v2.3` -> (identity, name, version)."""
    base, _, version = url.rstrip("/").rpartition("/")
    if not _VERSION.match(version):
        return url.rstrip("/"), url.rstrip("/").rpartition("/")[2], ""
    return base, base.rpartition("/")[2], version


def _value(node: ast.ValueNode) -> object:
    """A literal as plain Python (strings, lists, objects) for directive arguments."""
    if isinstance(node, ast.StringValueNode):
        return node.value
    if isinstance(node, ast.BooleanValueNode):
        return node.value
    if isinstance(node, ast.ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ast.ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    if isinstance(node, ast.EnumValueNode):
        return node.value
    if isinstance(node, ast.NullValueNode):
        return None
    return print_ast(node)


def print_value(node: ast.ValueNode) -> str:
    """A literal printed the way Apollo prints default values (`{a: 1}`, `[1, 2]`)."""
    if isinstance(node, ast.ListValueNode):
        return "[" + ", ".join(print_value(v) for v in node.values) + "]"
    if isinstance(node, ast.ObjectValueNode):
        return "{" + ", ".join(f"{f.name.value}: {print_value(f.value)}" for f in node.fields) + "}"
    return print_ast(node)


def _args(directive: ast.DirectiveNode) -> dict[str, object]:
    return {a.name.value: _value(a.value) for a in directive.arguments or ()}


def _print_type(node: ast.TypeNode, renames: dict[str, str]) -> str:
    if isinstance(node, ast.NonNullTypeNode):
        return _print_type(node.type, renames) + "!"
    if isinstance(node, ast.ListTypeNode):
        return "[" + _print_type(node.type, renames) + "]"
    name = node.name.value
    return renames.get(name, name)


def _description(node: ast.Node) -> str | None:
    desc = getattr(node, "description", None)
    return desc.value if desc is not None else None


class _Reader:
    def __init__(self, source: SubgraphSource, report: Report) -> None:
        self.source = source
        self.report = report
        self.name = source.name
        # local directive name -> federation directive name
        self.fed_names: dict[str, str] = {}
        self.fed2 = False
        self.fed_version = (1, 0)
        self.links: list[LinkedSpec] = []
        self.composed: list[str] = []
        self.root_renames: dict[str, str] = {}
        self.defined_directives: set[str] = set()

    def error(self, message: str, coordinate: str | None = None, code: str = "INVALID_GRAPHQL"):
        self.report.error(code, f"[{self.name}] {message}", (self.name,), coordinate)

    # -- links -------------------------------------------------------------------------

    def read_links(self, schema_nodes: list[ast.Node]) -> None:
        fed_link: dict[str, object] | None = None
        for node in schema_nodes:
            for d in node.directives or ():
                if d.name.value != "link":
                    continue
                args = _args(d)
                url = str(args.get("url") or "")
                identity, spec_name, version = _split_url(url)
                if identity == FEDERATION_IDENTITY:
                    fed_link = args
                    m = _VERSION.match(version)
                    if not m or (int(m[1]), int(m[2])) not in KNOWN_FEDERATION_VERSIONS:
                        self.error(
                            f"Invalid version {version} for the federation feature in @link "
                            f"direction on schema",
                            code="UNKNOWN_FEDERATION_LINK_VERSION",
                        )
                        continue
                    self.fed2 = True
                    self.fed_version = (int(m[1]), int(m[2]))
                elif identity == LINK_IDENTITY:
                    continue
                else:
                    imports: dict[str, str] = {}
                    for imp in args.get("import") or ():
                        if isinstance(imp, str):
                            imports[imp.lstrip("@")] = imp.lstrip("@")
                        elif isinstance(imp, dict):
                            original = str(imp.get("name", "")).lstrip("@")
                            imports[str(imp.get("as", original)).lstrip("@")] = original
                    prefix = str(args.get("as") or spec_name)
                    self.links.append(LinkedSpec(url, identity, version, prefix, imports))
        if fed_link is None:
            for name in FEDERATION1_DIRECTIVES:
                self.fed_names[name] = name
            return
        prefix = str(fed_link.get("as") or "federation")
        for name in FEDERATION_DIRECTIVES:
            self.fed_names[f"{prefix}__{name}"] = name
        for imp in fed_link.get("import") or ():
            if isinstance(imp, str):
                original = alias = imp
            elif isinstance(imp, dict):
                original = str(imp.get("name", ""))
                alias = str(imp.get("as", original))
            else:
                continue
            if not original.startswith("@"):
                continue  # imported types (FieldSet, ...) need no handling
            original, alias = original[1:], alias.lstrip("@")
            if original not in FEDERATION_DIRECTIVES:
                self.error(
                    f'Cannot import unknown element "@{original}".',
                    code="INVALID_LINK_DIRECTIVE_USAGE",
                )
                continue
            if FEDERATION_DIRECTIVES[original] > self.fed_version:
                self.error(
                    f'Cannot import unknown element "@{original}" (it requires federation '
                    f"v{'.'.join(map(str, FEDERATION_DIRECTIVES[original]))}).",
                    code="INVALID_LINK_DIRECTIVE_USAGE",
                )
                continue
            self.fed_names[alias] = original

    # -- reading -----------------------------------------------------------------------

    def read(self) -> Subgraph | None:
        try:
            document = parse(self.source.sdl, no_location=True)
        except GraphQLSyntaxError as exc:
            self.error(f"Syntax error: {exc.message}")
            return None
        schema_nodes = [
            d
            for d in document.definitions
            if isinstance(d, ast.SchemaDefinitionNode | ast.SchemaExtensionNode)
        ]
        self.read_links(schema_nodes)
        roots: dict[str, str] = {}
        for node in schema_nodes:
            for op in node.operation_types or ():
                roots[op.operation.value] = op.type.name.value
            for d in node.directives or ():
                if self.fed_names.get(d.name.value) == "composeDirective":
                    self.composed.append(str(_args(d).get("name", "")).lstrip("@"))
        for kind, name in roots.items():
            if name != ROOT_KINDS[kind]:
                self.root_renames[name] = ROOT_KINDS[kind]

        subgraph = Subgraph(self.name, self.source.url, self.fed2, self.fed_version)
        subgraph.links = self.links
        subgraph.composed = self.composed
        for definition in document.definitions:
            if isinstance(definition, ast.DirectiveDefinitionNode):
                self.defined_directives.add(definition.name.value)
        for definition in document.definitions:
            if isinstance(definition, ast.DirectiveDefinitionNode):
                self.read_directive_definition(definition, subgraph)
            elif type(definition) in _TYPE_KINDS:
                self.read_type(definition, subgraph)
        for kind, name in ROOT_KINDS.items():
            if name in subgraph.types and subgraph.types[name].kind == "OBJECT":
                subgraph.roots[kind] = name
        self.check_references(subgraph)
        return subgraph

    def read_directive_definition(self, node: ast.DirectiveDefinitionNode, sg: Subgraph):
        name = node.name.value
        if name in self.fed_names or name == "link" or name in BUILTIN_DIRECTIVES:
            return
        if name.startswith(("federation__", "link__", "join__")):
            return
        sg.directive_defs[name] = DirectiveDef(
            name=name,
            locations=[loc.value for loc in node.locations],
            repeatable=bool(node.repeatable),
            args={a.name.value: self.input_value(a) for a in node.arguments or ()},
            description=_description(node),
        )

    def input_value(self, node: ast.InputValueDefinitionNode, coordinate: str = "") -> InputValue:
        value = InputValue(
            name=node.name.value,
            type=_print_type(node.type, self.root_renames),
            default=print_value(node.default_value) if node.default_value is not None else None,
            description=_description(node),
        )
        self.apply_common(node.directives, value, coordinate)
        return value

    def apply_common(self, directives, element, coordinate: str) -> dict[str, list[dict]]:
        """Reads @tag / @inaccessible / kept directives; returns federation ones by name."""
        found: dict[str, list[dict]] = {}
        for d in directives or ():
            local = d.name.value
            fed = self.fed_names.get(local)
            if fed == "tag":
                element.tags.append(str(_args(d).get("name")))
            elif fed == "inaccessible":
                element.inaccessible = True
            elif fed is not None:
                found.setdefault(fed, []).append(_args(d))
            elif local in BUILTIN_DIRECTIVES or local in self.composed:
                element.directives.append(print_ast(d))
            elif local not in self.defined_directives:
                hint = ""
                if local in FEDERATION_DIRECTIVES and not self.fed2:
                    hint = (
                        f' If you meant the "@{local}" federation 2 directive, note that '
                        "this schema is a federation 1 schema. To be a federation 2 "
                        "schema, it needs to @link to the federation specification v2."
                    )
                elif local in FEDERATION_DIRECTIVES:
                    hint = (
                        f' If you meant the "@{local}" federation directive, you should '
                        'use fully-qualified name "@federation__' + local + '" or add '
                        f'"@{local}" to the `import` argument of the @link to the '
                        "federation specification."
                    )
                self.error(f'Unknown directive "@{local}".{hint}', coordinate or None)
        return found

    def read_type(self, node: ast.TypeDefinitionNode, sg: Subgraph) -> None:
        raw_name = node.name.value
        if raw_name in PLUMBING_TYPES:
            return
        name = self.root_renames.get(raw_name, raw_name)
        kind = _TYPE_KINDS[type(node)]
        is_extension = isinstance(node, ast.TypeExtensionNode)
        t = sg.types.get(name)
        if t is None:
            t = sg.types[name] = SubgraphType(kind=kind, name=name)
        elif t.kind != kind:
            self.error(f'Type "{name}" is defined with different kinds in this subgraph.', name)
            return
        if is_extension:
            t.has_extension = True
        else:
            t.has_definition = True
            if t.description is None:
                t.description = _description(node)
        fed = self.apply_common(node.directives, t, name)
        for args in fed.get("key", ()):
            fields = args.get("fields")
            if isinstance(fields, list):  # Federation 1 accepted a list of names
                fields = " ".join(str(f) for f in fields)
            resolvable = args.get("resolvable")
            t.keys.append(
                Key(
                    str(fields or ""),
                    resolvable if isinstance(resolvable, bool) else None,
                    extension=is_extension,
                )
            )
        # A type-level @shareable covers the fields of the same definition or extension.
        block_shareable = "shareable" in fed
        if block_shareable:
            t.shareable = True
        if "extends" in fed:
            t.extends = True
        if "interfaceObject" in fed:
            t.interface_object = True
        # Federation 2 lets @external on a type mean "on each of its fields" (this
        # definition's); Federation 1 accepted it on types and ignored it.
        all_external = "external" in fed and self.fed2
        for interface in getattr(node, "interfaces", None) or ():
            if interface.name.value not in t.interfaces:
                t.interfaces.append(interface.name.value)
        if kind in ("OBJECT", "INTERFACE"):
            for f in node.fields or ():
                self.read_field(f, t, is_extension, all_external)
                if block_shareable and f.name.value in t.fields:
                    t.fields[f.name.value].shareable = True
        elif kind == "INPUT_OBJECT":
            for f in node.fields or ():
                coordinate = f"{name}.{f.name.value}"
                t.input_fields[f.name.value] = self.input_value(f, coordinate)
        elif kind == "UNION":
            for m in node.types or ():
                member = self.root_renames.get(m.name.value, m.name.value)
                if member not in t.members:
                    t.members.append(member)
        elif kind == "ENUM":
            for v in node.values or ():
                value = EnumValue(v.name.value, _description(v))
                self.apply_common(v.directives, value, f"{name}.{v.name.value}")
                t.values[value.name] = value

    def read_field(
        self, node: ast.FieldDefinitionNode, t: SubgraphType, is_extension: bool, all_external: bool
    ) -> None:
        name = node.name.value
        if t.name == "Query" and name in PLUMBING_ROOT_FIELDS:
            return
        coordinate = f"{t.name}.{name}"
        f = SubgraphField(
            name=name,
            type=_print_type(node.type, self.root_renames),
            description=_description(node),
            from_extension=is_extension,
        )
        for a in node.arguments or ():
            f.args[a.name.value] = self.input_value(a, f"{coordinate}({a.name.value}:)")
        fed = self.apply_common(node.directives, f, coordinate)
        f.external = "external" in fed or all_external
        f.shareable = "shareable" in fed
        if fed.get("requires"):
            f.requires = _field_set_text(fed["requires"][0].get("fields"))
        if fed.get("provides"):
            f.provides = _field_set_text(fed["provides"][0].get("fields"))
        if fed.get("override"):
            args = fed["override"][0]
            f.override_from = str(args.get("from", ""))
            label = args.get("label")
            f.override_label = str(label) if label is not None else None
        if name in t.fields:
            self.error(f'Field "{coordinate}" can only be defined once.', coordinate)
            return
        t.fields[name] = f

    def check_references(self, sg: Subgraph) -> None:
        known = set(sg.types) | BUILTIN_SCALARS

        def check(ref: str, coordinate: str) -> None:
            if named_type(ref) not in known:
                self.error(f'Unknown type "{named_type(ref)}".', coordinate)

        for t in sg.types.values():
            if t.kind in ("OBJECT", "INTERFACE") and not t.fields and t.name != "Query":
                self.error(f'Type "{t.name}" must define one or more fields.', t.name)
            for f in t.fields.values():
                check(f.type, f"{t.name}.{f.name}")
                for a in f.args.values():
                    check(a.type, f"{t.name}.{f.name}({a.name}:)")
            for v in t.input_fields.values():
                check(v.type, f"{t.name}.{v.name}")
            for itf in t.interfaces:
                if itf not in sg.types or sg.types[itf].kind != "INTERFACE":
                    self.error(f'Type "{t.name}" implements unknown interface "{itf}".', t.name)
            for m in t.members:
                if m not in sg.types or sg.types[m].kind != "OBJECT":
                    self.error(f'Union "{t.name}" has unknown or non-object member "{m}".', t.name)
        if "Query" not in sg.types:
            # Every subgraph serves `_entities`/`_service`, so every one has a Query type.
            sg.types["Query"] = SubgraphType(kind="OBJECT", name="Query", has_definition=True)
            sg.roots["query"] = "Query"


def _field_set_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def read_subgraph(source: SubgraphSource, report: Report) -> Subgraph | None:
    """Parses one subgraph; returns None (with errors reported) when it cannot be read."""
    before = len(report.errors)
    subgraph = _Reader(source, report).read()
    if subgraph is None or len(report.errors) > before:
        return None
    return subgraph
