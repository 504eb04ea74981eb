"""A query plan as JSON-ready data, for the playground's plan diagram.

The shape is the contract between the router and the playground (one dict per node,
`kind` naming it); it is built with an explicit stack, so a deep plan costs no recursion.
"""

from __future__ import annotations

from typing import Any

from router.planner.nodes import (
    Condition,
    Defer,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    QueryPlan,
    Sequence,
    Subscribe,
)

Json = dict[str, Any]
# A node still to convert, and where its dict goes: (node, container, key).
_Pending = tuple[PlanNode, Any, Any]


def plan_json(plan: QueryPlan) -> Json:
    """`{"kind": "QueryPlan", "node": N | None}`, each node as its dict (see the module)."""
    out: Json = {"kind": "QueryPlan", "node": None}
    if plan.node is None:
        return out
    stack: list[_Pending] = [(plan.node, out, "node")]
    while stack:
        node, container, key = stack.pop()
        container[key] = _node_json(node, stack)
    return out


def _fetch_json(fetch: Fetch, entities: bool) -> Json:
    return {
        "kind": "Fetch",
        "id": fetch.id,
        "service": fetch.service,
        "operation": fetch.operation,
        "entities": entities,
    }


def _later(node: PlanNode | None, container: Any, key: Any, stack: list[_Pending]) -> None:
    """Leave `container[key]` None for now; `node`'s dict goes there when its turn comes."""
    if node is not None:
        stack.append((node, container, key))


def _children(nodes: tuple[PlanNode, ...], stack: list[_Pending]) -> list[Any]:
    """A list of placeholders, each filled in when its node's turn comes on `stack`."""
    slots: list[Any] = [None] * len(nodes)
    for index, child in enumerate(nodes):
        _later(child, slots, index, stack)
    return slots


def _node_json(node: PlanNode, stack: list[_Pending]) -> Json:
    """The dict of `node` itself; its children are pushed on `stack` to fill in later."""
    if isinstance(node, Fetch):
        return _fetch_json(node, False)
    if isinstance(node, Flatten):
        return {"kind": "Flatten", "path": list(node.path), "node": _fetch_json(node.node, True)}
    if isinstance(node, Sequence | Parallel):
        return {"kind": type(node).__name__, "nodes": _children(node.nodes, stack)}
    if isinstance(node, Condition):
        out: Json = {"kind": "Condition", "variable": node.variable, "if": None, "else": None}
        _later(node.if_clause, out, "if", stack)
        _later(node.else_clause, out, "else", stack)
        return out
    if isinstance(node, Defer):
        return _defer_json(node, stack)
    if isinstance(node, Subscribe):
        out = {"kind": "Subscription", "primary": _fetch_json(node.primary, False), "rest": None}
        _later(node.rest, out, "rest", stack)
        return out
    raise TypeError(f"not a plan node: {type(node).__name__}")


def _defer_json(node: Defer, stack: list[_Pending]) -> Json:
    out: Json = {
        "kind": "Defer",
        "primary": None,
        "primarySubselection": node.primary_subselection,
        "deferred": [],
    }
    _later(node.primary, out, "primary", stack)
    for part in node.deferred:
        entry: Json = {
            "label": part.label,
            "path": list(part.path),
            "depends": list(part.depends),
            "subselection": part.subselection,
            "node": None,
        }
        _later(part.node, entry, "node", stack)
        out["deferred"].append(entry)
    return out
