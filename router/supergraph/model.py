"""The supergraph as plain data: which subgraph can resolve what.

Built once per supergraph by `load.load_supergraph`; the planner only reads it.
Subgraphs are named by their `@join__graph(name:)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from graphql import GraphQLSchema, SelectionSetNode

from router.authorization.rules import AuthorizationRules


class SupergraphError(ValueError):
    """The supergraph SDL is not a usable Federation v2 supergraph."""


class Kind(StrEnum):
    """The GraphQL kind of a supergraph type."""

    OBJECT = "object"
    INTERFACE = "interface"
    UNION = "union"
    ENUM = "enum"
    INPUT = "input"
    SCALAR = "scalar"


@dataclass(frozen=True)
class Graph:
    """One subgraph: its name, URL and value in the `join__Graph` enum."""

    name: str
    url: str
    enum_value: str


@dataclass(frozen=True)
class KeyDef:
    """One `@key` of an entity in one subgraph, as text and as a parsed selection set."""

    text: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass(frozen=True)
class FieldPlacement:
    """How one subgraph sees a field (its `@join__field`)."""

    graph: str
    external: bool = False
    requires: SelectionSetNode | None = None
    provides: SelectionSetNode | None = None
    type_ref: str | None = None
    used_overridden: bool = False
    override_from: str | None = None
    override_label: str | None = None

    def serves(self, labels: frozenset[str]) -> bool:
        """Whether this subgraph resolves the field when `labels` are enabled."""
        if self.external or self.used_overridden:
            return False
        if self.override_label is None:
            return True
        enabled = self.override_label in labels
        return enabled if self.override_from else not enabled


@dataclass(frozen=True)
class FieldDef:
    """A field of an object or interface, and the subgraphs that declare it."""

    name: str
    parent: str
    type_ref: str  # the supergraph type, e.g. "[Product!]!"
    placements: Mapping[str, FieldPlacement]

    def resolvable_with(self, labels: frozenset[str]) -> frozenset[str]:
        """Subgraphs that resolve the field when `labels` are the enabled override labels.

        A progressive `@override(from:, label:)` keeps both placements: the overriding
        one serves while the label is enabled, the overridden one while it is not.
        """
        return frozenset(g for g, p in self.placements.items() if p.serves(labels))


@dataclass(frozen=True)
class TypeDef:
    """A supergraph type and what each subgraph knows of it."""

    name: str
    kind: Kind
    graphs: frozenset[str]
    keys: Mapping[str, tuple[KeyDef, ...]] = field(default_factory=dict)
    interface_object_in: frozenset[str] = frozenset()
    fields: Mapping[str, FieldDef] = field(default_factory=dict)
    # interfaces this type implements, per subgraph
    implements: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # union members per subgraph
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    enum_values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_abstract(self) -> bool:
        """Whether the type is an interface or a union."""
        return self.kind in (Kind.INTERFACE, Kind.UNION)

    def resolvable_keys(self, graph: str) -> tuple[KeyDef, ...]:
        """The keys through which `graph` can fetch the entity (`resolvable: true`)."""
        return tuple(k for k in self.keys.get(graph, ()) if k.resolvable)

    @cached_property
    def is_entity(self) -> bool:
        """Whether some subgraph declares a key for the type."""
        return any(self.keys.values())


@dataclass
class Supergraph:
    """Everything the planner needs to know, derived once from the supergraph SDL."""

    sdl: str
    schema: GraphQLSchema  # the full supergraph schema (join machinery included)
    api_schema: GraphQLSchema  # what clients see
    graphs: dict[str, Graph]
    types: dict[str, TypeDef]
    query_type: str = "Query"
    mutation_type: str | None = None
    subscription_type: str | None = None
    # @authenticated / @requiresScopes / @policy on its types and fields
    authorization: AuthorizationRules = field(default_factory=AuthorizationRules)
    _possible: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)

    @cached_property
    def override_labels(self) -> frozenset[str]:
        """Every progressive-override label the supergraph uses."""
        return frozenset(
            p.override_label
            for t in self.types.values()
            for f in t.fields.values()
            for p in f.placements.values()
            if p.override_label
        )

    # -- types ----------------------------------------------------------------------------

    def type(self, name: str) -> TypeDef:
        """The type named `name` (KeyError if there is none)."""
        return self.types[name]

    def field(self, type_name: str, field_name: str) -> FieldDef | None:
        """The field `type_name.field_name`, if both exist."""
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t else None

    def is_interface_object(self, type_name: str, graph: str) -> bool:
        """Whether `graph` declares the interface `type_name` as an `@interfaceObject`."""
        t = self.types.get(type_name)
        return t is not None and graph in t.interface_object_in

    def possible_types_in(self, type_name: str, graph: str) -> frozenset[str]:
        """Object types a subgraph may return where it declares `type_name`."""
        key = (graph, type_name)
        cached = self._possible.get(key)
        if cached is not None:
            return cached
        t = self.types[type_name]
        if t.kind == Kind.OBJECT:
            result = frozenset({type_name}) if graph in t.graphs else frozenset()
        elif t.kind == Kind.UNION:
            result = t.members.get(graph, frozenset())
        elif t.kind == Kind.INTERFACE:
            if graph in t.interface_object_in:
                result = frozenset()
            else:
                result = frozenset(
                    other.name
                    for other in self.types.values()
                    if other.kind == Kind.OBJECT and type_name in other.implements.get(graph, ())
                )
        else:
            result = frozenset()
        self._possible[key] = result
        return result

    # -- fields ---------------------------------------------------------------------------

    def placement(self, type_name: str, field_name: str, graph: str) -> FieldPlacement | None:
        """How `graph` declares the field `type_name.field_name`, if it does."""
        fdef = self.field(type_name, field_name)
        return fdef.placements.get(graph) if fdef else None
