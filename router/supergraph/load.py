"""Read a supergraph SDL (Apollo composition / rover / Hive format) into a `Supergraph`."""

from __future__ import annotations

from collections import defaultdict

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from router.supergraph.api_schema import build_api_schema
from router.supergraph.fieldset import parse_field_set
from router.supergraph.links import Links, read_links
from router.supergraph.model import (
    FieldDef,
    FieldPlacement,
    Graph,
    KeyDef,
    Kind,
    Supergraph,
    SupergraphError,
    TypeDef,
)

_KINDS = {
    ObjectTypeDefinitionNode: Kind.OBJECT,
    ObjectTypeExtensionNode: Kind.OBJECT,
    InterfaceTypeDefinitionNode: Kind.INTERFACE,
    InterfaceTypeExtensionNode: Kind.INTERFACE,
    UnionTypeDefinitionNode: Kind.UNION,
    UnionTypeExtensionNode: Kind.UNION,
    EnumTypeDefinitionNode: Kind.ENUM,
    EnumTypeExtensionNode: Kind.ENUM,
    InputObjectTypeDefinitionNode: Kind.INPUT,
    InputObjectTypeExtensionNode: Kind.INPUT,
    ScalarTypeDefinitionNode: Kind.SCALAR,
    ScalarTypeExtensionNode: Kind.SCALAR,
}


def _args(directive: DirectiveNode) -> dict[str, object]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _directives(node: object, name: str) -> list[dict[str, object]]:
    return [_args(d) for d in getattr(node, "directives", None) or () if d.name.value == name]


def load_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl)
    except GraphQLError as error:
        raise SupergraphError(f"supergraph SDL does not parse: {error.message}") from error
    links = read_links(document)
    join = links.get("join")
    if join is None:
        raise SupergraphError(
            "not a supergraph: no @link to https://specs.apollo.dev/join (compose it first)"
        )
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"invalid supergraph SDL: {error}") from error

    graphs = _read_graphs(document, links)
    enum_to_graph = {g.enum_value: g.name for g in graphs.values()}
    types = _read_types(document, links, enum_to_graph)

    root_types = {"query": "Query", "mutation": None, "subscription": None}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for op in definition.operation_types:
                root_types[op.operation.value] = op.type.name.value
    if root_types["mutation"] is None and "Mutation" in types:
        root_types["mutation"] = "Mutation"
    if root_types["subscription"] is None and "Subscription" in types:
        root_types["subscription"] = "Subscription"

    api_schema = build_api_schema(document, links)
    return Supergraph(
        sdl=sdl,
        schema=schema,
        api_schema=api_schema,
        graphs=graphs,
        types=types,
        query_type=root_types["query"] or "Query",
        mutation_type=root_types["mutation"],
        subscription_type=root_types["subscription"],
    )


def _read_graphs(document: DocumentNode, links: Links) -> dict[str, Graph]:
    join = links.features["join"]
    graph_enum = join.type_name("Graph")
    graph_directive = join.directive("graph")
    graphs: dict[str, Graph] = {}
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == graph_enum:
            for value in definition.values or ():
                found = _directives(value, graph_directive)
                if not found:
                    raise SupergraphError(
                        f"{graph_enum}.{value.name.value} has no @{graph_directive}"
                    )
                name = str(found[0]["name"])
                graphs[name] = Graph(
                    name=name, url=str(found[0].get("url") or ""), enum_value=value.name.value
                )
    if not graphs:
        raise SupergraphError(f"supergraph declares no subgraphs (enum {graph_enum} is missing)")
    return graphs


