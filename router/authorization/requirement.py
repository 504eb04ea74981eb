"""What one field or type demands of a request: `@authenticated`, `@requiresScopes`, `@policy`.

Scopes and policies are in disjunctive normal form, as the directives write them:
`[["a", "b"], ["c"]]` is (a AND b) OR c. Requirements met together (a field's own and
its type's, an interface field's and each implementation's) combine with AND.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Alternatives, each a set of names that must all be held; None: no demand at all.
Alternatives = frozenset[frozenset[str]]

# Which directive refuses an element, in the order Apollo Router applies them: its
# @authenticated filter runs first, then @requiresScopes, then @policy, and each adds
# its errors after the previous one's (so a response lists them in that order).
BY_AUTHENTICATED = 0
BY_SCOPES = 1
BY_POLICY = 2


def alternatives(value: object) -> Alternatives | None:
    """A `scopes:` / `policies:` argument (a list of lists of strings) as Alternatives;
    None when the value has no such shape."""
    if not isinstance(value, list):
        return None
    out: set[frozenset[str]] = set()
    for inner in value:
        if not isinstance(inner, list) or not all(isinstance(n, str) for n in inner):
            return None
        out.add(frozenset(inner))
    return frozenset(out)


def _and(a: Alternatives | None, b: Alternatives | None) -> Alternatives | None:
    """Both demands: every pair of alternatives joined (a missing demand is no demand)."""
    if a is None:
        return b
    if b is None:
        return a
    joined = {x | y for x in a for y in b}
    # an alternative that holds another is never needed: (a) OR (a AND b) is (a)
    return frozenset(x for x in joined if not any(y < x for y in joined))


def _met(demand: Alternatives | None, held: frozenset[str]) -> bool:
    return demand is None or any(alternative <= held for alternative in demand)


@dataclass(frozen=True)
class Requirement:
    """What a request needs to see one element; hashable, so it keys plan variants."""

    authenticated: bool = False
    scopes: Alternatives | None = None
    policies: Alternatives | None = None

    def __and__(self, other: Requirement) -> Requirement:
        """Both requirements at once."""
        if not other:
            return self
        if not self:
            return other
        return Requirement(
            self.authenticated or other.authenticated,
            _and(self.scopes, other.scopes),
            _and(self.policies, other.policies),
        )

    def __bool__(self) -> bool:
        """Whether it demands anything."""
        return self.authenticated or self.scopes is not None or self.policies is not None

    @property
    def policy_names(self) -> frozenset[str]:
        """Every policy the requirement mentions (what a policy hook is asked about)."""
        return frozenset().union(*self.policies) if self.policies else frozenset()

    def met_by(self, authenticated: bool, scopes: frozenset[str], policies: frozenset[str]) -> bool:
        """Whether a request with these credentials meets it."""
        return self.refused_by(authenticated, scopes, policies) is None

    def refused_by(
        self, authenticated: bool, scopes: frozenset[str], policies: frozenset[str]
    ) -> int | None:
        """The first directive (BY_AUTHENTICATED, BY_SCOPES, BY_POLICY) whose demand a
        request with these credentials fails; None when it meets them all."""
        if self.authenticated and not authenticated:
            return BY_AUTHENTICATED
        if not _met(self.scopes, scopes):
            return BY_SCOPES
        if not _met(self.policies, policies):
            return BY_POLICY
        return None


NONE = Requirement()


def all_of(requirements: Iterable[Requirement]) -> Requirement:
    """Every requirement at once (NONE for none)."""
    combined = NONE
    for requirement in requirements:
        combined = combined & requirement
    return combined
