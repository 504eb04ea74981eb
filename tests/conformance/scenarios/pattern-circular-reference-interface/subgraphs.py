"""Stock media: the `Asset` interface refers to itself from both subgraphs.

media's `related` and pricing's `samePrice` each return another asset, so selections
alternate between the two subgraphs at every level.
"""

from tests.conformance.kit import Resolvers

ASSETS = {
    "ph1": ("Photo", "Harbour at dawn", 24, 30, "cl1", "cl2"),
    "cl1": ("Clip", "Waves, slow motion", 12, 30, "ph2", "ph1"),
    "ph2": ("Photo", "Lighthouse", 12, 15, None, "cl2"),
    "cl2": ("Clip", "Gulls", 8, 15, "ph1", "ph2"),
}


def _media(id_: str) -> dict | None:
    if id_ not in ASSETS:
        return None
    kind, caption, size, _price, related, _same = ASSETS[id_]
    out = {"__typename": kind, "id": id_, "caption": caption, "relatedId": related}
    out["megapixels" if kind == "Photo" else "seconds"] = size
    return out


def _pricing(rep: dict) -> dict | None:
    if rep["id"] not in ASSETS:
        return None
    kind, _c, _s, price, _r, same = ASSETS[rep["id"]]
    return {"__typename": kind, "id": rep["id"], "price": price, "samePriceId": same}


def _related(obj: dict, info: object) -> dict | None:
    return _media(obj["relatedId"]) if obj["relatedId"] else None


def _same_price(obj: dict, info: object) -> dict | None:
    return _pricing({"id": obj["samePriceId"]}) if obj["samePriceId"] else None


SUBGRAPHS = {
    "media": Resolvers(
        query={"asset": lambda info, id: _media(id)},
        entities={"Photo": lambda rep: _media(rep["id"]), "Clip": lambda rep: _media(rep["id"])},
        fields={"Photo": {"related": _related}, "Clip": {"related": _related}},
    ),
    "pricing": Resolvers(
        entities={"Photo": _pricing, "Clip": _pricing},
        fields={"Photo": {"samePrice": _same_price}, "Clip": {"samePrice": _same_price}},
    ),
}
