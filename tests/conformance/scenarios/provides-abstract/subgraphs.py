from tests.conformance.kit import Resolvers

ITEMS = {
    "b1": {"__typename": "Book", "id": "b1", "title": "Dune", "author": "Herbert"},
    "f1": {"__typename": "Film", "id": "f1", "title": "Alien", "year": 1979, "director": "Scott"},
    "b2": {"__typename": "Book", "id": "b2", "title": "Emma", "author": "Austen"},
}
ORDER = ["b1", "f1", "b2"]


def feed_copy(item_id: str) -> dict:
    """The feed's stored copy; provided values end in '*' to show where they came from."""
    item = ITEMS[item_id]
    copy = {"__typename": item["__typename"], "id": item_id, "title": item["title"] + "*"}
    if "year" in item:
        copy["year"] = item["year"]
    return copy


SUBGRAPHS = {
    "catalog": Resolvers(
        entities={
            "Book": lambda rep: ITEMS.get(rep["id"]),
            "Film": lambda rep: ITEMS.get(rep["id"]),
        }
    ),
    "feed": Resolvers(
        query={
            "featured": lambda info: [feed_copy(i) for i in ORDER],
            "picks": lambda info: [feed_copy("f1"), feed_copy("b2")],
            "everything": lambda info: [
                {"__typename": ITEMS[i]["__typename"], "id": i} for i in ORDER
            ],
        }
    ),
}
