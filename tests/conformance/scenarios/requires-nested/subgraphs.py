from tests.conformance.kit import Resolvers

ARTICLES = [
    {
        "id": "a1",
        "title": "Bookcase",
        "package": {"length": 200, "width": 40, "height": 10, "grams": 31000},
        "vendor": {"name": "Nordwood", "address": {"country": "SE", "city": "Malmo"}},
        "attachments": [
            {"__typename": "Manual", "name": "Assembly", "pages": 12},
            {"__typename": "Video", "name": "How-to", "seconds": 300},
        ],
    },
    {
        "id": "a2",
        "title": "Cushion",
        "package": {"length": 50, "width": 50, "height": 20, "grams": 800},
        "vendor": {"name": "Soft&Co", "address": {"country": "CN", "city": "Ningbo"}},
        "attachments": [],
    },
    {
        "id": "a3",
        "title": "Desk lamp",
        "package": {"length": 30, "width": 20, "height": 20, "grams": 1500},
        "vendor": {"name": "Lumo", "address": {"country": "DE", "city": "Essen"}},
        "attachments": [{"__typename": "Manual", "name": "Safety", "pages": 2}],
    },
]
BY_ID = {a["id"]: a for a in ARTICLES}
EU = {"SE", "DE", "FR"}


def logistics(rep: dict) -> dict:
    out: dict = {"id": rep["id"]}
    if "package" in rep:
        p = rep["package"]
        volumetric = p["length"] * p["width"] * p["height"] // 5
        out["volumetricWeight"] = max(volumetric, p["grams"])
    if "vendor" in rep:
        out["customsZone"] = "EU" if rep["vendor"]["address"]["country"] in EU else "NON_EU"
    if "attachments" in rep:
        # a page per minute of video, printed as a transcript
        out["printedPages"] = sum(
            a["pages"] if "pages" in a else a["seconds"] // 60 for a in rep["attachments"]
        )
    return out


SUBGRAPHS = {
    "catalog": Resolvers(
        query={"articles": lambda info: ARTICLES},
        entities={"Article": lambda rep: BY_ID.get(rep["id"])},
    ),
    "logistics": Resolvers(entities={"Article": logistics}),
}
