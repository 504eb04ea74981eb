"""Books whose genre enum differs between a catalog and a recommendations subgraph.

The catalog knows HISTORY, recs knows POETRY, and each lists only the books whose
genre it can represent (but resolves every book as an entity); `SortOrder.RANDOM` exists only in
the catalog and therefore not in the supergraph at all.
"""

from tests.conformance.kit import Resolvers

BOOKS = {
    "k1": {"title": "SPQR", "genre": "HISTORY", "format": "HARDCOVER", "score": 71},
    "k2": {"title": "Cosmos", "genre": "SCIENCE", "format": "PAPERBACK", "score": 93},
    "k3": {"title": "Beloved", "genre": "FICTION", "format": "EBOOK", "score": 88},
    "k4": {"title": "Ariel", "genre": "POETRY", "format": "PAPERBACK", "score": 64},
}
LISTED_IN_CATALOG = ["k1", "k2", "k3"]  # the catalog does not list poetry
LISTED_IN_RECS = ["k2", "k3", "k4"]  # recs does not list history


def _catalog(book_id: str) -> dict | None:
    # POETRY is not a catalog genre: the catalog could not serialize k4's genre,
    # but it still has the book's title and format
    row = BOOKS.get(book_id)
    return row and {"id": book_id, "title": row["title"], "genre": row["genre"],
                    "format": row["format"]}


def _recs(book_id: str) -> dict | None:
    # HISTORY is not a recs genre: k1's genre cannot come from here, its score can
    row = BOOKS.get(book_id)
    return row and {"id": book_id, "genre": row["genre"], "score": row["score"]}


def _books(info, order: str) -> list[dict]:
    ids = sorted(LISTED_IN_CATALOG, key=lambda key: BOOKS[key]["title"], reverse=order == "DESC")
    return [_catalog(key) for key in ids]


def _recommended(info, order: str, format: str | None = None) -> list[dict]:
    ids = [key for key in LISTED_IN_RECS if format is None or BOOKS[key]["format"] == format]
    ids.sort(key=lambda key: BOOKS[key]["score"], reverse=order == "DESC")
    return [_recs(key) for key in ids]


SUBGRAPHS = {
    "catalog": Resolvers(
        query={"books": _books},
        entities={"Book": lambda rep: _catalog(rep["id"])},
    ),
    "recs": Resolvers(
        query={"recommended": _recommended},
        entities={"Book": lambda rep: _recs(rep["id"])},
    ),
}
