"""A field selected under alternative @skip/@include conditions, and one that fails.

ledger's `Entry.audit` raises for e2 (the archive lost it), so an answer shows whether the
router asked for `audit` when the client's conditions exclude it. `accounts` is served by
ledger as an `@interfaceObject`: its answers carry the interface's name, and fields whose
first occurrence is skipped must still take the position of their first included one.
"""

from tests.conformance.kit import Resolvers

ENTRIES = {"e1": 1250, "e2": -400}
AUDIT = {"e1": "matched statement 2026-10"}


def _audit(obj: dict, info: object) -> str:
    if obj["id"] not in AUDIT:
        raise ValueError(f"no archive record for {obj['id']}")
    return AUDIT[obj["id"]]


SUBGRAPHS = {
    "ledger": Resolvers(
        query={
            "entries": lambda info: [{"id": i, "amountCents": c} for i, c in ENTRIES.items()],
            "accounts": lambda info: [{"__typename": "Account", "id": "s1", "holder": "Ana"}],
        },
        fields={"Entry": {"audit": _audit}},
    ),
    "banking": Resolvers(
        entities={"Account": lambda rep: {"__typename": "Savings", "id": rep["id"], "rate": 0.02}}
    ),
}
