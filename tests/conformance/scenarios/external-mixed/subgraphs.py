from tests.conformance.kit import Resolvers

KITCHENS = {"k1": "Garde manger", "k2": "Pastry"}
DISHES = [
    {"id": "d1", "name": "Leek soup", "price": 700, "kitchen": {"code": "k1"}},
    {"id": "d2", "name": "Tarte tatin", "price": 900, "kitchen": {"code": "k2"}},
    {"id": "d3", "name": "Nicoise salad", "price": 1200, "kitchen": {"code": "k1"}},
]
DISH_BY_ID = {d["id"]: d for d in DISHES}
NUTRITION = {"d1": (180, []), "d2": (420, ["gluten", "egg", "milk"]), "d3": (350, ["fish", "egg"])}
SPECIALS = [("Monday", "d3"), ("Sunday", "d2")]


def nutrition(rep: dict) -> dict:
    calories, allergens = NUTRITION[rep["id"]]
    return {"id": rep["id"], "calories": calories, "allergens": allergens}


def bulk_price(obj: dict, info, quantity: int) -> int:
    # ten percent off from ten portions on
    total = obj["price"] * quantity
    return total * 9 // 10 if quantity >= 10 else total


SUBGRAPHS = {
    "menu": Resolvers(
        query={"dishes": lambda info: DISHES},
        entities={
            "Dish": lambda rep: DISH_BY_ID.get(rep["id"]),
            "Kitchen": lambda rep: {"code": rep["code"], "name": KITCHENS[rep["code"]]},
        },
        fields={"Kitchen": {"name": lambda obj, info: KITCHENS[obj["code"]]}},
    ),
    "nutrition": Resolvers(entities={"Dish": nutrition}),
    "orders": Resolvers(
        query={
            "specials": lambda info: [
                # the orders subgraph keeps the dish name it provides, marked with '*'
                {"label": label, "dish": {"id": d, "name": DISH_BY_ID[d]["name"] + "*"}}
                for label, d in SPECIALS
            ]
        },
        fields={"Dish": {"bulkPrice": bulk_price}},
    ),
}
