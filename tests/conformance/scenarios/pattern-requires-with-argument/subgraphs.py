"""A forum: requirements on fields with arguments, nested through lists of entities.

threads owns `replies(limit:)` and `board { activity(days:) }`; search knows where each
reply was cross-posted; moderation's fields require argument-bearing fields, one of them
through the cross-posted threads. The derived resolvers print what they received, so a
wrong argument (e.g. the client's `limit` instead of the required one) shows.
"""

from tests.conformance.kit import Resolvers

THREADS = {
    "t1": {
        "title": "Sourdough starter help",
        "board": "baking",
        "replies": ["p1", "p2", "p3", "p4"],
    },
    "t2": {"title": "Best flour?", "board": "baking", "replies": ["p5"]},
    "t3": {"title": "Bike tyre pressure", "board": "cycling", "replies": ["p6", "p7"]},
}
REPLIES = {
    "p1": "Feed it twice a day",
    "p2": "Try rye",
    "p3": "BUY CHEAP FLOUR at example.com",
    "p4": "Warm spot helps",
    "p5": "BUY CHEAP FLOUR at example.com",
    "p6": "60 psi",
    "p7": "BUY CHEAP FLOUR at example.com",
}
ACTIVITY_PER_DAY = {"baking": 5, "cycling": 1}


def _thread(id_: str) -> dict | None:
    row = THREADS.get(id_)
    if row is None:
        return None
    return {"id": id_, "title": row["title"], "board": {"name": row["board"]}}


def _replies(obj: dict, info: object, limit: int) -> list[dict]:
    return [{"id": r, "body": REPLIES[r]} for r in THREADS[obj["id"]]["replies"][:limit]]


def _activity(obj: dict, info: object, days: int) -> int:
    return ACTIVITY_PER_DAY[obj["name"]] * days


def _cross_posted(rep: dict) -> dict | None:
    if rep["id"] not in REPLIES:
        return None
    body = REPLIES[rep["id"]]
    threads = [t for t, row in THREADS.items() if any(REPLIES[r] == body for r in row["replies"])]
    return {"id": rep["id"], "crossPosted": [{"id": t} for t in threads]}


def _moderation_thread(rep: dict) -> dict:
    return {"id": rep["id"], "_rep": rep}


def _busy(obj: dict, info: object) -> bool:
    replies = obj["_rep"]["replies"]
    if len(replies) > 2:
        raise ValueError(f"busy expected at most 2 replies, got {len(replies)}")
    return len(replies) == 2


def _hot_board(obj: dict, info: object) -> bool:
    # 7 days of baking = 35, of cycling = 7
    return obj["_rep"]["board"]["activity"] >= 30


def _spam_score(obj: dict, info: object) -> int:
    threads = obj["_rep"]["crossPosted"]
    if any(len(t["replies"]) > 3 for t in threads):
        raise ValueError("spamScore expected at most 3 replies per thread")
    # cross-posted to many threads, counting the replies seen in each
    return len(threads) * 10 + sum(len(t["replies"]) for t in threads)


SUBGRAPHS = {
    "threads": Resolvers(
        query={"threads": lambda info: [_thread(t) for t in THREADS]},
        entities={
            "Thread": lambda rep: _thread(rep["id"]),
            "Reply": lambda rep: (
                {"id": rep["id"], "body": REPLIES[rep["id"]]} if rep["id"] in REPLIES else None
            ),
        },
        fields={"Thread": {"replies": _replies}, "Board": {"activity": _activity}},
    ),
    "search": Resolvers(entities={"Reply": _cross_posted}),
    "moderation": Resolvers(
        entities={
            "Thread": _moderation_thread,
            "Reply": lambda rep: {"id": rep["id"], "_rep": rep},
        },
        fields={
            "Thread": {"busy": _busy, "hotBoard": _hot_board},
            "Reply": {"spamScore": _spam_score},
        },
    ),
}
