"""Who is asking: whether a verified token came with the request, its scopes and the
policies granted to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.authorization.requirement import Requirement


def scopes_of(claims: Mapping[str, Any] | None) -> frozenset[str]:
    """The `scope` claim: a string of scopes separated by spaces (U+0020 only, as RFC 6749
    section 3.3 says, so "a\u00a0admin" is one odd scope, not "admin") or a list of strings;
    anything else holds no scope."""
    if not claims:
        return frozenset()
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(s for s in scope.split(" ") if s)
    if isinstance(scope, list):
        return frozenset(s for s in scope if isinstance(s, str) and s)
    return frozenset()


@dataclass(frozen=True)
class Access:
    """One request's credentials, as authorization directives see them."""

    authenticated: bool = False
    scopes: frozenset[str] = frozenset()
    policies: frozenset[str] = frozenset()  # the policies granted (by the policy hook)

    @classmethod
    def of(
        cls, claims: Mapping[str, Any] | None, policies: frozenset[str] = frozenset()
    ) -> Access:
        """The access of a request whose verified JWT claims are `claims` (None: none)."""
        return cls(claims is not None, scopes_of(claims), policies)

    def allows(self, requirement: Requirement) -> bool:
        """Whether this request may see what `requirement` protects."""
        return requirement.met_by(self.authenticated, self.scopes, self.policies)

    def refused_by(self, requirement: Requirement) -> int | None:
        """Which directive refuses this request what `requirement` protects (see
        `Requirement.refused_by`); None when it may see it."""
        return requirement.refused_by(self.authenticated, self.scopes, self.policies)


ANONYMOUS = Access()