def _read_types(
    document: DocumentNode, links: Links, enum_to_graph: dict[str, str]
) -> dict[str, TypeDef]:
    join = links.features["join"]
    d_type, d_field = join.directive("type"), join.directive("field")
    d_implements, d_member = join.directive("implements"), join.directive("unionMember")
    d_enum_value = join.directive("enumValue")
    skip_prefixes = tuple(links.machinery_prefixes())
    all_graphs = frozenset(enum_to_graph.values())

    def graph_of(value: object) -> str | None:
        return enum_to_graph.get(str(value)) if value is not None else None

    nodes_by_name: dict[str, list[object]] = defaultdict(list)
    for definition in document.definitions:
        if type(definition) in _KINDS:
            name = definition.name.value  # type: ignore[attr-defined]
            if not name.startswith(skip_prefixes):
                nodes_by_name[name].append(definition)

    types: dict[str, TypeDef] = {}
    for name, nodes in nodes_by_name.items():
        kind = _KINDS[type(nodes[0])]
        graphs: set[str] = set()
        keys: dict[str, list[KeyDef]] = defaultdict(list)
        interface_object_in: set[str] = set()
        implements: dict[str, set[str]] = defaultdict(set)
        members: dict[str, set[str]] = defaultdict(set)
        has_implements = has_members = False
        field_nodes: list[object] = []
        value_nodes: list[object] = []
        declared_interfaces: set[str] = set()
        declared_members: set[str] = set()
        for node in nodes:
            for args in _directives(node, d_type):
                graph = graph_of(args.get("graph"))
                if graph is None:
                    continue
                graphs.add(graph)
                if args.get("key"):
                    text = str(args["key"])
                    keys[graph].append(
                        KeyDef(text, parse_field_set(text), bool(args.get("resolvable", True)))
                    )
                if args.get("isInterfaceObject"):
                    interface_object_in.add(graph)
            for args in _directives(node, d_implements):
                has_implements = True
                graph = graph_of(args.get("graph"))
                if graph:
                    implements[graph].add(str(args["interface"]))
            for args in _directives(node, d_member):
                has_members = True
                graph = graph_of(args.get("graph"))
                if graph:
                    members[graph].add(str(args["member"]))
            field_nodes.extend(getattr(node, "fields", None) or ())
            value_nodes.extend(getattr(node, "values", None) or ())
            declared_interfaces.update(
                i.name.value for i in getattr(node, "interfaces", None) or ()
            )
            declared_members.update(t.name.value for t in getattr(node, "types", None) or ())
        if not graphs:
            graphs = set(all_graphs)

        fields: dict[str, FieldDef] = {}
        if kind in (Kind.OBJECT, Kind.INTERFACE):
            for fnode in field_nodes:
                fname = fnode.name.value  # type: ignore[attr-defined]
                placements: dict[str, FieldPlacement] = {}
                joins = _directives(fnode, d_field)
                if not joins:
                    placements = {g: FieldPlacement(graph=g) for g in graphs}
                for args in joins:
                    graph = graph_of(args.get("graph"))
                    if graph is None:
                        continue
                    requires = str(args["requires"]) if args.get("requires") else ""
                    provides = str(args["provides"]) if args.get("provides") else ""
                    placements[graph] = FieldPlacement(
                        graph=graph,
                        external=bool(args.get("external")),
                        requires=parse_field_set(requires) if requires else None,
                        requires_text=requires,
                        provides=parse_field_set(provides) if provides else None,
                        provides_text=provides,
                        type_ref=str(args["type"]) if args.get("type") else None,
                        used_overridden=bool(args.get("usedOverridden")),
                        override_from=str(args["override"]) if args.get("override") else None,
                        override_label=(
                            str(args["overrideLabel"]) if args.get("overrideLabel") else None
                        ),
                    )
                fields[fname] = FieldDef(
                    name=fname,
                    parent=name,
                    type_ref=print_ast(fnode.type),  # type: ignore[attr-defined]
                    placements=placements,
                )
        if kind in (Kind.OBJECT, Kind.INTERFACE) and not has_implements and declared_interfaces:
            for graph in graphs:
                implements[graph].update(declared_interfaces)
        if kind == Kind.UNION and not has_members:
            for graph in graphs:
                members[graph].update(declared_members)

        enum_values: dict[str, frozenset[str]] = {}
        if kind == Kind.ENUM:
            per_graph: dict[str, set[str]] = defaultdict(set)
            for vnode in value_nodes:
                vjoins = _directives(vnode, d_enum_value)
                targets = [graph_of(a.get("graph")) for a in vjoins] if vjoins else list(graphs)
                for g in targets:
                    if g:
                        per_graph[g].add(vnode.name.value)  # type: ignore[attr-defined]
            enum_values = {g: frozenset(v) for g, v in per_graph.items()}

        types[name] = TypeDef(
            name=name,
            kind=kind,
            graphs=frozenset(graphs),
            keys={g: tuple(k) for g, k in keys.items()},
            interface_object_in=frozenset(interface_object_in),
            fields=fields,
            implements={g: frozenset(v) for g, v in implements.items()},
            members={g: frozenset(v) for g, v in members.items()},
            enum_values=enum_values,
        )
    # union members known only by the subgraphs where the member type exists
    return types
