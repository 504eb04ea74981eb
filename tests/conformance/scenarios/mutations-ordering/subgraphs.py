"""A cart, named counters and a product catalog, all with mutations.

Every mutation, whichever subgraph it lands in, takes the next number from one
shared step counter and reports it, so the order in which the router ran the
top-level mutation fields is visible in the response. Every case starts with a
reset (`clearCart`, `resetCounter`, `setPrice`) so that it does not depend on
earlier runs.
"""

import itertools

from tests.conformance.kit import Resolvers

NAMES = {"tea": "Green tea", "pot": "Teapot", "cup": "Cup"}
PRICES = {"tea": 650, "pot": 3200, "cup": 900}
_steps = itertools.count(1)
_step_base = {"value": 0}
_cart: dict[str, int] = {}
_counters: dict[str, int] = {}


def _step() -> int:
    return next(_steps) - _step_base["value"]


def _restart_steps() -> None:
    """A cart reset also restarts the shared step numbering."""
    _step_base["value"] = next(_steps)


def _cart_view() -> dict:
    return {"itemCount": sum(_cart.values()),
            "lines": [{"quantity": qty, "product": {"sku": sku}} for sku, qty in _cart.items()]}


def _clear_cart(info) -> dict:
    _cart.clear()
    _restart_steps()
    return _cart_view()


def _add_item(info, sku: str, quantity: int) -> dict:
    step = _step()
    if sku not in NAMES:
        return {"step": step, "cart": _cart_view(), "error": f"unknown product {sku}"}
    _cart[sku] = _cart.get(sku, 0) + quantity
    return {"step": step, "cart": _cart_view(), "error": None}


def _remove_item(info, sku: str) -> dict:
    step = _step()
    if sku not in _cart:
        return {"step": step, "cart": _cart_view(), "error": f"{sku} is not in the cart"}
    del _cart[sku]
    return {"step": step, "cart": _cart_view(), "error": None}


def _reset_counter(info, name: str) -> dict:
    _counters[name] = 0
    return {"name": name, "value": 0, "step": _step()}


def _increment(info, name: str, by: int) -> dict:
    _counters[name] = _counters.get(name, 0) + by
    return {"name": name, "value": _counters[name], "step": _step()}


def _product(sku: str) -> dict | None:
    return {"sku": sku, "name": NAMES[sku], "priceCents": PRICES[sku]} if sku in NAMES else None


def _set_price(info, sku: str, priceCents: int) -> dict | None:
    if sku not in PRICES:
        return None
    if priceCents < 0:
        raise ValueError("priceCents must not be negative")
    PRICES[sku] = priceCents
    return _product(sku)


SUBGRAPHS = {
    "cart": Resolvers(
        query={"cart": lambda info: _cart_view()},
        mutation={"clearCart": _clear_cart, "addItem": _add_item, "removeItem": _remove_item},
    ),
    "counters": Resolvers(
        query={"counter": lambda info, name: _counters.get(name, 0)},
        mutation={"resetCounter": _reset_counter, "increment": _increment},
    ),
    "catalog": Resolvers(
        query={"product": lambda info, sku: _product(sku)},
        mutation={"setPrice": _set_price},
        entities={"Product": lambda rep: _product(rep["sku"])},
    ),
}
