"""Mutations over one shared value: reset/multiply in vault, add in ledger.

The order of the results shows the order of execution; `openAccount` exists in both
subgraphs (shareable) and every execution opens one more account, so running it twice
shows in `accountCount` and in the ids. `balance` reads the value when it is resolved.
"""

from tests.conformance.kit import Resolvers

STATE: dict = {"value": 0, "accounts": []}


def _reset(info: object, seed: int) -> int:
    STATE["value"] = seed
    STATE["accounts"] = []
    return seed


def _multiply(info: object, by: int) -> int:
    STATE["value"] *= by
    return STATE["value"]


def _add(info: object, amount: int) -> int:
    STATE["value"] += amount
    return STATE["value"]


def _open(info: object, owner: str) -> dict:
    account = {"id": f"acc{len(STATE['accounts']) + 1}", "owner": owner}
    STATE["accounts"].append(account)
    return account


def _account(rep: dict) -> dict | None:
    for account in STATE["accounts"]:
        if account["id"] == rep["id"]:
            return dict(account)
    return None


SUBGRAPHS = {
    "vault": Resolvers(
        query={"value": lambda info: STATE["value"]},
        mutation={
            "reset": _reset,
            "multiply": _multiply,
            "openAccount": _open,
            "accountCount": lambda info: len(STATE["accounts"]),
        },
        entities={"Account": _account},
    ),
    "ledger": Resolvers(
        mutation={"add": _add, "openAccount": _open},
        entities={"Account": _account},
        fields={"Account": {"balance": lambda obj, info: STATE["value"]}},
    ),
}
