"""A library kiosk: `@provides` on fields typed with an @interfaceObject.

kiosk's copies of titles end in `*`, so an answer shows whether a title came through
the provides path or from library.
"""

from tests.conformance.kit import Resolvers

ITEMS = {
    "b1": {"__typename": "Book", "title": "Middlemarch", "pages": 880},
    "d1": {"__typename": "Disc", "title": "Kind of Blue", "minutes": 46},
    "b2": {"__typename": "Book", "title": "Beloved", "pages": 324},
}


def _library(rep: dict) -> dict | None:
    row = ITEMS.get(rep["id"])
    return row and {"id": rep["id"], **row}


SCREEN_TIME = {"b1": 5, "d1": 12, "b2": 3}


def _kiosk(id_: str, with_title: bool) -> dict:
    out = {"id": id_, "screenTime": SCREEN_TIME[id_]}
    if with_title:
        out["title"] = ITEMS[id_]["title"] + "*"
    return out


SUBGRAPHS = {
    "library": Resolvers(
        query={"everything": lambda info: [_library({"id": i}) for i in ITEMS]},
        entities={"Item": _library, "Book": _library, "Disc": _library},
    ),
    "kiosk": Resolvers(
        query={
            "display": lambda info: [_kiosk(i, True) for i in ITEMS],
            "shelf": lambda info: [_kiosk(i, False) for i in ("b2", "d1")],
        },
        entities={"Item": lambda rep: _kiosk(rep["id"], False) if rep["id"] in ITEMS else None},
    ),
}
