"""@authenticated, @requiresScopes and @policy in one subgraph, read as Apollo reads them.

A subgraph gets them from its federation `@link` (v2.5 for the first two, v2.6 for
@policy; imported, renamed or as `@federation__requiresScopes`) or by linking the
authorization spec itself (`@link(url: "https://specs.apollo.dev/authenticated/v0.1")`).
Their definitions, when the SDL spells them out, must match the spec's (a subset of its
locations is fine); each application must sit where the directive may be used, once, with
a valid argument: `[[Scope!]!]!` where `Scope` is a custom scalar, so any non-null literal is
a scope and a lone item stands for a one-item list (GraphQL input coercion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from graphql.language import ast
from graphql.pyutils import suggestion_list

from router.federation.links import Link
from router.federation.specs import (
    AUTHENTICATED,
    AUTHORIZATION_ARGUMENTS,
    AUTHORIZATION_LOCATIONS,
    AUTHORIZATION_SPEC_VERSION,
    FEDERATION_DIRECTIVES,
    INACCESSIBLE,
    POLICY,
    REQUIRES_SCOPES,
    TAG,
    parse_version,
)
from router.federation.typeref import BUILTIN_SCALARS

from .model import AuthApplication, AuthSource

# The order in which the federation spec defines the directives composition merges by
# their spec: a subgraph's schema lists them so unless its SDL defines them itself.
SPEC_DIRECTIVE_ORDER = (TAG, INACCESSIBLE, AUTHENTICATED, REQUIRES_SCOPES, POLICY)
# Apollo's minimum federation version for a subgraph linking the spec itself.
_IMPLIED_FEDERATION = {AUTHENTICATED: (2, 5)}

# err(code, message, coordinate): reports an error of the subgraph being read.
Err = Callable[[str, str, str | None], None]


def authorization_sources(
    federation: Link | None, fed_version: tuple[int, int], links: Iterable[Link]
) -> dict[str, AuthSource]:
    """Each authorization directive the subgraph can use: from its federation link (if
    that version has it), or from a link to the directive's own spec (which wins)."""
    sources: dict[str, AuthSource] = {}
    for spec, argument in AUTHORIZATION_ARGUMENTS.items():
        if federation is not None and FEDERATION_DIRECTIVES[spec] <= fed_version:
            scalar = federation.type_name(argument[1]) if argument else None
            sources[spec] = AuthSource(
                federation.directive(spec),
                federation.identity,
                federation.url,
                fed_version,
                scalar,
            )
    for link in links:
        argument = AUTHORIZATION_ARGUMENTS.get(link.name)
        if link.name not in AUTHORIZATION_ARGUMENTS or link.version != AUTHORIZATION_SPEC_VERSION:
            continue
        version = parse_version(link.version) or (0, 0)
        scalar = link.type_name(argument[1]) if argument else None
        local = link.directive(link.name)
        composes = not (local == link.prefix != link.name)
        sources[link.name] = AuthSource(
            local, link.identity, link.url, version, scalar, direct=True, composes=composes
        )
    return sources


def implied_federation_version(links: Iterable[Link]) -> tuple[int, int] | None:
    """The federation version a directly linked authorization spec implies (Apollo
    upgrades an older subgraph to it, with a hint)."""
    implied = [
        _IMPLIED_FEDERATION[link.name]
        for link in links
        if link.name in _IMPLIED_FEDERATION and link.version == AUTHORIZATION_SPEC_VERSION
    ]
    return max(implied) if implied else None


def expected_type(source: AuthSource) -> str:
    """The argument's type as the subgraph names it: `[[federation__Scope!]!]!`."""
    return f"[[{source.scalar}!]!]!"


