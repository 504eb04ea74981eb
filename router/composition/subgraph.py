"""Read one subgraph's SDL into the subgraph model.

Resolves `@link` imports and renames, recognises Federation 1 schemas (no
federation `@link`), drops the federation plumbing a subgraph's `_service { sdl }`
may include (`_Any`, `_Entity`, `_service`, ...) and reports invalid GraphQL.
"""

from __future__ import annotations

from graphql import GraphQLSyntaxError, parse, print_ast
from graphql.language import ast

from router.federation.links import Link, read_links
from router.federation.specs import (
    FEDERATION1_DIRECTIVES,
    FEDERATION_DIRECTIVES,
    FEDERATION_IDENTITY,
    INACCESSIBLE,
    JOIN,
    KNOWN_FEDERATION_VERSIONS,
    LINK_IDENTITY,
    PLUMBING_ROOT_FIELDS,
    PLUMBING_TYPES,
    TAG,
    parse_version,
)
from router.federation.typeref import BUILTIN_SCALARS, named_type

from .authorization import (
    SPEC_DIRECTIVE_ORDER,
    AuthDirectives,
    authorization_sources,
    implied_federation_version,
)
from .errors import Report
from .model import (
    Subgraph,
    SubgraphDirective,
    SubgraphEnumValue,
    SubgraphField,
    SubgraphInputValue,
    SubgraphKey,
    SubgraphSource,
    SubgraphType,
)

