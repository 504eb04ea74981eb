"""Hotel rooms: requirements whose required fields have requirements of their own.

rooms owns the rate, loyalty the member discount; ratings derives `premium` (rate) and
`premiumForMembers` (rate minus discount); budget derives its answers from those. Every
derived resolver fails loudly when a required value is missing.
"""

from tests.conformance.kit import Resolvers

RATES = {"r1": 240, "r2": 90, "r3": 160}
DISCOUNTS = {"r1": 100, "r2": 10, "r3": 0}
PREMIUM_FROM = 150


def _need(rep: dict, *names: str) -> None:
    missing = [n for n in names if n not in rep]
    if missing:
        raise ValueError(f"representation lacks required {missing}")


def _ratings(rep: dict) -> dict:
    out = {"id": rep["id"]}
    if "nightlyRate" in rep:
        out["premium"] = rep["nightlyRate"] >= PREMIUM_FROM
    if "memberDiscount" in rep:
        out["premiumForMembers"] = rep["nightlyRate"] - rep["memberDiscount"] >= PREMIUM_FROM
    return out


def _budget(rep: dict) -> dict:
    out = {"id": rep["id"], "_rep": rep}
    return out


def _affordable(obj: dict, info: object) -> bool:
    _need(obj["_rep"], "premium")
    return not obj["_rep"]["premium"]


def _affordable_members(obj: dict, info: object) -> bool:
    _need(obj["_rep"], "premiumForMembers")
    return not obj["_rep"]["premiumForMembers"]


def _verdict(obj: dict, info: object) -> str:
    rep = obj["_rep"]
    _need(rep, "premium", "premiumForMembers")
    if rep["premium"] and not rep["premiumForMembers"]:
        return "deal for members"
    return "premium" if rep["premium"] else "standard"


def _room(id_: str) -> dict | None:
    return {"id": id_, "nightlyRate": RATES[id_]} if id_ in RATES else None


def _field_needing(*names: str):
    def resolve(obj: dict, info: object) -> bool:
        _need(obj, *names)
        return obj[info.field_name]  # type: ignore[attr-defined]

    return resolve


SUBGRAPHS = {
    "rooms": Resolvers(
        query={"room": lambda info, id: _room(id), "rooms": lambda info: [_room(i) for i in RATES]},
        entities={"Room": lambda rep: _room(rep["id"])},
    ),
    "loyalty": Resolvers(
        entities={"Room": lambda rep: {"id": rep["id"], "memberDiscount": DISCOUNTS[rep["id"]]}},
    ),
    "ratings": Resolvers(
        entities={"Room": _ratings},
        fields={
            "Room": {
                "premium": _field_needing("premium"),
                "premiumForMembers": _field_needing("premiumForMembers"),
            }
        },
    ),
    "budget": Resolvers(
        entities={"Room": _budget},
        fields={
            "Room": {
                "affordable": _affordable,
                "affordableForMembers": _affordable_members,
                "verdict": _verdict,
            }
        },
    ),
}
