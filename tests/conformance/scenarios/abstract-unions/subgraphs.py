"""A bookshop where the search subgraph and the catalog each know part of a union.

search's `SearchResult` is Book | Author and it knows nothing about magazines;
catalog's `SearchResult` is Book | Magazine and it cannot resolve authors.
"""

from tests.conformance.kit import Resolvers

BOOKS = {
    "b1": {"title": "The Left Hand of Darkness", "author": "a1"},
    "b2": {"title": "The Dispossessed", "author": "a1"},
    "b3": {"title": "Kindred", "author": "a2"},
}
MAGAZINES = {"m1": {"title": "Locus", "issue": 751}, "m2": {"title": "Asimov's", "issue": 12}}
AUTHORS = {"a1": "Ursula K. Le Guin", "a2": "Octavia E. Butler"}


def _search(info, term: str) -> list[dict]:
    needle = term.lower()
    hits: list[dict] = [
        {"__typename": "Author", "id": key, "name": name}
        for key, name in AUTHORS.items() if needle in name.lower()
    ]
    hits += [
        {"__typename": "Book", "id": key}
        for key, row in BOOKS.items() if needle in row["title"].lower()
    ]
    return hits


def _book(book_id: str) -> dict | None:
    row = BOOKS.get(book_id)
    return row and {"__typename": "Book", "id": book_id, "title": row["title"],
                    "author": {"id": row["author"]}}


def _magazine(magazine_id: str) -> dict | None:
    row = MAGAZINES.get(magazine_id)
    return row and {"__typename": "Magazine", "id": magazine_id, **row}


SHELVES = {"front": ("Front table", ["m1", "b3", None, "b1"])}


def _shelf(info, id: str) -> dict | None:
    if id not in SHELVES:
        return None
    label, items = SHELVES[id]
    return {"label": label, "items": [
        None if key is None else _book(key) if key.startswith("b") else _magazine(key)
        for key in items
    ]}


SUBGRAPHS = {
    "search": Resolvers(
        query={"search": _search},
        entities={
            "Book": lambda rep: {"id": rep["id"]} if rep["id"] in BOOKS else None,
            "Author": lambda rep: {"id": rep["id"], "name": AUTHORS[rep["id"]]}
            if rep["id"] in AUTHORS else None,
        },
    ),
    "catalog": Resolvers(
        query={
            "newArrivals": lambda info: [_magazine("m2"), _book("b2"), _magazine("m1")],
            "shelf": _shelf,
        },
        entities={
            "Book": lambda rep: _book(rep["id"]),
            "Magazine": lambda rep: _magazine(rep["id"]),
        },
    ),
}
