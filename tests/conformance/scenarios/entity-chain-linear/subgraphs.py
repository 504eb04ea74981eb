from tests.conformance.kit import Resolvers

# six stores in four cities in three countries using two currencies
STORES = [
    ("st1", "Rive Gauche", "paris"),
    ("st2", "Marais", "paris"),
    ("st3", "Vieux Port", "marseille"),
    ("st4", "Altstadt", "berlin"),
    ("st5", "Kreuzberg", "berlin"),
    ("st6", "Nyhavn", "copenhagen"),
]
CITIES = {
    "paris": ("Paris", "FR"),
    "marseille": ("Marseille", "FR"),
    "berlin": ("Berlin", "DE"),
    "copenhagen": ("Copenhagen", "DK"),
}
COUNTRIES = {"FR": ("France", "EUR"), "DE": ("Germany", "EUR"), "DK": ("Denmark", "DKK")}
CURRENCIES = {"EUR": ("€", 1.0), "DKK": ("kr", 7.46)}


def city(rep: dict) -> dict:
    name, country = CITIES[rep["id"]]
    return {"id": rep["id"], "name": name, "country": {"code": country}}


def country(rep: dict) -> dict:
    name, currency = COUNTRIES[rep["code"]]
    return {"code": rep["code"], "name": name, "currency": {"code": currency}}


def currency(rep: dict) -> dict:
    symbol, rate = CURRENCIES[rep["code"]]
    return {"code": rep["code"], "symbol": symbol, "perEuro": rate}


SUBGRAPHS = {
    "stores": Resolvers(
        query={
            "stores": lambda info: [
                {"id": i, "name": n, "city": {"id": c}} for i, n, c in STORES
            ]
        }
    ),
    "cities": Resolvers(entities={"City": city}),
    "countries": Resolvers(entities={"Country": country}),
    "currencies": Resolvers(entities={"Currency": currency}),
}
