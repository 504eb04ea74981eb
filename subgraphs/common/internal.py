"""Internal operations answer the service role only.

The shop's convention (api-conventions: "Internal operations stay internal")
is that service-to-service root fields are `@inaccessible`, so the router
never exposes them, and need the service role, since a subgraph's port can be
reached without the router. Resolvers check it themselves (`require_service`);
`InternalFieldGuard` enforces it once more for every `@inaccessible` root
field, so an internal mutation added later cannot forget it.

They are not hidden from the subgraph's own introspection: `_service { sdl }`
must print them for composition (which reads it without a token), so hiding
them elsewhere would hide nothing.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.federation.schema_directives import Inaccessible

from .auth import SERVICE, Auth, Viewer
from .errors import Forbidden


def require_service(auth: Auth) -> Viewer:
    """The viewer, if it is a service (subgraph-to-subgraph call); else FORBIDDEN."""
    viewer = auth.require_viewer()
    if viewer.role != SERVICE:
        raise Forbidden("This operation is internal: service role required")
    return viewer


def _is_inaccessible(field: Any) -> bool:
    definition = (field.extensions or {}).get("strawberry-definition")
    return any(isinstance(d, Inaccessible) for d in getattr(definition, "directives", ()) or ())


def internal_root_fields(schema: GraphQLSchema) -> frozenset[tuple[str, str]]:
    """(root type, field) for every `@inaccessible` field of Query, Mutation, Subscription."""
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    return frozenset(
        (root.name, name)
        for root in roots
        if root is not None
        for name, field in root.fields.items()
        if _is_inaccessible(field)
    )


class InternalFieldGuard:
    """graphql-core middleware: an internal root field resolves only for the service role."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.internal = internal_root_fields(schema)

    def resolve(self, next_: Any, root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        """Refuse a non-service caller before the field's resolver (or its arguments) run."""
        if (info.parent_type.name, info.field_name) in self.internal:
            require_service(info.context.auth)
        return next_(root, info, **args)
