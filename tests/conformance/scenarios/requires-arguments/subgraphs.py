from tests.conformance.kit import Resolvers

PARCELS = [
    {"id": "x1", "weight": 800, "lengthCm": 100.0},
    {"id": "x2", "weight": 5200, "lengthCm": 127.0},
]
BY_ID = {p["id"]: p for p in PARCELS}
ZONE_BASE = {"DOMESTIC": 400, "EUROPE": 900, "WORLD": 2100}


def length(obj: dict, info, unit: str) -> float:
    cm = BY_ID[obj["id"]]["lengthCm"]
    return cm if unit == "CM" else round(cm / 2.54, 2)


def quote(obj: dict, info, zone: str, express: bool | None) -> int:
    price = ZONE_BASE[zone] + obj["weight"] // 100 * 10
    return price * 2 if express else price


def parcel(rep: dict) -> dict:
    out = dict(rep)
    if "length" in rep:
        out["usOversize"] = rep["length"] > 48
    return out


SUBGRAPHS = {
    "products": Resolvers(
        query={"parcels": lambda info: PARCELS},
        entities={"Parcel": lambda rep: BY_ID.get(rep["id"])},
        fields={"Parcel": {"length": length}},
    ),
    "carriers": Resolvers(
        entities={"Parcel": parcel},
        fields={"Parcel": {"quote": quote}},
    ),
}