BUILTIN_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "include", "skip", "oneOf"})
ROOT_KINDS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

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
    """Reads one subgraph; errors go to the report, prefixed with the subgraph's name."""

    def __init__(self, source: SubgraphSource, report: Report) -> None:
        self.source = source
        self.report = report
        self.name = source.name
        # local directive name -> federation directive name
        self.fed_names: dict[str, str] = {}
        self.fed2 = False
        self.fed_version = (1, 0)
        self.links: list[Link] = []  # specs other than federation and link
        self.link_spec: Link | None = None  # the link spec's own @link (read_links adds one)
        self.composed: list[str] = []
        self.root_renames: dict[str, str] = {}
        self.defined_directives: set[str] = set()
        self.auth = AuthDirectives({}, self.coded_error)
        self.applied_specs: set[str] = set()  # spec directives applied (see spec_directives)
        self.defined_specs: list[str] = []  # spec directives the SDL defines, in its order

    def coded_error(self, code: str, message: str, coordinate: str | None) -> None:
        """Reports an error of this subgraph with its code first (the shape checks use)."""
        self.error(message, coordinate, code)

    def error(
        self, message: str, coordinate: str | None = None, code: str = "INVALID_GRAPHQL"
    ) -> None:
        """Reports an error of this subgraph (its name prefixes the message)."""
        self.report.error(code, f"[{self.name}] {message}", (self.name,), coordinate)

    # -- links -------------------------------------------------------------------------

    def read_links(self, definitions: list[ast.DefinitionNode]) -> None:
        """The subgraph's `@link`s: its federation version and names, and other specs."""
        fed_link: Link | None = None
        for link in read_links(definitions, core=False).links:
            if link.identity == FEDERATION_IDENTITY:
                fed_link = link
                self.read_federation_version(link)
            elif link.identity == LINK_IDENTITY:
                self.link_spec = link
            else:
                self.links.append(link)
        if fed_link is None:
            self.fed_names = {name: name for name in FEDERATION1_DIRECTIVES}
        else:
            self.fed_names = self.federation_names(fed_link)
        if self.fed2:
            self.read_authorization_links(fed_link)

    def read_authorization_links(self, fed_link: Link | None) -> None:
        """Where @authenticated, @requiresScopes and @policy come from; a directly linked
        spec that needs a newer federation upgrades the subgraph to it (with Apollo's hint)."""
        implied = implied_federation_version(self.links)
        if implied is not None and implied > self.fed_version:
            self.report.hint(
                "IMPLICITLY_UPGRADED_FEDERATION_VERSION",
                f"Subgraph {self.name} has been implicitly upgraded from federation "
                f"v{self.fed_version[0]}.{self.fed_version[1]} to v{implied[0]}.{implied[1]}",
                (self.name,),
            )
        self.auth = AuthDirectives(
            authorization_sources(fed_link, self.fed_version, self.links), self.coded_error
        )
        if implied is not None:
            self.fed_version = max(self.fed_version, implied)

    def read_federation_version(self, link: Link) -> None:
        """A federation `@link` makes the subgraph a Federation 2 one, if its version is known."""
        version = parse_version(link.version)
        if version is None or version not in KNOWN_FEDERATION_VERSIONS:
            self.error(
                f"Invalid version {link.version} for the federation feature in @link "
                f"direction on schema",
                code="UNKNOWN_FEDERATION_LINK_VERSION",
            )
            return
        self.fed2 = True
        self.fed_version = version

    def federation_names(self, link: Link) -> dict[str, str]:
        """Local directive name -> federation directive, for the subgraph's federation link.

        Every federation directive is usable prefixed (`@federation__key`); imported
        ones also by their local name, if this federation version defines them.
        """
        names = {
            link.namespaced_directive(name): name
            for name, since in FEDERATION_DIRECTIVES.items()
            if since <= self.fed_version
        }
        for spec, local in link.imports.items():
            if not spec.startswith("@"):
                continue  # imported types (FieldSet, ...) need no handling
            original = spec[1:]
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
            names[local[1:]] = original
        return names

    # -- reading -----------------------------------------------------------------------

    def read(self) -> Subgraph | None:
        """The subgraph, or None when its SDL does not parse (the error is reported)."""
        try:
            document = parse(self.source.sdl, no_location=True)
        except GraphQLSyntaxError as exc:
            self.error(f"Syntax error: {exc.message}")
            return None
        before = len(self.report.errors)
        self.read_schema(document)
        if len(self.report.errors) > before:
            return None  # as Apollo: a subgraph whose links are wrong is not read further
        subgraph = Subgraph(self.name, self.source.url, self.fed2, self.fed_version)
        subgraph.links = self.links
        subgraph.composed = self.composed
        subgraph.auth_sources = self.auth.sources
        self.read_spec_definitions(document)
        if len(self.report.errors) > before:
            return None  # nor one whose spec directive definitions are wrong
        for definition in document.definitions:
            if isinstance(definition, ast.DirectiveDefinitionNode):
                self.read_directive_definition(definition, subgraph)
            elif type(definition) in _TYPE_KINDS:
                self.read_type(definition, subgraph)
        for kind, name in ROOT_KINDS.items():
            if name in subgraph.types and subgraph.types[name].kind == "OBJECT":
                subgraph.roots[kind] = name
        for scalar, direct in self.auth.scalars.items():
            if direct and scalar not in subgraph.types:
                subgraph.types[scalar] = SubgraphType("SCALAR", scalar, has_definition=True)
        self.check_references(subgraph)
        subgraph.spec_directives = [s for s in self.defined_specs if s in self.applied_specs] + [
            s for s in SPEC_DIRECTIVE_ORDER if s in self.applied_specs - set(self.defined_specs)
        ]
        return subgraph

    def read_spec_definitions(self, document: ast.DocumentNode) -> None:
        """Notes every directive the SDL defines; checks the authorization ones against
        their spec and remembers the order of the merged spec directives defined."""
        custom_scalars = {
            d.name.value
            for d in document.definitions
            if isinstance(d, ast.ScalarTypeDefinitionNode) and d.name.value not in BUILTIN_SCALARS
        }
        for definition in document.definitions:
            if not isinstance(definition, ast.DirectiveDefinitionNode):
                continue
            name = definition.name.value
            self.defined_directives.add(name)
            spec = self.auth.spec_of(name) or self.fed_names.get(name)
            if spec in SPEC_DIRECTIVE_ORDER and spec not in self.defined_specs:
                self.defined_specs.append(spec)
            if self.auth.spec_of(name) is not None:
                self.auth.check_definition(spec, definition, custom_scalars)

    def read_schema(self, document: ast.DocumentNode) -> None:
        """The schema definitions and extensions: links, root types, @composeDirective."""
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
                    self.read_compose_directive(str(_args(d).get("name", "")).lstrip("@"))
                elif self.auth.spec_of(d.name.value) is not None:
                    self.error(f'Directive "@{d.name.value}" may not be used on SCHEMA.')
        # Root types named otherwise (`schema { query: RootQuery }`) are read under
        # their conventional names, as the supergraph has them.
        for kind, name in roots.items():
            if name != ROOT_KINDS[kind]:
                self.root_renames[name] = ROOT_KINDS[kind]

    def read_compose_directive(self, name: str) -> None:
        """A @composeDirective name. Federation's own directives are not composed that way:
        those merged anyway only earn Apollo's hint, the others an error."""
        fed = self.auth.spec_of(name) or self.fed_names.get(name)
        if fed is None:
            self.composed.append(name)
        elif fed in (*SPEC_DIRECTIVE_ORDER, "context"):
            self.report.hint(
                "DIRECTIVE_COMPOSITION_INFO",
                f'Directive "@{name}" should not be explicitly manually composed since it is '
                "a federation directive composed by default",
                (self.name,),
                f"@{name}",
            )
        else:
            self.report.error(
                "DIRECTIVE_COMPOSITION_ERROR",
                f'Composing federation directive "@{name}" in subgraph "{self.name}" is not '
                "supported",
                (self.name,),
                f"@{name}",
            )

    def read_directive_definition(self, node: ast.DirectiveDefinitionNode, sg: Subgraph) -> None:
        """A directive the subgraph defines, unless federation, link or GraphQL defines it."""
        name = node.name.value
        if self.is_spec_directive(name):
            return
        sg.directive_defs[name] = SubgraphDirective(
            name=name,
            locations=[loc.value for loc in node.locations],
            repeatable=bool(node.repeatable),
            args={a.name.value: self.input_value(a) for a in node.arguments or ()},
            description=_description(node),
        )

    def is_spec_directive(self, name: str) -> bool:
        """Whether GraphQL, federation, the link spec or the supergraph's join spec defines
        the directive `name` (as the subgraph names it), so it is not the subgraph's own.

        Other names under federation's prefix (`@federation__foo`) are the subgraph's, as
        @apollo/composition keeps them; `join__` is the supergraph's namespace.
        """
        if name in BUILTIN_DIRECTIVES or name in self.fed_names or name.startswith(JOIN + "__"):
            return True
        if self.auth.spec_of(name) is not None:
            return True
        link = self.link_spec
        return link is not None and link.spec_name_of_directive(name) is not None

    def input_value(
        self,
        node: ast.InputValueDefinitionNode,
        coordinate: str = "",
        location: str = "ARGUMENT_DEFINITION",
    ) -> SubgraphInputValue:
        """An argument or input field definition."""
        value = SubgraphInputValue(
            name=node.name.value,
            type=_print_type(node.type, self.root_renames),
            default=print_value(node.default_value) if node.default_value is not None else None,
            description=_description(node),
        )
        self.apply_common(node.directives, value, coordinate, location)
        return value

    def apply_common(
        self, directives, element, coordinate: str, location: str
    ) -> dict[str, list[dict]]:
        """Reads @tag / @inaccessible / authorization / kept directives (noting the order
        they are applied in); returns the other federation ones by name."""
        found: dict[str, list[dict]] = {}
        seen: set[str] = set()
        for d in directives or ():
            local = d.name.value
            fed = self.fed_names.get(local)
            spec = self.auth.spec_of(local)
            if spec is not None:
                self.read_authorization(spec, d, element, (coordinate, location), seen)
            elif fed == "tag":
                element.tags.append(str(_args(d).get("name")))
                self.note_applied(element, TAG)
            elif fed == "inaccessible":
                element.inaccessible = True
                self.note_applied(element, INACCESSIBLE)
            elif fed is not None:
                found.setdefault(fed, []).append(_args(d))
            elif local in BUILTIN_DIRECTIVES or local in self.composed:
                element.directives.append(print_ast(d))
                element.applied.append(local)
            elif local not in self.defined_directives:
                self.unknown_directive(local, coordinate)
        return found

    def unknown_directive(self, local: str, coordinate: str) -> None:
        """Reports a directive nothing defines, saying how to get a federation one."""
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

    def note_applied(self, element, spec: str) -> None:
        """Records that a merged spec directive is applied to `element` (and so in the subgraph)."""
        element.applied.append(spec)
        self.applied_specs.add(spec)

    def read_authorization(
        self, spec: str, node: ast.DirectiveNode, element, where: tuple[str, str], seen: set[str]
    ) -> None:
        """One @authenticated / @requiresScopes / @policy application, checked."""
        coordinate, location = where
        local = node.name.value
        if local in seen or any(a.spec == spec for a in getattr(element, "authorization", ())):
            # (a type's definition and extensions are one location)
            message = f'The directive "@{local}" can only be used once at this location.'
            self.error(message, coordinate)
            return
        seen.add(local)
        application = self.auth.read(spec, node, location, coordinate)
        if not self.auth.sources[spec].composes:
            return
        self.applied_specs.add(spec)
        if application is not None:
            element.authorization.append(application)
            element.applied.append(spec)

    def read_type(self, node: ast.TypeDefinitionNode, sg: Subgraph) -> None:
        """One type definition or extension, merged into the subgraph's type of that name."""
        if self.is_auth_scalar(node) or node.name.value in PLUMBING_TYPES:
            return
        t = self.type_for(node, sg)
        if t is None:
            return
        is_extension = isinstance(node, ast.TypeExtensionNode)
        if is_extension:
            t.has_extension = True
        else:
            t.has_definition = True
            if t.description is None:
                t.description = _description(node)
        fed = self.read_type_directives(node, t, is_extension)
        for interface in getattr(node, "interfaces", None) or ():
            if interface.name.value not in t.interfaces:
                t.interfaces.append(interface.name.value)
        if t.kind in ("OBJECT", "INTERFACE"):
            # A type-level @shareable covers the fields of the same definition or extension.
            block_shareable = "shareable" in fed
            # Federation 2 lets @external on a type mean "on each of its fields" (this
            # definition's); Federation 1 accepted it on types and ignored it.
            all_external = "external" in fed and self.fed2
            for f in node.fields or ():
                self.read_field(f, t, is_extension, all_external)
                if block_shareable and f.name.value in t.fields:
                    t.fields[f.name.value].shareable = True
        else:
            self.read_members(node, t)

    def is_auth_scalar(self, node: ast.TypeDefinitionNode) -> bool:
        """Whether `node` is federation's authorization scalar (`federation__Scope`): the
        spec's, not the subgraph's. Any spec scalar must be a scalar (TYPE_DEFINITION_INVALID)."""
        name = node.name.value
        if name not in self.auth.scalars:
            return False
        kind = _TYPE_KINDS[type(node)]
        if kind == "SCALAR" and self.auth.scalars[name]:
            return False  # a directly linked spec's: read as the subgraph's own
        if kind != "SCALAR":
            spelled = "".join(part.capitalize() for part in kind.split("_")) + "Type"
            self.error(
                f"Invalid definition for type {name}: {name} should be a ScalarType but is "
                f"defined as a {spelled}",
                name,
                "TYPE_DEFINITION_INVALID",
            )
        return True

    def type_for(self, node: ast.TypeDefinitionNode, sg: Subgraph) -> SubgraphType | None:
        """The subgraph's type `node` adds to (created if new); None if kinds disagree."""
        raw_name = node.name.value
        name = self.root_renames.get(raw_name, raw_name)
        kind = _TYPE_KINDS[type(node)]
        t = sg.types.get(name)
        if t is None:
            t = sg.types[name] = SubgraphType(kind=kind, name=name)
        elif t.kind != kind:
            self.error(f'Type "{name}" is defined with different kinds in this subgraph.', name)
            return None
        return t

    def read_type_directives(
        self, node: ast.TypeDefinitionNode, t: SubgraphType, is_extension: bool
    ) -> dict[str, list[dict]]:
        """@key, @shareable, @extends, @interfaceObject (and the common ones) of a type."""
        fed = self.apply_common(node.directives, t, t.name, t.kind)
        for args in fed.get("key", ()):
            fields = args.get("fields")
            if isinstance(fields, list):  # Federation 1 accepted a list of names
                fields = " ".join(str(f) for f in fields)
            resolvable = args.get("resolvable")
            t.keys.append(
                SubgraphKey(
                    str(fields or ""),
                    resolvable if isinstance(resolvable, bool) else None,
                    extension=is_extension,
                )
            )
        if "shareable" in fed:
            t.shareable = True
        if "extends" in fed:
            t.extends = True
        if "interfaceObject" in fed:
            t.interface_object = True
        return fed

    def read_members(self, node: ast.TypeDefinitionNode, t: SubgraphType) -> None:
        """The input fields, union members or enum values of a non-composite type."""
        if t.kind == "INPUT_OBJECT":
            for f in node.fields or ():
                coordinate = f"{t.name}.{f.name.value}"
                t.input_fields[f.name.value] = self.input_value(
                    f, coordinate, "INPUT_FIELD_DEFINITION"
                )
        elif t.kind == "UNION":
            for m in node.types or ():
                member = self.root_renames.get(m.name.value, m.name.value)
                if member not in t.members:
                    t.members.append(member)
        elif t.kind == "ENUM":
            for v in node.values or ():
                value = SubgraphEnumValue(v.name.value, _description(v))
                self.apply_common(v.directives, value, f"{t.name}.{v.name.value}", "ENUM_VALUE")
                t.values[value.name] = value

    def read_field(
        self, node: ast.FieldDefinitionNode, t: SubgraphType, is_extension: bool, all_external: bool
    ) -> None:
        """A field of an object or interface, with its federation directives."""
        name = node.name.value
        if t.name == "Query" and name in PLUMBING_ROOT_FIELDS:
            return
        coordinate = f"{t.name}.{name}"
        f = SubgraphField(
            name=name,
            type=_print_type(node.type, self.root_renames),
            description=_description(node),
        )
        for a in node.arguments or ():
            f.args[a.name.value] = self.input_value(a, f"{coordinate}({a.name.value}:)")
        fed = self.apply_common(node.directives, f, coordinate, "FIELD_DEFINITION")
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
        """Reports references to undefined types, interfaces and union members."""
        known = set(sg.types) | BUILTIN_SCALARS

        def check(ref: str, coordinate: str) -> None:
            """Reports `ref` if its named type is not defined."""
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

