"""Vehicles known by three different keys: vin (recalls), plate (tolls) and the nested
registration `reg { country number }` (insurance). Only registry can translate between them.
"""

from tests.conformance.kit import Resolvers

VEHICLES = [
    {"vin": "V100", "plate": "KX-101", "reg": {"country": "DE", "number": "101"}, "model": "Zoe"},
    {
        "vin": "V200",
        "plate": "LM-202",
        "reg": {"country": "FR", "number": "202"},
        "model": "Kangoo",
    },
    {"vin": "V300", "plate": "KX-303", "reg": {"country": "DE", "number": "303"}, "model": "Zoe"},
]
FLEETS = {"f1": [("DE", "101"), ("FR", "202")], "f2": [("DE", "303")]}
TOLLS = {"KX-101": 1250, "LM-202": 0, "KX-303": 480}
RECALLS = {"V100": 1, "V200": 0, "V300": 2}
PREMIUM = {"Zoe": "eco plan", "Kangoo": "van plan"}


def _find(**key) -> dict | None:
    for vehicle in VEHICLES:
        if all(vehicle[k] == v for k, v in key.items()):
            return vehicle
    return None


def _registry(rep: dict) -> dict | None:
    for name in ("vin", "plate", "reg"):
        if name in rep:
            return _find(**{name: rep[name]})
    return None


def _insurance(rep: dict) -> dict:
    out = {"reg": rep["reg"]}
    if "model" in rep:
        out["policy"] = f"{PREMIUM[rep['model']]} ({rep['reg']['country']})"
    return out


def _same_model(rep: dict) -> dict | None:
    me = _find(vin=rep["vin"])
    if me is None:
        return None
    others = [{"vin": v["vin"]} for v in VEHICLES if v["model"] == me["model"] and v is not me]
    return {"vin": rep["vin"], "openRecalls": RECALLS[rep["vin"]], "sameModel": others}


SUBGRAPHS = {
    "registry": Resolvers(
        query={"vehicles": lambda info: VEHICLES}, entities={"Vehicle": _registry}
    ),
    "insurance": Resolvers(
        query={
            "fleet": lambda info, id: (
                {
                    "id": id,
                    "vehicles": [{"reg": {"country": c, "number": n}} for c, n in FLEETS[id]],
                }
                if id in FLEETS
                else None
            )
        },
        entities={
            "Vehicle": _insurance,
            "Fleet": lambda rep: {
                "id": rep["id"],
                "vehicles": [{"reg": {"country": c, "number": n}} for c, n in FLEETS[rep["id"]]],
            },
        },
    ),
    "tolls": Resolvers(
        entities={
            "Vehicle": lambda rep: {"plate": rep["plate"], "tollBalance": TOLLS[rep["plate"]]}
        }
    ),
    "recalls": Resolvers(entities={"Vehicle": _same_model}),
}
