"""Books and journals whose `publisher` is shared by three subgraphs.

`Publisher` is an entity (key `id`) in catalog and houses, but archive knows it only as
a key-less value type with `history` and `founded`. Those fields are reachable solely by
asking archive for the parent's `publisher` again, through whichever of the parent's keys
archive accepts: `Book` by `isbn` (catalog has it; shelves only knows `id`), `Journal` by
its composite `title volume` key.
"""

from tests.conformance.kit import Resolvers

BOOKS = {
    "b1": {"isbn": "978-0001", "title": "Salt Roads", "publisher": "pub1"},
    "b2": {"isbn": "978-0002", "title": "Quiet Engines", "publisher": "pub2"},
    "b3": {"isbn": "978-0003", "title": "Self-published Notes", "publisher": None},
}
BY_ISBN = {row["isbn"]: id_ for id_, row in BOOKS.items()}
JOURNALS = {("Tidal Letters", 4): "pub2", ("Tidal Letters", 5): None}
PUBLISHERS = {
    "pub1": {"name": "Harbour House", "history": "Founded by two sailors", "founded": 1921},
    "pub2": {"name": "Lantern Press", "history": None, "founded": 1988},
}


def _book(id_: str) -> dict | None:
    row = BOOKS.get(id_)
    if row is None:
        return None
    publisher = {"id": row["publisher"]} if row["publisher"] else None
    return {"id": id_, "isbn": row["isbn"], "title": row["title"], "publisher": publisher}


def _houses_publisher(id_: str | None) -> dict | None:
    if id_ is None:
        return None
    return {"id": id_, "name": PUBLISHERS[id_]["name"]}


def _archive_publisher(id_: str | None) -> dict | None:
    if id_ is None:
        return None
    row = PUBLISHERS[id_]
    return {"history": row["history"], "founded": row["founded"]}


def _catalog_book(rep: dict) -> dict | None:
    if "id" in rep:
        return _book(rep["id"])
    id_ = BY_ISBN.get(rep["isbn"])
    return _book(id_) if id_ else None


def _archive_book(rep: dict) -> dict | None:
    id_ = BY_ISBN.get(rep["isbn"])
    if id_ is None:
        return None
    return {"isbn": rep["isbn"], "publisher": _archive_publisher(BOOKS[id_]["publisher"])}


def _journal(rep: dict, publisher) -> dict | None:
    key = (rep["title"], rep["volume"])
    if key not in JOURNALS:
        return None
    return {"title": key[0], "volume": key[1], "publisher": publisher(JOURNALS[key])}


SUBGRAPHS = {
    "shelves": Resolvers(
        query={
            "featured": lambda info: {"id": "b2"},
            "shelf": lambda info: [{"id": i} for i in BOOKS],
            "journal": lambda info, title, volume: (
                {"title": title, "volume": volume} if (title, volume) in JOURNALS else None
            ),
        },
    ),
    "catalog": Resolvers(
        entities={"Book": _catalog_book, "Publisher": lambda rep: {"id": rep["id"]}}
    ),
    "houses": Resolvers(
        entities={
            "Book": lambda rep: (
                {"id": rep["id"], "publisher": _houses_publisher(BOOKS[rep["id"]]["publisher"])}
                if rep["id"] in BOOKS
                else None
            ),
            "Publisher": lambda rep: (
                _houses_publisher(rep["id"]) if rep["id"] in PUBLISHERS else None
            ),
            "Journal": lambda rep: _journal(rep, _houses_publisher),
        }
    ),
    "archive": Resolvers(
        entities={
            "Book": _archive_book,
            "Journal": lambda rep: _journal(rep, _archive_publisher),
        }
    ),
}
