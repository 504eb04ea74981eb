"""A listing whose pets' names are provided by the shelter, the rest owned by vets.

shelter's `featured` provides `pets { id name }` on an interface-typed list; `Adoption`
has no key in shelter and `Dog`/`Cat` none either, so a field the provides does not cover
(`Cat.indoor`, `Dog.vaccinated`) is fetched through the parent `Adoption` from vets.
listings serves the same `featured` by key only: taking it would cost a fetch of every
pet field from vets, which the request counts of the cases rule out.
"""

from tests.conformance.kit import Resolvers

PETS = {
    "d1": {"__typename": "Dog", "id": "d1", "name": "Biscuit", "vaccinated": True},
    "c1": {"__typename": "Cat", "id": "c1", "name": "Miso", "indoor": True},
    "c2": {"__typename": "Cat", "id": "c2", "name": "Pepper", "indoor": False},
}
ADOPTIONS = {"ad1": ["d1", "c1", "c2"]}


def _card(id_: str) -> dict:
    keep = ("__typename", "id", "name")
    return {k: v for k, v in PETS[id_].items() if k in keep}


def _vets_adoption(rep: dict) -> dict | None:
    pets = ADOPTIONS.get(rep["id"])
    if pets is None:
        return None
    return {"__typename": "Adoption", "id": rep["id"], "pets": [PETS[p] for p in pets]}


SUBGRAPHS = {
    "shelter": Resolvers(
        query={
            "featured": lambda info: {
                "__typename": "Adoption",
                "id": "ad1",
                "pets": [_card(p) for p in ADOPTIONS["ad1"]],
            }
        },
    ),
    "listings": Resolvers(
        query={"featured": lambda info: {"__typename": "Adoption", "id": "ad1"}},
        entities={"Adoption": lambda rep: {"__typename": "Adoption", "id": rep["id"]}},
    ),
    "vets": Resolvers(
        entities={
            "Adoption": _vets_adoption,
            "Dog": lambda rep: PETS.get(rep["id"]),
            "Cat": lambda rep: PETS.get(rep["id"]),
        }
    ),
}
