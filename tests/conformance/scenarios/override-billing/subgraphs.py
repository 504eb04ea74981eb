"""Billing took over balances, plans and the account count from accounts.

The accounts subgraph still has its old resolvers, which answer with stale
values (a balance of -1, a "Legacy" plan, a count of 0): a router that asks
accounts for an overridden field gives a visibly different answer.
"""

from tests.conformance.kit import Resolvers

ACCOUNTS = {
    "a1": {"name": "Ada", "balanceCents": 1500, "plan": ("Pro", 2900)},
    "a2": {"name": "Grace", "balanceCents": -420, "plan": None},
    "a3": {"name": "Linus", "balanceCents": 0, "plan": ("Basic", 900)},
}
ORDER = ["a1", "a2", "a3"]
INVOICES = [
    {"number": "INV-1", "amountCents": 2900, "account": "a1"},
    {"number": "INV-2", "amountCents": 900, "account": "a3"},
    {"number": "INV-3", "amountCents": 2900, "account": "a1"},
]


def _legacy_account(account_id: str) -> dict | None:
    row = ACCOUNTS.get(account_id)
    if row is None:
        return None
    return {"id": account_id, "name": row["name"], "balanceCents": -1,
            "plan": {"name": "Legacy", "monthlyCents": 0}}


def _plan(account_id: str) -> dict | None:
    plan = ACCOUNTS[account_id]["plan"]
    return plan and {"name": plan[0], "monthlyCents": plan[1]}


def _invoice(row: dict) -> dict:
    return {"number": row["number"], "amountCents": row["amountCents"],
            "account": _billing_account(row["account"])}


def _billing_account(account_id: str) -> dict | None:
    if account_id not in ACCOUNTS:
        return None
    return {
        "id": account_id,
        "balanceCents": ACCOUNTS[account_id]["balanceCents"],
        "plan": _plan(account_id),
        "invoices": [
            {"number": row["number"], "amountCents": row["amountCents"],
             "account": {"id": account_id}}
            for row in INVOICES if row["account"] == account_id
        ],
    }


SUBGRAPHS = {
    "accounts": Resolvers(
        query={
            "accounts": lambda info: [_legacy_account(key) for key in ORDER],
            "account": lambda info, id: _legacy_account(id),
            "accountCount": lambda info: 0,
        },
        entities={"Account": lambda rep: _legacy_account(rep["id"])},
    ),
    "billing": Resolvers(
        query={
            "invoices": lambda info: [_invoice(row) for row in INVOICES],
            "accountCount": lambda info: len(ACCOUNTS),
        },
        entities={"Account": lambda rep: _billing_account(rep["id"])},
        fields={"Invoice": {"account": lambda obj, info: _billing_account(obj["account"]["id"])}},
    ),
}
