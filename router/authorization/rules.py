"""The authorization directives of a supergraph: which types and fields demand what.

The directives are those of the `authenticated/v0.1`, `requiresScopes/v0.1` and
`policy/v0.1` specs as `@apollo/composition` links them (`for: SECURITY`), under the
names the `@link`s give them (`as:`, imports). They may sit on object, interface,
scalar and enum types and on fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
)

from router.astnodes import directive_arguments
from router.authorization.requirement import NONE, Requirement, alternatives
from router.federation.links import Links
from router.federation.specs import (
    AUTHENTICATED,
    AUTHORIZATION_IDENTITIES,
    POLICY,
    REQUIRES_SCOPES,
)

_TYPES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
)


@dataclass(frozen=True)
class AuthorizationRules:
    """Per type and per field (`(type, field)`), the requirement the supergraph declares
    there; what is not listed demands nothing."""

    types: Mapping[str, Requirement] = field(default_factory=dict)
    fields: Mapping[tuple[str, str], Requirement] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Whether the supergraph protects anything at all."""
        return bool(self.types or self.fields)

    def of_type(self, name: str) -> Requirement:
        """What the type `name` itself demands."""
        return self.types.get(name, NONE)

    def of_field(self, parent: str, name: str) -> Requirement:
        """What the field `parent.name` itself demands (its type's demand apart)."""
        return self.fields.get((parent, name), NONE)


@dataclass(frozen=True)
class _Names:
    """The local names of the three directives in one supergraph (None: not linked)."""

    authenticated: str | None
    scopes: str | None
    policy: str | None

    @classmethod
    def of(cls, links: Links) -> _Names:
        """The names `links` give the directives."""
        spec_of = {identity: spec for spec, identity in AUTHORIZATION_IDENTITIES.items()}
        found: dict[str, str] = {}  # spec name -> the directive's local name
        for link in links.links:
            spec = spec_of.get(link.identity)
            if spec is not None:
                found[spec] = link.directive(link.name)
        return cls(found.get(AUTHENTICATED), found.get(REQUIRES_SCOPES), found.get(POLICY))

    def requirement(self, directives: Iterable[DirectiveNode]) -> Requirement:
        """What these directive applications demand, together."""
        combined = NONE
        for directive in directives:
            name = directive.name.value
            if name == self.authenticated:
                combined = combined & Requirement(authenticated=True)
            elif name in (self.scopes, self.policy):
                argument = "scopes" if name == self.scopes else "policies"
                value = directive_arguments(directive).get(argument)
                demand = alternatives(value)
                if demand is None:
                    continue  # not of the spec's shape: composition would have refused it
                if name == self.scopes:
                    combined = combined & Requirement(scopes=demand)
                else:
                    combined = combined & Requirement(policies=demand)
        return combined


def read_rules(document: DocumentNode, links: Links) -> AuthorizationRules:
    """The requirements a supergraph document declares on its types and fields."""
    names = _Names.of(links)
    if names.authenticated is None and names.scopes is None and names.policy is None:
        return AuthorizationRules()
    types: dict[str, Requirement] = {}
    fields: dict[tuple[str, str], Requirement] = {}
    for definition in document.definitions:
        if not isinstance(definition, _TYPES):
            continue
        type_name = definition.name.value
        own = names.requirement(definition.directives or ())
        if own:
            types[type_name] = types.get(type_name, NONE) & own
        for field_node in getattr(definition, "fields", None) or ():
            demand = names.requirement(field_node.directives or ())
            if demand:
                key = (type_name, field_node.name.value)
                fields[key] = fields.get(key, NONE) & demand
    return AuthorizationRules(types, fields)
