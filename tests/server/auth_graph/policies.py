"""Policy hooks for the tests (`authorization.policy_hook: tests.server.auth_graph.policies:…`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

calls: list[tuple[frozenset[str], Mapping[str, Any] | None]] = []


def from_claims(policies: frozenset[str], claims: Mapping[str, Any] | None) -> list[str]:
    """Grants the policies the token lists in its `policies` claim (and one never asked)."""
    calls.append((policies, claims))
    return [*(claims or {}).get("policies", []), "never-asked"]


async def from_claims_async(
    policies: frozenset[str], claims: Mapping[str, Any] | None
) -> list[str]:
    """`from_claims`, awaited."""
    return from_claims(policies, claims)


def broken(policies: frozenset[str], claims: Mapping[str, Any] | None) -> list[str]:
    """A hook with a bug."""
    raise RuntimeError("policy store unreachable")


NOT_CALLABLE = 3
