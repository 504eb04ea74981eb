"""`node(id:)` is shared by two subgraphs that each know only their own `Node` type.

accounts resolves Account ids (a*); chats resolves Chat ids (c*) and also Account ids (as
references: chats knows Account only by key). accounts answers null for Chat ids, so only a
type condition on Chat tells the router which subgraph can answer.
"""

from tests.conformance.kit import Resolvers

ACCOUNTS = {"a1": "mira", "a2": "otto"}
CHATS = {
    "c1": {"text": "standup at 10?", "account": "a1"},
    "c2": {"text": "shipping today", "account": "a2"},
    "c3": {"text": "lunch?", "account": "a1"},
}


def _account(id_: str) -> dict | None:
    return (
        {"__typename": "Account", "id": id_, "handle": ACCOUNTS[id_]} if id_ in ACCOUNTS else None
    )


def _chat(id_: str) -> dict | None:
    row = CHATS.get(id_)
    if row is None:
        return None
    return {"__typename": "Chat", "id": id_, "text": row["text"], "account": {"id": row["account"]}}


def _account_ref(id_: str) -> dict | None:
    return {"__typename": "Account", **_chats_of({"id": id_})} if id_ in ACCOUNTS else None


def _chats_of(rep: dict) -> dict:
    ids = [cid for cid, row in CHATS.items() if row["account"] == rep["id"]]
    return {"id": rep["id"], "chats": [_chat(cid) for cid in ids]}


SUBGRAPHS = {
    "accounts": Resolvers(
        query={"node": lambda info, id: _account(id), "account": lambda info, id: _account(id)},
        entities={"Account": lambda rep: _account(rep["id"])},
    ),
    "chats": Resolvers(
        query={
            "node": lambda info, id: _chat(id) or _account_ref(id),
            "chat": lambda info, id: _chat(id),
        },
        entities={"Chat": lambda rep: _chat(rep["id"]), "Account": _chats_of},
    ),
}
