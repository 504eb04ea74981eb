"""Countries shared between a geography and a rates subgraph; carriers live in a third.

The rates subgraph only knows a region's name, the continent comes from geo.
Rates are a base price plus a price per kilogram, so each argument value gives
a distinct answer.
"""

from tests.conformance.kit import Resolvers

COUNTRIES = {
    "DE": {"name": "Germany", "region": ("Central Europe", "Europe"), "base": 499, "perKg": 120},
    "JP": {"name": "Japan", "region": ("East Asia", "Asia"), "base": 1499, "perKg": 410},
    "CA": {"name": "Canada", "region": ("North America", "America"), "base": 999, "perKg": 250},
}
ORDER = ["DE", "JP", "CA"]
CARRIERS = {
    "Parcelio": {"express": False, "countries": ["DE", "CA"]},
    "SwiftAir": {"express": True, "countries": ["JP", "DE", "CA"]},
    "NipponPost": {"express": False, "countries": ["JP"]},
}


def _geo(code: str) -> dict | None:
    row = COUNTRIES.get(code)
    if row is None:
        return None
    name, continent = row["region"]
    return {"code": code, "name": row["name"], "region": {"name": name, "continent": continent}}


def _rates(code: str) -> dict | None:
    row = COUNTRIES.get(code)
    if row is None:
        return None
    return {"code": code, "name": row["name"], "region": {"name": row["region"][0]}}


def _shipping_rate(country: dict, info, weightKg: int) -> int:
    row = COUNTRIES[country["code"]]
    return row["base"] + row["perKg"] * weightKg


def _carrier(name: str) -> dict | None:
    row = CARRIERS.get(name)
    if row is None:
        return None
    return {"name": name, "express": row["express"],
            "countries": [{"code": code} for code in row["countries"]]}


def _carriers_of(code: str) -> list[dict]:
    return [_carrier(name) for name, row in CARRIERS.items() if code in row["countries"]]


SUBGRAPHS = {
    "geo": Resolvers(
        query={"countries": lambda info: [_geo(code) for code in ORDER]},
        entities={"Country": lambda rep: _geo(rep["code"])},
    ),
    "rates": Resolvers(
        query={
            "countries": lambda info: [_rates(code) for code in ORDER],
            "cheapestCountry": lambda info: _rates("DE"),
        },
        entities={"Country": lambda rep: _rates(rep["code"])},
        fields={"Country": {"shippingRate": _shipping_rate}},
    ),
    "carriers": Resolvers(
        query={"carrier": lambda info, name: _carrier(name)},
        entities={
            "Country": lambda rep: {"code": rep["code"], "carriers": _carriers_of(rep["code"])}
            if rep["code"] in COUNTRIES else None
        },
        fields={"Country": {"carriers": lambda obj, info: _carriers_of(obj["code"])}},
    ),
}
