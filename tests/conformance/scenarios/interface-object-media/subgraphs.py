"""Media items (books and films) owned by one subgraph, reviewed in another.

The reviews subgraph only knows the `Media` interface, as an @interfaceObject:
it never learns whether an item is a book or a film.
"""

from tests.conformance.kit import Resolvers

MEDIA = {
    "bk-1": {"__typename": "Book", "title": "Piranesi", "pages": 272},
    "fm-1": {"__typename": "Film", "title": "Arrival", "minutes": 116},
    "bk-2": {"__typename": "Book", "title": "Circe", "pages": 393},
    "fm-2": {"__typename": "Film", "title": "Paterson", "minutes": 118},
}
REVIEWS = {
    "bk-1": [(5, "Haunting."), (4, "Strange and lovely.")],
    "fm-1": [(5, "Made me cry.")],
    "fm-2": [(3, "Quiet."), (4, "Poems everywhere."), (2, "Slow.")],
}


def _media(media_id: str) -> dict | None:
    row = MEDIA.get(media_id)
    return row and {"id": media_id, **row}


def _reviewed(media_id: str) -> dict | None:
    if media_id not in MEDIA:
        return None
    reviews = REVIEWS.get(media_id, [])
    average = sum(stars for stars, _ in reviews) / len(reviews) if reviews else None
    return {"id": media_id, "averageStars": average,
            "reviews": [{"stars": stars, "text": text} for stars, text in reviews]}


def _top_rated(info, limit: int) -> list[dict]:
    rated = [_reviewed(key) for key in REVIEWS]
    rated.sort(key=lambda item: -item["averageStars"])
    return rated[:limit]


SUBGRAPHS = {
    "media": Resolvers(
        query={
            "library": lambda info: [_media(key) for key in MEDIA],
            "book": lambda info, id: _media(id) if MEDIA.get(id, {}).get("__typename") == "Book"
            else None,
        },
        entities={
            "Media": lambda rep: _media(rep["id"]),
            "Book": lambda rep: _media(rep["id"]),
            "Film": lambda rep: _media(rep["id"]),
        },
    ),
    "reviews": Resolvers(
        query={"topRated": _top_rated},
        entities={"Media": lambda rep: _reviewed(rep["id"])},
    ),
}
