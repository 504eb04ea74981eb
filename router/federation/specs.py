"""The specs themselves: identities, versions, directive names and which features are machinery."""

from __future__ import annotations

import re

# Spec names (the last path segment before the version in a spec URL).
LINK = "link"
CORE = "core"  # the predecessor of `link` (`@core(feature:)`), still read in supergraphs
JOIN = "join"
INACCESSIBLE = "inaccessible"
TAG = "tag"
AUTHENTICATED = "authenticated"
REQUIRES_SCOPES = "requiresScopes"
POLICY = "policy"

# Spec identities: a spec URL without its version.
LINK_IDENTITY = "https://specs.apollo.dev/link"
FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
JOIN_IDENTITY = "https://specs.apollo.dev/join"
INACCESSIBLE_IDENTITY = "https://specs.apollo.dev/inaccessible"
TAG_IDENTITY = "https://specs.apollo.dev/tag"
AUTHENTICATED_IDENTITY = "https://specs.apollo.dev/authenticated"
REQUIRES_SCOPES_IDENTITY = "https://specs.apollo.dev/requiresScopes"
POLICY_IDENTITY = "https://specs.apollo.dev/policy"

# The authorization specs (each one directive named like the spec, `for: SECURITY`): the
# version a supergraph links and a subgraph may link directly, the directive's argument
# and the custom scalar its items have (None for @authenticated, which takes none).
AUTHORIZATION_SPEC_VERSION = "v0.1"
AUTHORIZATION_IDENTITIES = {
    AUTHENTICATED: AUTHENTICATED_IDENTITY,
    REQUIRES_SCOPES: REQUIRES_SCOPES_IDENTITY,
    POLICY: POLICY_IDENTITY,
}
AUTHORIZATION_ARGUMENTS: dict[str, tuple[str, str] | None] = {
    AUTHENTICATED: None,
    REQUIRES_SCOPES: ("scopes", "Scope"),
    POLICY: ("policies", "Policy"),
}
AUTHORIZATION_LOCATIONS = ("FIELD_DEFINITION", "OBJECT", "INTERFACE", "SCALAR", "ENUM")

# The `@link` a document is assumed to have when it declares none.
DEFAULT_LINK_VERSION = "v1.0"

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


def parse_version(tag: str) -> tuple[int, int] | None:
    """`"v2.3"` -> `(2, 3)`; None when the tag is not a spec version."""
    match = _VERSION.match(tag)
    return (int(match[1]), int(match[2])) if match else None


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
# What a Federation 1 subgraph (no federation `@link`) may use, unprefixed.
FEDERATION1_DIRECTIVES = ("key", "requires", "provides", "external", "extends", "tag")
KNOWN_FEDERATION_VERSIONS = frozenset((2, minor) for minor in range(0, 12))

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

# Features of a supergraph the router understands or must hide from clients: every
# element that belongs to one of them is removed from the API schema.
MACHINERY_FEATURES = frozenset(
    {
        LINK,
        CORE,
        JOIN,
        INACCESSIBLE,
        TAG,
        "authenticated",
        "requiresScopes",
        "policy",
        "cost",
        "listSize",
        "context",
        "connect",
    }
)


def join_version(federation: tuple[int, int]) -> str:
    """The join spec version a supergraph needs for subgraphs up to this federation version."""
    if federation >= (2, 8):
        return "0.5"  # @join__directive
    if federation >= (2, 7):
        return "0.4"  # @join__field(overrideLabel:)
    return "0.3"
