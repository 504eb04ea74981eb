"""An interface no object type implements, with a field only a non-resolvable
@interfaceObject has.

`Signal` has no implementations in the API schema, so no object can be returned where it
is the type; `strength` lives only in metrics, which cannot be reached by key
(`resolvable: false`). Asked through inbox, `strength` has no plan and needs none: the
operation is still planned, and inbox's answer (null, or its error for an object of no
published type) is the response.
"""

from tests.conformance.kit import Resolvers

SUBGRAPHS = {
    "inbox": Resolvers(
        query={
            "latest": lambda info: None,
            # an object of an unpublished kind: inbox cannot complete it (its error)
            "pinned": lambda info: {"__typename": "Signal", "id": "s1"},
            "unread": lambda info: 3,
        }
    ),
    "metrics": Resolvers(
        query={"strongest": lambda info: {"__typename": "Signal", "id": "s9", "strength": 7}}
    ),
}
