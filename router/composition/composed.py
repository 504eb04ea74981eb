"""The merged supergraph: what the printer writes and satisfiability checks.

Join information is kept per element exactly as it is printed (`@join__type`,
`@join__field`, ...), with graphs named by their `join__Graph` enum value.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class JoinType:
    """One `@join__type`: a subgraph defining the type, with one of its keys."""

    graph: str
    key: str | None = None
    extension: bool = False
    resolvable: bool | None = None
    interface_object: bool = False


@dataclass(slots=True)
class JoinField:
    """One `@join__field`: a subgraph resolving the field, and how."""

    graph: str | None  # None: provided through an @interfaceObject
    requires: str | None = None
    provides: str | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    used_overridden: bool = False
    override_label: str | None = None


@dataclass(slots=True)
class ComposedArgument:
    """A merged argument or input field."""

    name: str
    type: str
    default: str | None = None
    description: str | None = None
    directives: list[str] = field(default_factory=list)
    join_fields: list[JoinField] = field(default_factory=list)
    inaccessible: bool = False


@dataclass(slots=True)
class ComposedField:
    """A merged object or interface field."""

    name: str
    type: str
    args: dict[str, ComposedArgument] = field(default_factory=dict)
    description: str | None = None
    directives: list[str] = field(default_factory=list)  # after the join fields
    join_fields: list[JoinField] = field(default_factory=list)
    inaccessible: bool = False


@dataclass(slots=True)
class ComposedEnumValue:
    """A merged enum value and the graphs defining it."""

    name: str
    description: str | None = None
    graphs: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)
    inaccessible: bool = False


@dataclass(slots=True)
class ComposedType:
    """A merged type of any kind (only the attributes of its kind are filled)."""

    kind: str
    name: str
    description: str | None = None
    join_types: list[JoinType] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    join_implements: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, ComposedField] = field(default_factory=dict)
    input_fields: dict[str, ComposedArgument] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    join_members: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, ComposedEnumValue] = field(default_factory=dict)
    directives: list[str] = field(default_factory=list)
    inaccessible: bool = False


@dataclass(slots=True)
class ComposedDirective:
    """A directive definition printed in the supergraph."""

    name: str
    locations: list[str]
    repeatable: bool = False
    args: dict[str, ComposedArgument] = field(default_factory=dict)
    description: str | None = None


@dataclass(slots=True)
class ComposedGraph:
    """A `join__Graph` value: the subgraph it names and its routing URL."""

    enum_name: str
    name: str
    url: str


@dataclass(slots=True)
class ComposedSupergraph:
    """The merge result: graphs, types, directive definitions and roots."""

    graphs: list[ComposedGraph]
    join_version: str  # "0.3" | "0.4" | "0.5"
    types: dict[str, ComposedType] = field(default_factory=dict)
    directive_defs: dict[str, ComposedDirective] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    feature_links: list[str] = field(default_factory=list)  # printed extra @link(...)
    uses_tag: bool = False
    uses_inaccessible: bool = False
    # The merged spec directives some subgraph applies (tag, inaccessible, authenticated,
    # requiresScopes, policy), in the order Apollo links their specs.
    spec_directives: list[str] = field(default_factory=list)
    auth_names: dict[str, str] = field(default_factory=dict)  # spec -> name in the supergraph

    def graph_name(self, enum_name: str) -> str:
        """The subgraph name of a `join__Graph` value."""
        return next(g.name for g in self.graphs if g.enum_name == enum_name)

    def implementations(self, interface: str) -> list[str]:
        """Types (objects and interfaces) implementing `interface`."""
        return [t.name for t in self.types.values() if interface in t.interfaces]

    def possible_types(self, name: str) -> list[str]:
        """The object types a value of type `name` can be."""
        t = self.types.get(name)
        if t is None:
            return []
        if t.kind == "UNION":
            return list(t.members)
        if t.kind == "INTERFACE":
            return [n for n in self.implementations(name) if self.types[n].kind == "OBJECT"]
        return [name]
