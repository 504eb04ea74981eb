"""Recipes: a requirement chain that goes kitchen -> cookbook -> kitchen -> cookbook -> kitchen.

kitchen's `challenge` requires cookbook's `forBeginners`, which requires the chef's
`yearsCooking` owned by kitchen again. Derived resolvers raise when the requirement is
missing from the representation, so a skipped hop is an error rather than a guess.
"""

from tests.conformance.kit import Resolvers

RECIPES = {
    "rc1": {"title": "Shakshuka", "chef": "ch1"},
    "rc2": {"title": "Croissants", "chef": "ch2"},
    "rc3": {"title": "Omelette", "chef": "ch1"},
}
CHEFS = {"ch1": {"name": "Noor", "yearsCooking": 2}, "ch2": {"name": "Pierre", "yearsCooking": 25}}


def _kitchen_recipe(rep: dict) -> dict | None:
    row = RECIPES.get(rep["id"])
    if row is None:
        return None
    return {"id": rep["id"], "title": row["title"], "_rep": rep}


def _challenge(obj: dict, info: object) -> str:
    if "forBeginners" not in obj["_rep"]:
        raise ValueError("challenge needs forBeginners")
    return "easy" if obj["_rep"]["forBeginners"] else "hard"


def _cookbook_recipe(rep: dict) -> dict | None:
    row = RECIPES.get(rep["id"])
    if row is None:
        return None
    return {"id": rep["id"], "chef": {"id": row["chef"]}, "_rep": rep}


def _for_beginners(obj: dict, info: object) -> bool:
    chef = obj["_rep"].get("chef")
    if not chef or "yearsCooking" not in chef:
        raise ValueError("forBeginners needs chef { yearsCooking }")
    return chef["yearsCooking"] < 5


SUBGRAPHS = {
    "kitchen": Resolvers(
        query={"menu": lambda info: [_kitchen_recipe({"id": i}) for i in RECIPES]},
        entities={
            "Recipe": _kitchen_recipe,
            "Chef": lambda rep: (
                {"id": rep["id"], **CHEFS[rep["id"]]} if rep["id"] in CHEFS else None
            ),
        },
        fields={"Recipe": {"challenge": _challenge}},
    ),
    "cookbook": Resolvers(
        query={"recipe": lambda info, id: _cookbook_recipe({"id": id})},
        entities={"Recipe": _cookbook_recipe},
        fields={"Recipe": {"forBeginners": _for_beginners}},
    ),
}
