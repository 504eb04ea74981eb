from tests.conformance.kit import Resolvers

MEMBERS = {
    "m1": {"id": "m1", "name": "Ines", "cardNumber": "C-1001"},
    "m2": {"id": "m2", "name": "Tom", "cardNumber": "C-1002"},
}
BOOKS = [
    {"isbn": "978-0", "title": "Middlemarch", "pages": 880},
    {"isbn": "978-1", "title": "Siddhartha", "pages": 152},
    {"isbn": "978-2", "title": "Ulysses", "pages": 730},
]
BOOK_BY_ISBN = {b["isbn"]: b for b in BOOKS}
LOANS = [
    {"id": "l1", "dueDate": "2024-03-01", "borrower": "m1", "book": "978-0", "overdue": True},
    {"id": "l2", "dueDate": "2024-05-20", "borrower": "m1", "book": "978-1", "overdue": False},
    {"id": "l3", "dueDate": "2024-02-11", "borrower": "m2", "book": "978-2", "overdue": True},
]
LOAN_BY_ID = {loan["id"]: loan for loan in LOANS}
SHELVES = {"978-0": "F-ELI", "978-1": "F-HES", "978-2": "F-JOY"}


def loan(row: dict) -> dict:
    # the loans subgraph keeps the borrower's name with the loan (what @provides promises)
    return {
        "id": row["id"],
        "dueDate": row["dueDate"],
        "borrower": {"id": row["borrower"], "name": MEMBERS[row["borrower"]]["name"]},
        "book": {"isbn": row["book"]},
    }


def loans_where(field: str, value: str) -> list[dict]:
    return [loan(row) for row in LOANS if row[field] == value]


def branch_book(rep: dict) -> dict:
    out = {"isbn": rep["isbn"], "shelf": SHELVES[rep["isbn"]]}
    if "pages" in rep:
        out["readingDays"] = max(7, rep["pages"] // 40)
    return out


SUBGRAPHS = {
    "members": Resolvers(
        query={"member": lambda info, id: MEMBERS.get(id)},
        entities={"Member": lambda rep: MEMBERS.get(rep["id"])},
    ),
    "loans": Resolvers(
        query={"overdueLoans": lambda info: [loan(r) for r in LOANS if r["overdue"]]},
        entities={
            "Loan": lambda rep: loan(LOAN_BY_ID[rep["id"]]),
            "Member": lambda rep: {"id": rep["id"], "loans": loans_where("borrower", rep["id"])},
            "Book": lambda rep: {"isbn": rep["isbn"], "loans": loans_where("book", rep["isbn"])},
        },
        fields={
            "Member": {"loans": lambda obj, info: loans_where("borrower", obj["id"])},
            "Book": {"loans": lambda obj, info: loans_where("book", obj["isbn"])},
        },
    ),
    "books": Resolvers(
        query={"books": lambda info: BOOKS},
        entities={"Book": lambda rep: BOOK_BY_ISBN.get(rep["isbn"])},
    ),
    "branches": Resolvers(entities={"Book": branch_book}),
}
