"""A small blog: users (names, sized avatar URLs) and their posts."""

from tests.conformance.kit import Resolvers

USERS = {"u1": "Mira", "u2": "Tomas", "u3": "Ayo"}
POSTS = [
    {"id": "p1", "title": "Hello federation", "likes": 12, "author": "u1"},
    {"id": "p2", "title": "Query plans, explained", "likes": 40, "author": "u2"},
    {"id": "p3", "title": "On fragments", "likes": 7, "author": "u1"},
    {"id": "p4", "title": "Aliases all the way down", "likes": 3, "author": "u3"},
]


def _user(user_id: str) -> dict | None:
    return {"id": user_id, "name": USERS[user_id]} if user_id in USERS else None


def _avatar(user: dict, info, size: int) -> str:
    return f"https://img.example/{user['id']}/{size}.png"


def _post(row: dict) -> dict:
    return {"id": row["id"], "title": row["title"], "likes": row["likes"],
            "author": {"id": row["author"]}}


def _posts_of(user: dict, info, first: int) -> list[dict]:
    return [_post(row) for row in POSTS if row["author"] == user["id"]][:first]


SUBGRAPHS = {
    "users": Resolvers(
        query={
            "me": lambda info: _user("u1"),
            "user": lambda info, id: _user(id),
            "users": lambda info, ids: [_user(key) for key in ids],
        },
        entities={"User": lambda rep: _user(rep["id"])},
        fields={"User": {"avatar": _avatar}},
    ),
    "posts": Resolvers(
        query={"feed": lambda info, first: [_post(row) for row in POSTS][:first]},
        entities={"User": lambda rep: {"id": rep["id"]} if rep["id"] in USERS else None},
        fields={"User": {"posts": _posts_of}},
    ),
}
