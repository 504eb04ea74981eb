"""Records and books seen by a catalogue (`shelf`) and a shop (`store`).

The shop declares looser types: nullable `title`, `label` and `tracks`
elements, and the narrower `Record` where shelf says `Item`. Both subgraphs
agree on the values.
"""

from tests.conformance.kit import Resolvers

RECORDS = {
    "r1": {"title": "Kind of Blue", "tracks": ["So What", "Freddie Freeloader"],
           "label": "Columbia", "related": "r2", "priceCents": 2499},
    "r2": {"title": "A Love Supreme", "tracks": ["Acknowledgement", "Resolution"],
           "label": "Impulse!", "related": "r1", "priceCents": 2799},
    "r3": {"title": "Blue Train", "tracks": ["Blue Train"], "label": "Blue Note",
           "related": None, "priceCents": 1999},
}
BOOKS = {"b1": "Free Jazz: A Primer"}


def _shelf_record(record_id: str) -> dict | None:
    row = RECORDS.get(record_id)
    if row is None:
        return None
    related = row["related"]
    return {"__typename": "Record", "id": record_id, "title": row["title"],
            "tracks": row["tracks"], "label": row["label"],
            "related": related and {"__typename": "Record", "id": related}}


def _store_record(record_id: str) -> dict | None:
    row = RECORDS.get(record_id)
    if row is None:
        return None
    related = row["related"]
    return {"id": record_id, "title": row["title"], "tracks": row["tracks"],
            "label": row["label"], "priceCents": row["priceCents"],
            "related": related and {"id": related}}


def _record_field(name: str):
    def resolve(obj: dict, info) -> object:
        return RECORDS[obj["id"]][name]
    return resolve


SUBGRAPHS = {
    "shelf": Resolvers(
        query={
            "pick": lambda info: _shelf_record("r2"),
            "records": lambda info: [_shelf_record(key) for key in RECORDS],
        },
        entities={
            "Record": lambda rep: _shelf_record(rep["id"]),
            "Book": lambda rep: {"id": rep["id"], "title": BOOKS[rep["id"]]}
            if rep["id"] in BOOKS else None,
        },
        fields={"Record": {
            "title": _record_field("title"),
            "label": _record_field("label"),
            "related": lambda obj, info: obj["related"] and _shelf_record(obj["related"]["id"]),
        }},
    ),
    "store": Resolvers(
        query={
            "pick": lambda info: _store_record("r2"),
            "bargains": lambda info: [_store_record("r3"), None, _store_record("r1")],
        },
        entities={
            "Record": lambda rep: _store_record(rep["id"]),
            "Book": lambda rep: {"id": rep["id"], "title": BOOKS[rep["id"]]}
            if rep["id"] in BOOKS else None,
        },
        fields={"Record": {
            "title": _record_field("title"),
            "label": _record_field("label"),
            "related": lambda obj, info: obj["related"] and _store_record(obj["related"]["id"]),
        }},
    ),
}
