"""Two subgraphs share `Media`/`ViewerMedia` unions with different members.

shelf: Novel | Track, cinema: Novel | Film. The shared root fields answer the same
novel everywhere; `track` exists only in shelf, `cinemaMedia` only in cinema, and
`novel` is typed `Novel` in shelf but `Media` in cinema.
"""

from tests.conformance.kit import Resolvers

NOVEL = {
    "id": "n1",
    "title": "Dune",
    "shelfNote": "shelf: aisle 4",
    "cinemaNote": "cinema: adapted 2021",
}
TRACK = {"id": "t2", "title": "Clair de Lune", "shelfNote": "shelf: vinyl bin"}
FILM = {"id": "f3", "title": "Arrival", "cinemaNote": "cinema: screen 2"}


def _shelf(row: dict, typename: str) -> dict:
    return {"__typename": typename, **{k: v for k, v in row.items() if k != "cinemaNote"}}


def _cinema(row: dict, typename: str) -> dict:
    return {"__typename": typename, **{k: v for k, v in row.items() if k != "shelfNote"}}


def _by_id(row: dict, shape, typename: str):
    return lambda rep: shape(row, typename) if rep["id"] == row["id"] else None


SHELF_NOVEL = _shelf(NOVEL, "Novel")
SHELF_TRACK = _shelf(TRACK, "Track")
CINEMA_NOVEL = _cinema(NOVEL, "Novel")
CINEMA_FILM = _cinema(FILM, "Film")

SUBGRAPHS = {
    "shelf": Resolvers(
        query={
            "media": lambda info: SHELF_NOVEL,
            "shelfMedia": lambda info: SHELF_NOVEL,
            "novel": lambda info: SHELF_NOVEL,
            "track": lambda info: SHELF_TRACK,
            "viewer": lambda info: {
                "media": SHELF_NOVEL,
                "shelfMedia": SHELF_NOVEL,
                "novel": SHELF_NOVEL,
                "track": SHELF_TRACK,
            },
        },
        entities={"Novel": _by_id(NOVEL, _shelf, "Novel"), "Track": _by_id(TRACK, _shelf, "Track")},
    ),
    "cinema": Resolvers(
        query={
            "media": lambda info: CINEMA_NOVEL,
            "cinemaMedia": lambda info: CINEMA_NOVEL,
            "novel": lambda info: CINEMA_NOVEL,
            "viewer": lambda info: {
                "media": CINEMA_NOVEL,
                "cinemaMedia": CINEMA_FILM,
                "novel": CINEMA_NOVEL,
            },
        },
        entities={"Novel": _by_id(NOVEL, _cinema, "Novel"), "Film": _by_id(FILM, _cinema, "Film")},
    ),
}
