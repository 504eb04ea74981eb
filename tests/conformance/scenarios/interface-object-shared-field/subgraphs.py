"""A shared interface field answered by two @interfaceObject subgraphs.

library serves titles as an `@interfaceObject`; ratings adds `score` (shareable) and
`votes` to the interface, also as an `@interfaceObject`; studio owns the interface and its
implementations and has its own copy of `score` on `Film` only. studio answers a different
number for a film's score than ratings, so the answer shows which subgraph was asked: a
score selected on the interface comes from ratings (interface object to interface object,
no concrete type needed), a score selected under `... on Film` from studio.
"""

from tests.conformance.kit import Resolvers

TITLES = {
    "t1": {"kind": "Film", "name": "Night Harbour", "runtime": 104, "score": 81, "votes": 1200},
    "t2": {"kind": "Episode", "name": "Pilot", "runtime": 42, "score": 67, "votes": 310},
    "t3": {"kind": "Film", "name": "Paper Moons", "runtime": 95, "score": None, "votes": 0},
}
STUDIO_SCORE = {"t1": 8, "t3": 5}  # the studio's own scale, never what ratings says
DETAILS = {"t1": {"director": "A. Ruiz"}, "t2": {"season": 1}, "t3": {"director": "M. Okafor"}}


def _library(id_: str) -> dict | None:
    row = TITLES.get(id_)
    return {"__typename": "Title", "id": id_, "name": row["name"]} if row else None


def _ratings(rep: dict) -> dict | None:
    row = TITLES.get(rep["id"])
    if row is None:
        return None
    return {"__typename": "Title", "id": rep["id"], "score": row["score"], "votes": row["votes"]}


def _studio(rep: dict) -> dict | None:
    row = TITLES.get(rep["id"])
    if row is None:
        return None
    out = {"__typename": row["kind"], "id": rep["id"], "runtime": row["runtime"]}
    out.update(DETAILS[rep["id"]])
    if row["kind"] == "Film":
        out["score"] = STUDIO_SCORE[rep["id"]]
    return out


SUBGRAPHS = {
    "library": Resolvers(
        query={
            "shelf": lambda info: [_library(i) for i in TITLES],
            "title": lambda info, id: _library(id),
        },
        entities={"Title": lambda rep: _library(rep["id"])},
    ),
    "ratings": Resolvers(entities={"Title": _ratings}),
    "studio": Resolvers(entities={"Title": _studio, "Film": _studio, "Episode": _studio}),
}
