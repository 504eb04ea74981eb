"""Tracks reached by isrc, but credits only knows them by catalog id.

catalog translates isrc -> id and has no record of the third track (it answers null),
so there is no id to send to credits for it. The fourth entry has no track at all.
"""

from tests.conformance.kit import Resolvers

TRACKS = {
    "T1": ("USABC0001", "Wildflowers", "Tom Petty"),
    "T2": ("GBXYZ0002", "Jolene", "Dolly Parton"),
}
ENTRIES = ["USABC0001", "GBXYZ0002", "FRQQQ0003", None]


def _catalog(rep: dict) -> dict | None:
    for id_, (isrc, title, _composer) in TRACKS.items():
        if rep.get("isrc") == isrc or rep.get("id") == id_:
            return {"id": id_, "isrc": isrc, "title": title}
    return None


def _credits(rep: dict) -> dict:
    if rep.get("id") is None:
        raise ValueError("credits got a representation without id")
    return {"id": rep["id"], "composer": {"name": TRACKS[rep["id"]][2]}}


SUBGRAPHS = {
    "playlists": Resolvers(
        query={
            "entries": lambda info: [
                {"position": n, "track": {"isrc": isrc} if isrc else None}
                for n, isrc in enumerate(ENTRIES, 1)
            ]
        },
        entities={"Track": lambda rep: {"isrc": rep["isrc"]}},
    ),
    "catalog": Resolvers(entities={"Track": _catalog}),
    "credits": Resolvers(entities={"Track": _credits}),
}
