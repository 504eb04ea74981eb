"""The subgraph model: one subgraph's schema with federation directives resolved.

Federation directives are read once, whatever they are called in the subgraph
(`@key`, `@federation__key`, an `import` alias), into plain attributes; every
later stage works on these attributes and never on directive names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.federation.links import Link
from router.federation.typeref import is_non_null


@dataclass(frozen=True)
class SubgraphSource:
    """A subgraph to compose: its name, routing URL and SDL text."""

    name: str
    url: str
    sdl: str


@dataclass(frozen=True, slots=True)
class AuthApplication:
    """One application of @authenticated, @requiresScopes or @policy (however the subgraph
    names it): the spec's directive name and its argument's value as written (literals as
    plain Python: str, int, float, bool, list, dict; None for @authenticated)."""

    spec: str
    value: object = None


@dataclass(frozen=True, slots=True)
class AuthSource:
    """How a subgraph brings an authorization directive in: its local name and the @link
    (federation's, or the authorization spec's own) it comes from."""

    local: str
    identity: str
    url: str
    version: tuple[int, int]
    scalar: str | None  # local name of the spec's scalar (`federation__Scope`), if it has one
    direct: bool = False  # linked as its own spec, not through federation
    # False for a directly linked spec's directive named by the link's `as:` prefix, which
    # Apollo finds no composition rule for (its applications are checked, then dropped).
    composes: bool = True


@dataclass(slots=True)
class SubgraphInputValue:
    """An argument or an input object field."""

    name: str
    type: str
    default: str | None = None  # printed GraphQL literal
    description: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)  # printed, kept in the supergraph
    applied: list[str] = field(default_factory=list)  # merged directives' names, in order

    @property
    def required(self) -> bool:
        """Non-null without a default: every caller must give it."""
        return is_non_null(self.type) and self.default is None


@dataclass(slots=True)
class SubgraphField:
    """An object or interface field, with its federation directives read."""

    name: str
    type: str
    args: dict[str, SubgraphInputValue] = field(default_factory=dict)
    description: str | None = None
    external: bool = False
    shareable: bool = False
    requires: str | None = None
    provides: str | None = None
    override_from: str | None = None
    override_label: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    authorization: list[AuthApplication] = field(default_factory=list)
    # Set by validation: used by a @key, @requires or @provides (or an interface).
    used: bool = False


@dataclass(slots=True)
class SubgraphKey:
    """One `@key` of a type."""

    fields: str
    resolvable: bool | None = None  # None: argument not given (defaults to true)
    extension: bool = False

    @property
    def is_resolvable(self) -> bool:
        """Whether other subgraphs may fetch the entity by this key."""
        return self.resolvable is not False


@dataclass(slots=True)
class SubgraphEnumValue:
    """An enum value of one subgraph."""

    name: str
    description: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SubgraphType:
    """A type of one subgraph, extensions folded in (attributes of its kind filled)."""

    kind: str  # OBJECT, INTERFACE, UNION, ENUM, INPUT_OBJECT, SCALAR
    name: str
    description: str | None = None
    fields: dict[str, SubgraphField] = field(default_factory=dict)
    input_fields: dict[str, SubgraphInputValue] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, SubgraphEnumValue] = field(default_factory=dict)
    keys: list[SubgraphKey] = field(default_factory=list)
    shareable: bool = False
    interface_object: bool = False
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    directives: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    authorization: list[AuthApplication] = field(default_factory=list)
    has_definition: bool = False  # some element comes from a non-extension node
    has_extension: bool = False
    extends: bool = False  # @extends applied

    @property
    def is_entity(self) -> bool:
        """Whether the type has a @key in this subgraph."""
        return bool(self.keys)


@dataclass(slots=True)
class SubgraphDirective:
    """A directive definition of one subgraph."""

    name: str
    locations: list[str]
    repeatable: bool = False
    args: dict[str, SubgraphInputValue] = field(default_factory=dict)
    description: str | None = None


@dataclass(slots=True)
class Subgraph:
    """One subgraph, parsed: its types, roots, directive definitions and links."""

    name: str
    url: str
    fed2: bool
    fed_version: tuple[int, int]
    types: dict[str, SubgraphType] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # "query" -> type name (canonical)
    directive_defs: dict[str, SubgraphDirective] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)  # other specs' (for @composeDirective)
    composed: list[str] = field(default_factory=list)  # @composeDirective names (no @)
    # Authorization directives the subgraph can use, by spec name.
    auth_sources: dict[str, AuthSource] = field(default_factory=dict)
    # Spec names of the merged spec directives (@tag, @inaccessible, authorization) the
    # subgraph applies, in the order Apollo's schema lists their definitions: those the SDL
    # defines first (document order), then the federation spec's order.
    spec_directives: list[str] = field(default_factory=list)

    def field(self, type_name: str, field_name: str) -> SubgraphField | None:
        """The field `type_name.field_name`, if the subgraph has it."""
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t else None

    def implementations(self, interface: str) -> list[str]:
        """Objects and interfaces implementing `interface` here."""
        return [
            t.name
            for t in self.types.values()
            if t.kind in ("OBJECT", "INTERFACE") and interface in t.interfaces
        ]

    def possible_types(self, abstract: str) -> list[str]:
        """The object types a value of type `abstract` can be here."""
        t = self.types.get(abstract)
        if t is None:
            return []
        if t.kind == "UNION":
            return list(t.members)
        if t.kind == "INTERFACE":
            return [n for n in self.implementations(abstract) if self.types[n].kind == "OBJECT"]
        return [abstract]
