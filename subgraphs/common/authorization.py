"""The authorization directives the shop's schemas declare, for the router to enforce.

Federation's `@authenticated` and `@requiresScopes` say in the schema who may
select a field; the router removes what a request may not see before planning
(docs/authorization.md). The scopes are the `scope` claim of the shop's tokens
(`auth.SCOPE_OF_ROLE`). Subgraphs check the token's role again in their
resolvers, since their ports can be reached without the router.
"""

from __future__ import annotations

from strawberry.federation.schema_directives import RequiresScopes

from .auth import ADMIN, SCOPE_OF_ROLE, SERVICE

# The scopes of the directives (each inner list is one way to qualify).
ADMIN_SCOPES = [[SCOPE_OF_ROLE[ADMIN]]]
STAFF_SCOPES = [[SCOPE_OF_ROLE[ADMIN]], [SCOPE_OF_ROLE[SERVICE]]]


def admin_only() -> RequiresScopes:
    """`@requiresScopes(scopes: [["admin"]])`: administrators only."""
    return RequiresScopes(scopes=ADMIN_SCOPES)


def staff_only() -> RequiresScopes:
    """`@requiresScopes(scopes: [["admin"], ["service"]])`: administrators or the shop's
    own services (another subgraph calling with its service token)."""
    return RequiresScopes(scopes=STAFF_SCOPES)
