from tests.conformance.kit import Resolvers

USERS = [
    {"id": "u1", "email": "ada@example.com", "name": "Ada"},
    {"id": "u2", "email": "grace@example.com", "name": "Grace"},
    {"id": "u3", "email": "alan@example.com", "name": "Alan"},
]
BY_ID = {u["id"]: u for u in USERS}
BY_EMAIL = {u["email"]: u for u in USERS}
REVIEWS = [
    {"id": "r1", "body": "Great desk", "author": "grace@example.com"},
    {"id": "r2", "body": "Too loud", "author": "ada@example.com"},
    {"id": "r3", "body": "Fine lamp", "author": "grace@example.com"},
]
PLANS = {"u1": ("pro", 120), "u2": ("free", 0), "u3": ("team", 45)}


def review(row: dict) -> dict:
    return {**row, "author": {"email": row["author"]}}


def reviews_user(rep: dict) -> dict:
    mine = [review(r) for r in REVIEWS if r["author"] == rep["email"]]
    return {"email": rep["email"], "reviews": mine}


def account(rep: dict) -> dict | None:
    return BY_ID.get(rep["id"]) if "id" in rep else BY_EMAIL.get(rep["email"])


def billing_user(rep: dict) -> dict | None:
    if rep["id"] not in PLANS:
        return None
    plan, balance = PLANS[rep["id"]]
    return {"id": rep["id"], "plan": plan, "balance": balance}


SUBGRAPHS = {
    "accounts": Resolvers(
        query={"users": lambda info: USERS, "user": lambda info, id: BY_ID.get(id)},
        entities={"User": account},
    ),
    "reviews": Resolvers(
        query={"latestReviews": lambda info: [review(r) for r in REVIEWS]},
        entities={"User": reviews_user},
    ),
    "billing": Resolvers(entities={"User": billing_user}),
}
