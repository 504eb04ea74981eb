"""Nested `@provides`: browse keeps category names two levels deep (copies end in `*`).

taxonomy owns categories; index owns the sku. Anything taxonomy answers for a provided
name has no `*`, so the answer shows where each value came from.
"""

from tests.conformance.kit import Resolvers

CATEGORIES = {
    "c1": ("Outdoor", ["c2", "c3"], 12),
    "c2": ("Tents", [], 5),
    "c3": ("Stoves", ["c4"], 4),
    "c4": ("Gas stoves", [], 2),
    "c5": ("Kitchen", ["c3"], 9),
}
PRODUCTS = {"p1": ("SKU-TENT", ["c1"]), "p2": ("SKU-STOVE", ["c1", "c5"])}


def _browse_category(id_: str, depth: int) -> dict:
    name, subs, _count = CATEGORIES[id_]
    out = {"id": id_, "name": name + "*"}
    if depth == 0:
        out["subcategories"] = [_browse_category(s, 1) for s in subs]
    return out


def _taxonomy_category(id_: str) -> dict:
    name, subs, count = CATEGORIES[id_]
    return {
        "id": id_,
        "name": name,
        "productCount": count,
        "subcategories": [_taxonomy_category(s) for s in subs],
    }


SUBGRAPHS = {
    "index": Resolvers(
        entities={"Product": lambda rep: {"id": rep["id"], "sku": PRODUCTS[rep["id"]][0]}}
    ),
    "browse": Resolvers(
        query={
            "products": lambda info: [
                {"id": p, "categories": [_browse_category(c, 0) for c in cats]}
                for p, (_sku, cats) in PRODUCTS.items()
            ]
        },
    ),
    "taxonomy": Resolvers(
        entities={
            "Product": lambda rep: {
                "id": rep["id"],
                "categories": [_taxonomy_category(c) for c in PRODUCTS[rep["id"]][1]],
            },
            "Category": lambda rep: (
                _taxonomy_category(rep["id"]) if rep["id"] in CATEGORIES else None
            ),
        }
    ),
}
