from tests.conformance.kit import Resolvers

MEDIA = [
    {"__typename": "Book", "id": "m1", "title": "Dune", "year": 1965, "author": "Herbert"},
    {"__typename": "Film", "id": "m2", "title": "Alien", "year": 1979, "director": "Scott"},
    {"__typename": "Book", "id": "m3", "title": "Solaris", "year": 1961, "author": "Lem"},
]
BY_ID = {m["id"]: m for m in MEDIA}
VIEWS = {"m1": 310, "m2": 950, "m3": 120}


def stats(rep: dict) -> dict:
    out = {"id": rep["id"], "views": VIEWS[rep["id"]]}
    if "title" in rep:
        out["slug"] = f"{rep['title'].lower()}-{rep['year']}"
    return out


SUBGRAPHS = {
    "media": Resolvers(
        query={"library": lambda info: MEDIA},
        entities={
            "Media": lambda rep: BY_ID.get(rep["id"]),
            "Book": lambda rep: BY_ID.get(rep["id"]),
            "Film": lambda rep: BY_ID.get(rep["id"]),
        },
    ),
    "stats": Resolvers(
        query={
            "trending": lambda info: [
                {"id": i, "views": VIEWS[i]} for i in sorted(VIEWS, key=VIEWS.get, reverse=True)
            ]
        },
        entities={"Media": stats},
    ),
}
