"""Weather: three subgraphs share `forecast`/`forecasts`, each knowing one part of it.

`Forecast` has no key: the only way to combine temperature, wind and sky is to ask each
subgraph's own root field and merge the answers (lists by position).
"""

from tests.conformance.kit import Resolvers

CITIES = ["Oslo", "Lisbon", "Quito"]
TEMPS = {"Oslo": (4, -3), "Lisbon": (19, 12), "Quito": (21, 9)}
WINDS = {"Oslo": (22, "NW"), "Lisbon": (14, "N"), "Quito": (6, "E")}
SKIES = {"Oslo": ("sleet", 1), "Lisbon": ("sunny", 6), "Quito": ("showers", 11)}


def _temps(city: str) -> dict | None:
    if city not in TEMPS:
        return None
    high, low = TEMPS[city]
    return {"city": city, "temperature": {"city": city, "highC": high, "lowC": low}}


def _winds(city: str) -> dict | None:
    if city not in WINDS:
        return None
    kph, direction = WINDS[city]
    return {"city": city, "wind": {"city": city, "kph": kph, "direction": direction}}


def _skies(city: str) -> dict | None:
    if city not in SKIES:
        return None
    summary, uv = SKIES[city]
    return {"city": city, "sky": {"city": city, "summary": summary, "uvIndex": uv}}


def _shared(shape):
    return {
        "forecast": lambda info, city: shape(city),
        "forecasts": lambda info: [shape(city) for city in CITIES],
    }


SUBGRAPHS = {
    "temps": Resolvers(query=_shared(_temps)),
    "winds": Resolvers(query=_shared(_winds)),
    "skies": Resolvers(query=_shared(_skies)),
}
