"""Poems and recordings: `@provides` on union-typed fields.

metadata owns titles; curation keeps copies (ending in `*`) for its shared `media` field
and for recordings in `picks`. archive also answers `media`, without titles.
"""

from tests.conformance.kit import Resolvers

MEDIA = {
    "m1": {"__typename": "Poem", "title": "Ozymandias", "lines": 14},
    "m2": {"__typename": "Recording", "title": "Blue in Green", "seconds": 337},
    "m3": {"__typename": "Poem", "title": "The Red Wheelbarrow", "lines": 8},
}


def _ref(id_: str) -> dict:
    return {"__typename": MEDIA[id_]["__typename"], "id": id_}


def _curated(id_: str, types: tuple[str, ...]) -> dict:
    out = _ref(id_)
    if out["__typename"] in types:
        out["title"] = MEDIA[id_]["title"] + "*"
    return out


def _metadata(rep: dict) -> dict | None:
    row = MEDIA.get(rep["id"])
    return row and {"id": rep["id"], **row}


SUBGRAPHS = {
    "archive": Resolvers(query={"media": lambda info: [_ref(i) for i in MEDIA]}),
    "curation": Resolvers(
        query={
            "media": lambda info: [_curated(i, ("Poem", "Recording")) for i in MEDIA],
            "picks": lambda info: [_curated(i, ("Recording",)) for i in ("m2", "m3")],
        },
    ),
    "metadata": Resolvers(entities={"Poem": _metadata, "Recording": _metadata}),
}
