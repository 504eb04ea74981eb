"""Query plan nodes: plain immutable data that prints as readable text.

A plan is a tree of Sequence / Parallel / Flatten / Fetch / Condition nodes, the
same vocabulary Apollo's query planner uses, so plans can be compared by eye.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from router.planner.inputs import InputSelection


@dataclass(frozen=True)
class Fetch:
    """One request to one subgraph: a root operation, or `_entities` under a Flatten."""

    id: int
    service: str
    operation: str  # the GraphQL document sent to the subgraph
    operation_kind: str  # "query" | "mutation"
    variable_usages: tuple[str, ...]
    # Entity fetches only: how to build each representation from the data at the
    # flatten path, keyed by the typename the subgraph expects.
    requires: Mapping[str, InputSelection] = field(default_factory=dict)
    # data __typename -> representation __typename (differs for @interfaceObject)
    type_map: Mapping[str, str] = field(default_factory=dict)
    # aliases this operation needed, to rename back in its response (subquery.Renames)
    renames: Mapping[str, Any] | None = None
    # the variable carrying the representations: `representations`, unless the client's
    # operation has a variable of that name (both are sent in the same request)
    entities_variable: str = "representations"


@dataclass(frozen=True)
class Flatten:
    """An entity fetch for the objects at `path` of the response so far."""

    path: tuple[str, ...]  # response keys, "@" for each list level
    node: Fetch


@dataclass(frozen=True)
class Sequence:
    """Nodes run one after the other (each needs what the earlier ones fetched)."""

    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True)
class Parallel:
    """Nodes run at the same time (none needs another's data)."""

    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True)
class Condition:
    """A node run only when the boolean `variable` is true (`if_clause`) or false."""

    variable: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None


@dataclass(frozen=True)
class DeferredPart:
    """One `@defer`red selection: run after the primary part's fetches it `depends` on,
    its data sent to the client as one incremental payload at `path`."""

    label: str | None  # the client's `@defer(label:)`
    path: tuple[str, ...]  # response keys of the deferred fragment's parent, "@" per list
    depends: tuple[int, ...]  # ids of the fetches (primary or deferred) it needs first
    subselection: str  # the deferred selection, as text (for printing and the playground)
    node: PlanNode | None  # its fetches (None: everything it needs is already fetched)


@dataclass(frozen=True)
class Defer:
    """An operation with `@defer`: the primary part answers first, then each deferred
    part, in its own payload."""

    primary_subselection: str  # the non-deferred selection, as text
    primary: PlanNode | None
    deferred: tuple[DeferredPart, ...]


@dataclass(frozen=True)
class Subscribe:
    """A subscription: `primary` is the long-lived subscription fetch to one subgraph;
    `rest` runs once per event it sends, to complete that event like a query."""

    primary: Fetch
    rest: PlanNode | None


PlanNode = Union[Fetch, Flatten, Sequence, Parallel, Condition, Defer, Subscribe]  # noqa: UP007


@dataclass(frozen=True)
class QueryPlan:
    """The plan of one operation (`node` None: nothing to fetch)."""

    node: PlanNode | None

    def __str__(self) -> str:
        return print_plan(self)

    def fetches(self) -> list[Fetch]:
        """Every fetch of the plan, in the order it prints."""
        found: list[Fetch] = []
        _walk(self.node, found)
        return found


def _walk(node: PlanNode | None, found: list[Fetch]) -> None:
    if node is None:
        return
    if isinstance(node, Fetch):
        found.append(node)
    elif isinstance(node, Flatten):
        found.append(node.node)
    elif isinstance(node, Sequence | Parallel):
        for child in node.nodes:
            _walk(child, found)
    elif isinstance(node, Condition):
        _walk(node.if_clause, found)
        _walk(node.else_clause, found)
    elif isinstance(node, Defer):
        _walk(node.primary, found)
        for part in node.deferred:
            _walk(part.node, found)
    elif isinstance(node, Subscribe):
        found.append(node.primary)
        _walk(node.rest, found)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def _print_fetch(fetch: Fetch) -> str:
    body = fetch.operation
    if fetch.requires:
        inputs = "\n".join(f"... on {name} {sel.print()}" for name, sel in fetch.requires.items())
        body = "{\n" + _indent(inputs) + "\n} =>\n" + body
    return f'Fetch(service: "{fetch.service}") {{\n{_indent(body)}\n}}'


def print_node(node: PlanNode) -> str:
    """A plan node as text, in the vocabulary of Apollo's query plans."""
    if isinstance(node, Fetch):
        return _print_fetch(node)
    if isinstance(node, Flatten):
        path = ".".join(node.path)
        return f'Flatten(path: "{path}") {{\n{_indent(print_node(node.node))}\n}}'
    if isinstance(node, Sequence | Parallel):
        name = type(node).__name__
        inner = ",\n".join(print_node(n) for n in node.nodes)
        return f"{name} {{\n{_indent(inner)}\n}}"
    if isinstance(node, Condition):
        parts = []
        if node.if_clause is not None:
            parts.append(f"Include {{\n{_indent(print_node(node.if_clause))}\n}}")
        if node.else_clause is not None:
            parts.append(f"Skip {{\n{_indent(print_node(node.else_clause))}\n}}")
        return f"Condition(if: ${node.variable}) {{\n{_indent(chr(10).join(parts))}\n}}"
    if isinstance(node, Defer):
        return _print_defer(node)
    if isinstance(node, Subscribe):
        rest = "" if node.rest is None else print_node(node.rest)
        primary = f"Primary: {{\n{_indent(print_node(node.primary))}\n}}"
        inner = primary + (f",\nRest: {{\n{_indent(rest)}\n}}" if rest else "")
        return f"Subscription {{\n{_indent(inner)}\n}}"
    raise TypeError(node)


def _print_part(head: str, subselection: str, node: PlanNode | None) -> str:
    body = subselection + (":\n" + print_node(node) if node is not None else "")
    return f"{head} {{\n{_indent(body)}\n}}"


def _print_defer(node: Defer) -> str:
    """Apollo's layout: `Defer { Primary {...}, [ Deferred(...) {...}, ... ] }`."""
    primary = _print_part("Primary", node.primary_subselection, node.primary)
    parts = []
    for part in node.deferred:
        depends = ", ".join(str(i) for i in part.depends)
        attributes = [f"depends: [{depends}]", f'path: "{".".join(part.path)}"']
        if part.label is not None:
            attributes.append(f'label: "{part.label}"')
        head = f"Deferred({', '.join(attributes)})"
        parts.append(_print_part(head, part.subselection, part.node))
    deferred = "[\n" + _indent(",\n".join(parts)) + ",\n]" if parts else "[]"
    return f"Defer {{\n{_indent(primary + ', ' + deferred)}\n}}"


def print_plan(plan: QueryPlan) -> str:
    """The plan as text: `QueryPlan { ... }`."""
    if plan.node is None:
        return "QueryPlan {}"
    return "QueryPlan {\n" + _indent(print_node(plan.node)) + "\n}"
