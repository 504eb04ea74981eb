"""Authors, books and publishers that point at each other across three subgraphs.

Author -> books -> Book -> author -> Author (authors <-> books), Book ->
publisher -> Publisher -> catalogue -> Book (books <-> publishers), and the
self-references Author.mentor and Book.sequel.
"""

from tests.conformance.kit import Resolvers

AUTHORS = {"au1": ("Terry Pratchett", None), "au2": ("Neil Gaiman", "au1")}
BOOKS = {
    "bk1": {"title": "Guards! Guards!", "author": "au1", "sequel": "bk2", "publisher": "pb1"},
    "bk2": {"title": "Men at Arms", "author": "au1", "sequel": None, "publisher": "pb1"},
    "bk3": {"title": "Neverwhere", "author": "au2", "sequel": None, "publisher": "pb2"},
}
PUBLISHERS = {"pb1": "Gollancz", "pb2": "BBC Books"}


def _author(author_id: str) -> dict | None:
    if author_id not in AUTHORS:
        return None
    name, mentor = AUTHORS[author_id]
    return {"id": author_id, "name": name, "mentor": mentor and {"id": mentor}}


def _book(book_id: str) -> dict | None:
    row = BOOKS.get(book_id)
    if row is None:
        return None
    return {"id": book_id, "title": row["title"], "author": {"id": row["author"]},
            "sequel": row["sequel"] and {"id": row["sequel"]}}


def _authors_books(rep: dict) -> dict | None:
    if rep["id"] not in AUTHORS:
        return None
    return {"id": rep["id"],
            "books": [_book(key) for key, row in BOOKS.items() if row["author"] == rep["id"]]}


def _publisher(publisher_id: str) -> dict | None:
    if publisher_id not in PUBLISHERS:
        return None
    return {"id": publisher_id, "name": PUBLISHERS[publisher_id],
            "catalogue": [{"id": key} for key, row in BOOKS.items()
                          if row["publisher"] == publisher_id]}


SUBGRAPHS = {
    "authors": Resolvers(
        query={"author": lambda info, id: _author(id)},
        entities={"Author": lambda rep: _author(rep["id"])},
        fields={"Author": {"mentor": lambda obj, info: obj["mentor"] and _author(
            obj["mentor"]["id"])}},
    ),
    "books": Resolvers(
        query={"book": lambda info, id: _book(id)},
        entities={"Book": lambda rep: _book(rep["id"]), "Author": _authors_books},
        fields={
            "Book": {"sequel": lambda obj, info: obj["sequel"] and _book(obj["sequel"]["id"])},
            "Author": {"books": lambda obj, info: _authors_books(obj)["books"]},
        },
    ),
    "publishers": Resolvers(
        query={"publishers": lambda info: [_publisher(key) for key in PUBLISHERS]},
        entities={
            "Publisher": lambda rep: _publisher(rep["id"]),
            "Book": lambda rep: {"id": rep["id"]} if rep["id"] in BOOKS else None,
        },
        fields={"Book": {"publisher": lambda obj, info: _publisher(
            BOOKS[obj["id"]]["publisher"])}},
    ),
}
