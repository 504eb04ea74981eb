"""Read a supergraph SDL (Apollo composition / rover / Hive format) into a `Supergraph`."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from graphql import (
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
    print_ast,
)

from router.astnodes import directive_arguments
from router.authorization.rules import read_rules
from router.documents import parse_document
from router.federation.fieldset import parse_selection_set
from router.federation.links import Link, Links, read_links
from router.federation.specs import JOIN, JOIN_IDENTITY
from router.supergraph.api_schema import build_api_schema
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


def _directives(node: object, name: str) -> list[dict[str, object]]:
    return [
        directive_arguments(d)
        for d in getattr(node, "directives", None) or ()
        if d.name.value == name
    ]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block. Loading allocates about a million
    objects, all kept: collections meanwhile free nothing, yet took half of a 2,000-type
    supergraph's load."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            # what the block allocated goes straight to the oldest generation (freeze then
            # unfreeze: two list splices) rather than through a young collection that
            # would walk it all once more for nothing (0.3 s); skipped when something is
            # frozen, as unfreezing would hand it back to the full collections
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def load_supergraph(sdl: str) -> Supergraph:
    """The supergraph SDL as the planner's model; raises SupergraphError if it is not one."""
    with _collector_paused():
        return _load(sdl)


def _load(sdl: str) -> Supergraph:
    try:
        document = parse_document(sdl, no_location=True)
    except GraphQLError as error:
        raise SupergraphError(f"supergraph SDL does not parse: {error.message}") from error
    links = read_links(document.definitions)
    join = links.get(JOIN)
    if join is None:
        raise SupergraphError(f"not a supergraph: no @link to {JOIN_IDENTITY} (compose it first)")
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"invalid supergraph SDL: {error}") from error

    graphs = _read_graphs(document, join)
    enum_to_graph = {g.enum_value: g.name for g in graphs.values()}
    types = _read_types(document, links, _Join.of(join, enum_to_graph))

    root_types = _root_types(document, types)
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
        authorization=read_rules(document, links),
    )


def _root_types(document: DocumentNode, types: dict[str, TypeDef]) -> dict[str, str | None]:
    """The schema's root types; without a schema definition, the types named by convention."""
    root_types: dict[str, str | None] = {"query": "Query", "mutation": None, "subscription": None}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for op in definition.operation_types:
                root_types[op.operation.value] = op.type.name.value
    if root_types["mutation"] is None and "Mutation" in types:
        root_types["mutation"] = "Mutation"
    if root_types["subscription"] is None and "Subscription" in types:
        root_types["subscription"] = "Subscription"

    return root_types


def _read_graphs(document: DocumentNode, join: Link) -> dict[str, Graph]:
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


@dataclass(frozen=True)
class _Join:
    """The join spec as this supergraph names it, and its graph enum values."""

    type: str
    field: str
    implements: str
    union_member: str
    enum_value: str
    enum_to_graph: dict[str, str]

    @classmethod
    def of(cls, join: Link, enum_to_graph: dict[str, str]) -> _Join:
        """The names `join` gives its directives, with the supergraph's graph enum values."""
        return cls(
            join.directive("type"),
            join.directive("field"),
            join.directive("implements"),
            join.directive("unionMember"),
            join.directive("enumValue"),
            enum_to_graph,
        )

    def graph_of(self, value: object) -> str | None:
        """The subgraph name a `graph:` argument (a graph enum value) stands for."""
        return self.enum_to_graph.get(str(value)) if value is not None else None


@dataclass
class _TypeJoins:
    """What the `@join__type/implements/unionMember`s of one type's definitions say."""

    graphs: set[str] = field(default_factory=set)
    keys: dict[str, list[KeyDef]] = field(default_factory=lambda: defaultdict(list))
    interface_object_in: set[str] = field(default_factory=set)
    implements: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    has_implements: bool = False
    has_members: bool = False


def _read_types(document: DocumentNode, links: Links, join: _Join) -> dict[str, TypeDef]:
    skip_prefixes = tuple(links.machinery_prefixes())
    nodes_by_name: dict[str, list[Any]] = defaultdict(list)
    for definition in document.definitions:
        if type(definition) in _KINDS:
            name = definition.name.value  # type: ignore[attr-defined]
            if not name.startswith(skip_prefixes):
                nodes_by_name[name].append(definition)
    all_graphs = frozenset(join.enum_to_graph.values())
    return {
        name: _read_type(name, nodes, join, all_graphs) for name, nodes in nodes_by_name.items()
    }


