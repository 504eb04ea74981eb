from tests.conformance.kit import Resolvers

IDS = [f"p{n:02d}" for n in range(1, 51)]
NAMES = {pid: f"Product {int(pid[1:])}" for pid in IDS}
BESTSELLERS = [IDS[n % 10] for n in range(50)]
GRID = [[IDS[0], IDS[1], None], [], [IDS[1], IDS[2]], [None]]
CATEGORIES = [("kitchen", IDS[0:3]), ("garden", IDS[2:5]), ("empty", [])]


def product(pid: str) -> dict:
    return {"id": pid, "name": NAMES[pid]}


def price(obj: dict, info) -> int:
    return 100 * int(obj["id"][1:])


def related(obj: dict, info) -> list[dict]:
    n = int(obj["id"][1:])
    return [{"id": IDS[(n + k) % 50]} for k in (1, 2)]


SUBGRAPHS = {
    "catalog": Resolvers(
        query={
            "catalog": lambda info: [product(p) for p in IDS],
            "bestsellers": lambda info: [product(p) for p in BESTSELLERS],
            "grid": lambda info: [[product(p) if p else None for p in row] for row in GRID],
            "categories": lambda info: [
                {"name": name, "products": [product(p) for p in ids]} for name, ids in CATEGORIES
            ],
        },
        entities={"Product": lambda rep: product(rep["id"])},
    ),
    "pricing": Resolvers(fields={"Product": {"price": price, "related": related}}),
    "stock": Resolvers(
        entities={"Product": lambda rep: {"id": rep["id"], "inStock": int(rep["id"][1:]) % 3 != 0}}
    ),
}
