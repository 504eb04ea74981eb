"""Notices whose internal kind is @inaccessible: the notices subgraph returns it anyway.

`Maintenance` implements `Notice` and belongs to the `Post` union in notices, but it is
`@inaccessible`, so it is not a possible type of either in the API schema. When notices
answers with one, the router must complete that object as invalid (null, a non-null
position propagating it), whatever fields the client selected on the interface.
"""

from tests.conformance.kit import Resolvers

NOTICES = {
    "n1": {"__typename": "Alert", "id": "n1", "text": "Password expires soon", "level": 2},
    "n2": {"__typename": "Maintenance", "id": "n2", "text": "Database upgrade", "window": "02:00"},
    "n3": {"__typename": "Alert", "id": "n3", "text": "New login from Lisbon", "level": 3},
}
LIKES = {"n1": 4, "n3": 0}

SUBGRAPHS = {
    "notices": Resolvers(
        query={
            "inbox": lambda info: [NOTICES[i] for i in ("n1", "n2", "n3")],
            "pinned": lambda info: NOTICES["n2"],
            "board": lambda info: [NOTICES["n2"], NOTICES["n3"]],
        },
        entities={"Alert": lambda rep: NOTICES.get(rep["id"])},
    ),
    "reactions": Resolvers(
        entities={
            "Alert": lambda rep: (
                {"id": rep["id"], "likes": LIKES[rep["id"]]} if rep["id"] in LIKES else None
            )
        }
    ),
}