class AuthDirectives:
    """The authorization directives of one subgraph: names, definitions and applications."""

    def __init__(self, sources: dict[str, AuthSource], err: Err) -> None:
        self.sources = sources
        self.err = err
        self.by_local = {source.local: spec for spec, source in sources.items()}
        # Spec scalars: federation's are the spec's own; a directly linked spec's scalar is,
        # as Apollo has it, also one of the subgraph's types (so it reaches the supergraph).
        self.scalars = {s.scalar: s.direct for s in sources.values() if s.scalar is not None}
        self.locations: dict[str, list[str]] = {}  # spec -> locations the SDL defines

    def spec_of(self, local: str) -> str | None:
        """The spec name of the local directive name, if it is an authorization directive."""
        return self.by_local.get(local)

    def check_definition(
        self, spec: str, node: ast.DirectiveDefinitionNode, custom_scalars: set[str]
    ) -> None:
        """The SDL's definition must be the spec's: same argument, not repeatable, and a
        subset of the spec's locations (Apollo's DIRECTIVE_DEFINITION_INVALID)."""
        source = self.sources[spec]
        what = f'directive "@{source.local}"'
        locations = [loc.value for loc in node.locations]
        # Usable where both the SDL and the spec allow it (the rest is reported below).
        self.locations[spec] = [loc for loc in locations if loc in AUTHORIZATION_LOCATIONS]
        problems = _argument_problems(spec, source, node, custom_scalars)
        if node.repeatable:
            problems.append(f'"@{source.local}" should not be repeatable')
        if not set(locations) <= set(AUTHORIZATION_LOCATIONS):
            problems.append(
                f'"@{source.local}" should have locations {", ".join(AUTHORIZATION_LOCATIONS)}'
                f", but found (non-subset) {', '.join(locations)}"
            )
        for problem in problems:
            self.err(
                "DIRECTIVE_DEFINITION_INVALID",
                f"Invalid definition for {what}: {problem}",
                f"@{source.local}",
            )

    def read(
        self, spec: str, node: ast.DirectiveNode, location: str, coordinate: str
    ) -> AuthApplication | None:
        """One application, checked; None (with the error reported) when it is invalid."""
        local = node.name.value
        if location not in self.locations.get(spec, AUTHORIZATION_LOCATIONS):
            message = f'Directive "@{local}" may not be used on {location}.'
            self.err("INVALID_GRAPHQL", message, coordinate)
            return None
        argument = AUTHORIZATION_ARGUMENTS[spec]
        expected = [argument[0]] if argument else []
        given = {arg.name.value: arg.value for arg in node.arguments or ()}
        valid = True
        for name in given:
            if name not in expected:
                valid = False
                self.err(
                    "INVALID_GRAPHQL",
                    f'Unknown argument "{name}" on directive "@{local}".'
                    + did_you_mean(suggestion_list(name, expected)),
                    coordinate,
                )
        if not argument:
            return AuthApplication(spec) if valid else None
        application = self._read_argument(spec, local, given, coordinate)
        return application if valid else None

    def _read_argument(
        self, spec: str, local: str, given: dict[str, ast.ValueNode], coordinate: str
    ) -> AuthApplication | None:
        name = AUTHORIZATION_ARGUMENTS[spec][0]  # type: ignore[index]
        type_text = expected_type(self.sources[spec])
        if name not in given:
            self.err(
                "INVALID_GRAPHQL",
                f'Directive "@{local}" argument "{name}" of type "{type_text}" is required, '
                "but it was not provided.",
                coordinate,
            )
            return None
        value = literal(given[name])
        if not _coerces(value, 0):
            self.err(
                "INVALID_GRAPHQL",
                f'Invalid value for "@{local}({name}:)" of type "{type_text}" in application '
                f'of "@{local}" to "{coordinate}".',
                coordinate,
            )
            return None
        return AuthApplication(spec, value)


def _argument_problems(
    spec: str, source: AuthSource, node: ast.DirectiveDefinitionNode, custom_scalars: set[str]
) -> list[str]:
    """What is wrong with the arguments of a definition (Apollo's ensureSameArguments)."""
    argument = AUTHORIZATION_ARGUMENTS[spec]
    defined = {arg.name.value: arg for arg in node.arguments or ()}
    problems = []
    if argument is not None:
        name = argument[0]
        arg = defined.get(name)
        if arg is None:
            problems.append(f'missing required argument "{name}"')
        elif not _is_list_of_lists(arg.type, source.scalar or "", custom_scalars):
            problems.append(
                f'argument "{name}" should have type "{expected_type(source)}" but found type '
                f'"{_type_text(arg.type)}"'
            )
    expected = {argument[0]} if argument else set()
    problems += [f'unknown/unsupported argument "{n}"' for n in defined if n not in expected]
    return problems


def _is_list_of_lists(node: ast.TypeNode, scalar: str, custom_scalars: set[str]) -> bool:
    """`[[X!]!]!` where X is the spec's scalar, or any type but another custom scalar (Apollo
    accepts `[[String!]!]!` as a redefinition)."""
    for wrapper in (ast.NonNullTypeNode, ast.ListTypeNode) * 2 + (ast.NonNullTypeNode,):
        if not isinstance(node, wrapper):
            return False
        node = node.type
    name = node.name.value  # type: ignore[attr-defined]
    return name == scalar or name in BUILTIN_SCALARS or name not in custom_scalars


def _type_text(node: ast.TypeNode) -> str:
    if isinstance(node, ast.NonNullTypeNode):
        return _type_text(node.type) + "!"
    if isinstance(node, ast.ListTypeNode):
        return f"[{_type_text(node.type)}]"
    return node.name.value  # type: ignore[attr-defined]


def _coerces(value: object, depth: int) -> bool:
    """Whether `value` is valid for `[[Scope!]!]!` (depth 0), `[Scope!]!` (1), `Scope!` (2)."""
    if value is None:
        return False
    if depth == 2:
        return True  # a custom scalar takes any literal
    if isinstance(value, list):
        return all(_coerces(item, depth + 1) for item in value)
    return _coerces(value, depth + 1)  # a lone item is a one-item list


def literal(node: ast.ValueNode) -> object:
    """A literal as the JavaScript value Apollo reads (enum values become strings)."""
    if isinstance(node, ast.StringValueNode | ast.EnumValueNode):
        return node.value
    if isinstance(node, ast.BooleanValueNode):
        return node.value
    if isinstance(node, ast.IntValueNode):
        return int(node.value)
    if isinstance(node, ast.FloatValueNode):
        return float(node.value)
    if isinstance(node, ast.ListValueNode):
        return [literal(v) for v in node.values]
    if isinstance(node, ast.ObjectValueNode):
        return {f.name.value: literal(f.value) for f in node.fields}
    return None


def did_you_mean(suggestions: list[str]) -> str:
    """graphql-js's ` Did you mean "a", "b", or "c"?` (at most five), or ""."""
    quoted = [f'"{s}"' for s in suggestions[:5]]
    if not quoted:
        return ""
    if len(quoted) <= 2:
        return f" Did you mean {' or '.join(quoted)}?"
    return f" Did you mean {', '.join(quoted[:-1])}, or {quoted[-1]}?"