def _read_type(name: str, nodes: list[Any], join: _Join, all_graphs: frozenset[str]) -> TypeDef:
    """One type from its definition and extensions (a type may be split over several)."""
    kind = _KINDS[type(nodes[0])]
    joins = _TypeJoins()
    for node in nodes:
        _read_type_joins(node, join, joins)
    graphs = joins.graphs or set(all_graphs)
    fields: dict[str, FieldDef] = {}
    if kind in (Kind.OBJECT, Kind.INTERFACE):
        fields = _read_fields(name, _children(nodes, "fields"), join, graphs)
        # without @join__implements every subgraph of the type declares its interfaces
        declared = {i.name.value for i in _children(nodes, "interfaces")}
        if declared and not joins.has_implements:
            for graph in graphs:
                joins.implements[graph].update(declared)
    if kind == Kind.UNION and not joins.has_members:
        declared = {t.name.value for t in _children(nodes, "types")}
        for graph in graphs:
            joins.members[graph].update(declared)
    enum_values: dict[str, frozenset[str]] = {}
    if kind == Kind.ENUM:
        enum_values = _enum_values(_children(nodes, "values"), join, graphs)
    return TypeDef(
        name=name,
        kind=kind,
        graphs=frozenset(graphs),
        keys={g: tuple(k) for g, k in joins.keys.items()},
        interface_object_in=frozenset(joins.interface_object_in),
        fields=fields,
        implements={g: frozenset(v) for g, v in joins.implements.items()},
        members={g: frozenset(v) for g, v in joins.members.items()},
        enum_values=enum_values,
    )


def _children(nodes: list[Any], attribute: str) -> list[Any]:
    """The fields/values/interfaces/members of every node, in order."""
    return [child for node in nodes for child in getattr(node, attribute, None) or ()]


def _read_type_joins(node: Any, join: _Join, joins: _TypeJoins) -> None:
    for args in _directives(node, join.type):
        graph = join.graph_of(args.get("graph"))
        if graph is None:
            continue
        joins.graphs.add(graph)
        if args.get("key"):
            text = str(args["key"])
            joins.keys[graph].append(
                KeyDef(text, parse_selection_set(text), bool(args.get("resolvable", True)))
            )
        if args.get("isInterfaceObject"):
            joins.interface_object_in.add(graph)
    for args in _directives(node, join.implements):
        joins.has_implements = True
        graph = join.graph_of(args.get("graph"))
        if graph:
            joins.implements[graph].add(str(args["interface"]))
    for args in _directives(node, join.union_member):
        joins.has_members = True
        graph = join.graph_of(args.get("graph"))
        if graph:
            joins.members[graph].add(str(args["member"]))


def _read_fields(
    parent: str, field_nodes: list[Any], join: _Join, graphs: set[str]
) -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}
    for fnode in field_nodes:
        name = fnode.name.value
        fields[name] = FieldDef(
            name=name,
            parent=parent,
            type_ref=print_ast(fnode.type),
            placements=_placements(fnode, join, graphs),
        )
    return fields


def _placements(fnode: Any, join: _Join, graphs: set[str]) -> dict[str, FieldPlacement]:
    """The field's `@join__field`s; a field without any is in every graph of its type."""
    joins = _directives(fnode, join.field)
    if not joins:
        return {g: FieldPlacement(graph=g) for g in graphs}
    placements: dict[str, FieldPlacement] = {}
    for args in joins:
        graph = join.graph_of(args.get("graph"))
        if graph is not None:
            placements[graph] = _placement(graph, args)
    return placements


def _placement(graph: str, args: dict[str, object]) -> FieldPlacement:
    requires = str(args["requires"]) if args.get("requires") else ""
    provides = str(args["provides"]) if args.get("provides") else ""
    return FieldPlacement(
        graph=graph,
        external=bool(args.get("external")),
        requires=parse_selection_set(requires) if requires else None,
        provides=parse_selection_set(provides) if provides else None,
        type_ref=str(args["type"]) if args.get("type") else None,
        used_overridden=bool(args.get("usedOverridden")),
        override_from=str(args["override"]) if args.get("override") else None,
        override_label=str(args["overrideLabel"]) if args.get("overrideLabel") else None,
    )


def _enum_values(
    value_nodes: list[Any], join: _Join, graphs: set[str]
) -> dict[str, frozenset[str]]:
    """Enum values per graph; a value without `@join__enumValue` is in every graph."""
    per_graph: dict[str, set[str]] = defaultdict(set)
    for vnode in value_nodes:
        vjoins = _directives(vnode, join.enum_value)
        targets = [join.graph_of(a.get("graph")) for a in vjoins] if vjoins else list(graphs)
        for g in targets:
            if g:
                per_graph[g].add(vnode.name.value)
    return {g: frozenset(v) for g, v in per_graph.items()}
