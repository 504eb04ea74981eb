"""A game shop: `Title` (BoardGame, VideoGame) spread over five subgraphs.

games owns the titles, studios the studio details, reviews adds reviews (its own
`Title` interface has only `id`/`reviews`), shipping computes `delivery(zip:)` from
the external `box`, publishing and imprints split the `Publisher` union between them.
"""

from tests.conformance.kit import Resolvers

TITLES = {
    "bg1": {
        "__typename": "BoardGame",
        "code": "BG-CAN",
        "name": "Canopy",
        "players": 4,
        "box": {"widthCm": 30, "weightKg": 1.5},
        "studio": {"id": "s1"},
    },
    "vg1": {
        "__typename": "VideoGame",
        "code": "VG-NEB",
        "name": "Nebula Run",
        "platform": "Switch",
        "box": {"widthCm": 19, "weightKg": 0.1},
        "studio": {"id": "s2"},
    },
    "bg2": {
        "__typename": "BoardGame",
        "code": "BG-TID",
        "name": "Tidepool",
        "players": 2,
        "box": {"widthCm": 20, "weightKg": 0.8},
        "studio": {"id": "s2"},
    },
    "vg2": {
        "__typename": "VideoGame",
        "code": "VG-LAN",
        "name": "Lantern",
        "platform": "PC",
        "box": {"widthCm": 14, "weightKg": 0.05},
        "studio": None,
    },
}
STUDIOS = {
    "s1": {"email": "hello@treetop.example", "releasedCount": 1},
    "s2": {"email": "team@pixelmoth.example", "releasedCount": 2},
}
REVIEWS = {
    "bg1": [(1, "Gorgeous art"), (2, "Setup takes a while")],
    "vg1": [(3, "Tight controls")],
    "vg2": [(4, "Cosy")],
}
PUBLISHERS = {
    "bg1": {"__typename": "Imprint", "id": "im1"},
    "vg1": {"__typename": "SelfPublished", "contact": "dev@nebula.example", "since": 2019},
    "bg2": {"__typename": "Imprint", "id": "im2"},
    "vg2": None,
}
IMPRINTS = {
    "im1": {"name": "Oakleaf Press", "contact": {"address": "orders@oakleaf.example"}},
    "im2": {"name": "Brightside", "contact": {"address": "hi@brightside.example"}},
}


def _title(id_: str) -> dict | None:
    row = TITLES.get(id_)
    return row and {"id": id_, **row}


def _related(info: object, id: str) -> list[dict]:
    kind = TITLES[id]["__typename"] if id in TITLES else None
    return [
        _title(other) for other, row in TITLES.items() if row["__typename"] == kind and other != id
    ]


def _reviewed(id_: str) -> dict:
    rows = REVIEWS.get(id_, [])
    return {
        "__typename": TITLES[id_]["__typename"],
        "id": id_,
        "reviewCount": len(rows),
        "reviews": [{"id": rid, "body": body, "titleId": id_} for rid, body in rows],
    }


def _reviews(rep: dict) -> dict:
    return _reviewed(rep["id"])


def _delivery(obj: dict, info: object, zip: str) -> dict:
    box = obj["box"]
    days = (
        1
        + int(box["weightKg"])
        + (2 if box["widthCm"] > 25 else 0)
        + (1 if zip.startswith("9") else 0)
    )
    return {"method": "courier" if box["weightKg"] < 1 else "freight", "days": days}


SUBGRAPHS = {
    "games": Resolvers(
        query={"titles": lambda info: [_title(i) for i in TITLES], "related": _related},
        entities={
            "BoardGame": lambda rep: _title(rep["id"]),
            "VideoGame": lambda rep: _title(rep["id"]),
        },
    ),
    "studios": Resolvers(
        entities={
            "Studio": lambda rep: (
                {"id": rep["id"], **STUDIOS[rep["id"]]} if rep["id"] in STUDIOS else None
            )
        },
    ),
    "reviews": Resolvers(
        entities={"BoardGame": _reviews, "VideoGame": _reviews},
        fields={"Review": {"title": lambda obj, info: _reviewed(obj["titleId"])}},
    ),
    "shipping": Resolvers(
        fields={"BoardGame": {"delivery": _delivery}, "VideoGame": {"delivery": _delivery}},
    ),
    "publishing": Resolvers(
        entities={
            "BoardGame": lambda rep: {"id": rep["id"], "publisher": PUBLISHERS.get(rep["id"])},
            "VideoGame": lambda rep: {"id": rep["id"], "publisher": PUBLISHERS.get(rep["id"])},
        },
    ),
    "imprints": Resolvers(
        entities={
            "Imprint": lambda rep: (
                {"id": rep["id"], **IMPRINTS[rep["id"]]} if rep["id"] in IMPRINTS else None
            ),
            "Guild": lambda rep: None,
        },
    ),
}
