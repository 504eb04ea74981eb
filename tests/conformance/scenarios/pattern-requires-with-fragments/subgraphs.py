"""Insurance claims: a requirement written with type conditions on an interface field,
whose fields come from two other subgraphs (valuations, risk). payouts raises when the
representation lacks what its condition asked for.
"""

from tests.conformance.kit import Resolvers

CLAIMS = {"cl1": "car1", "cl2": "house1", "cl3": None, "cl4": "house2"}
CARS = {"car1": ("B-XY 12", 18000)}
HOUSES = {"house1": ("12 Elm St", 250000, 3), "house2": ("4 Hill Rd", 400000, None)}


def _subject(id_: str | None) -> dict | None:
    if id_ is None:
        return None
    if id_ in CARS:
        return {"__typename": "Car", "id": id_, "plate": CARS[id_][0]}
    return {"__typename": "House", "id": id_, "street": HOUSES[id_][0]}


def _payout(rep: dict) -> dict:
    subject = rep.get("subject", "missing")
    if subject == "missing":
        raise ValueError("payout needs subject")
    if subject is None:
        amount = 0
    elif subject["__typename"] == "Car":
        amount = subject["marketValue"] * 80 // 100
    else:
        flood = subject["flood"]
        amount = subject["rebuildCost"] // 2 + (flood["level"] * 1000 if flood else 0)
    return {"id": rep["id"], "payout": amount}


def _car(rep: dict) -> dict | None:
    row = CARS.get(rep["id"])
    return row and {"id": rep["id"], "plate": row[0]}


def _house(rep: dict) -> dict | None:
    row = HOUSES.get(rep["id"])
    return row and {"id": rep["id"], "street": row[0]}


SUBGRAPHS = {
    "claims": Resolvers(
        query={
            "claims": lambda info: [{"id": c, "subject": _subject(s)} for c, s in CLAIMS.items()]
        },
        entities={
            "Claim": lambda rep: {"id": rep["id"], "subject": _subject(CLAIMS[rep["id"]])},
            "Car": _car,
            "House": _house,
        },
    ),
    "valuations": Resolvers(
        entities={
            "Car": lambda rep: {"id": rep["id"], "marketValue": CARS[rep["id"]][1]},
            "House": lambda rep: {"id": rep["id"], "rebuildCost": HOUSES[rep["id"]][1]},
        }
    ),
    "risk": Resolvers(
        entities={
            "House": lambda rep: {
                "id": rep["id"],
                "flood": None
                if HOUSES[rep["id"]][2] is None
                else {"level": HOUSES[rep["id"]][2], "label": f"zone {HOUSES[rep['id']][2]}"},
            }
        }
    ),
    "payouts": Resolvers(entities={"Claim": _payout}),
}
