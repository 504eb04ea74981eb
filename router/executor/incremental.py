"""Run a `@defer` plan as a stream of payloads (Apollo's `deferSpec=20220824` format).

The primary part runs first and is sent as `{"data": ..., "hasNext": true}`; each
deferred part then starts (concurrently with the others) once the part it is nested in
has been delivered, and is sent, as soon as its fetches are done, as
`{"incremental": [{"data", "path", "label"?, "errors"?}, ...], "hasNext": ...}`: one item
per object at its path (a fragment deferred inside a list is delivered for every item).
Every part's fetches merge into the same subgraph data, so a deferred entity fetch reads
the keys the primary fetched; each item is projected by the fragment's own compiled
shape, so a non-null violation inside it nulls that item only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from router.executor.execute import _execute, _Run
from router.executor.fetcher import SubgraphFetcher
from router.executor.trace import TraceRecorder
from router.planner.defer import ShapedDefer, ShapedPart
from router.planner.nodes import Condition, DeferredPart, PlanNode, QueryPlan

Path = tuple[str | int, ...]
# (data, errors) of the introspection fields, answered by the router itself
Introspection = tuple[dict[str, Any], tuple[dict[str, Any], ...]]


def deferred_node(plan: QueryPlan, variables: Mapping[str, Any]) -> ShapedDefer | None:
    """The Defer node a request with these variables runs (an `if: $var` chooses between
    plans), or None when its plan defers nothing."""
    node: PlanNode | None = plan.node
    while isinstance(node, Condition):
        # a variable left out of a nullable `if` takes the argument's default: true
        node = node.if_clause if variables.get(node.variable, True) else node.else_clause
    return node if isinstance(node, ShapedDefer) else None


class _Parts:
    """The deferred parts under way and what they have produced so far."""

    def __init__(self, defer: ShapedDefer) -> None:
        self.defer = defer
        self.children: dict[int | None, list[int]] = {}
        for index, part in enumerate(defer.deferred):
            parent = part.parent if isinstance(part, ShapedPart) else None
            self.children.setdefault(parent, []).append(index)
        self.tasks: dict[asyncio.Task[_Run], int] = {}

    def start(self, parent: int | None, run: _Run, trace: TraceRecorder | None) -> None:
        """Start the parts nested in `parent` (None: the primary's)."""
        for index in self.children.get(parent, ()):
            part = self.defer.deferred[index]
            part_run = _Run(run.client, run.variables, run.headers)
            part_run.data = run.data  # one response: entity fetches read earlier keys
            if trace is not None:
                part_run.trace = trace.part(part.label or ".".join(part.path))
            task = asyncio.create_task(_run_part(part.node, part_run))
            self.tasks[task] = index

    async def cancel(self) -> None:
        """Stop every part still running (the client went away) and wait for them."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()


async def _run_part(node: PlanNode | None, run: _Run) -> _Run:
    if node is not None:
        await _execute(node, run)
    return run


async def stream_defer(
    defer: ShapedDefer,
    client: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    introspection: Introspection | None = None,
    trace: TraceRecorder | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """The payloads of one request whose plan is `defer`, in the order they are ready;
    closing the iterator early cancels the fetches still running."""
    run = _Run(client, variables, headers)
    if trace is not None:
        run.trace = trace
    if defer.primary is not None:
        await _execute(defer.primary, run)
    first, client_data = _primary_payload(defer, run, introspection)
    # the client's view, which items merge into (to find nested parts' objects): a copy,
    # as the payloads already handed out must not change
    client_data = None if client_data is None else orjson.loads(orjson.dumps(client_data))
    parts = _Parts(defer)
    if client_data is not None:
        parts.start(None, run, trace)
    first["hasNext"] = bool(parts.tasks)
    if trace is not None:
        first.setdefault("extensions", {})["trace"] = trace.as_json()
    try:
        yield first
        while parts.tasks:
            done, _ = await asyncio.wait(parts.tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=parts.tasks.__getitem__):
                index = parts.tasks.pop(task)
                payload = _part_payload(defer.deferred[index], task.result(), client_data)
                parts.start(index, run, trace)
                payload["hasNext"] = bool(parts.tasks)
                if payload.get("incremental") or payload.get("errors") or not parts.tasks:
                    yield payload
    finally:
        await parts.cancel()


def _primary_payload(
    defer: ShapedDefer, run: _Run, introspection: Introspection | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The first payload, and the client's data the deferred items will merge into."""
    assert defer.primary_shape is not None
    errors = list(run.errors)
    if introspection is not None:
        errors.extend(introspection[1])
    data, completion = defer.primary_shape.shape(
        run.data, run.variables, introspection[0] if introspection else None
    )
    payload: dict[str, Any] = {}
    if errors:
        payload["errors"] = errors
    payload["data"] = data
    if completion and not errors:
        payload["extensions"] = {"valueCompletion": completion}
    return payload, data


def _part_payload(part: DeferredPart, run: _Run, client_data: dict[str, Any]) -> dict[str, Any]:
    """One deferred part's payload: an item per object at its path the client has (the
    items merged into `client_data`, for the parts nested in it), its fetch errors on
    the item they concern."""
    assert isinstance(part, ShapedPart) and part.shape is not None
    items: list[dict[str, Any]] = []
    completion: list[dict[str, Any]] = []
    for where, target in _objects(client_data, part.path):
        raw = _raw_at(run.data, where)
        if not isinstance(raw, dict) or not part.shape.applies(raw):
            continue
        value, problems = part.shape.shape(raw, run.variables, list(where))
        completion.extend(problems)
        if value is not None:
            _merge(target, orjson.loads(orjson.dumps(value)))
        item: dict[str, Any] = {"data": value, "path": list(where)}
        if part.label is not None:
            item["label"] = part.label
        items.append(item)
    payload: dict[str, Any] = {"incremental": items}
    leftover = _attach_errors(items, run.errors)
    if leftover:
        payload["errors"] = leftover
    extensions: dict[str, Any] = {}
    if completion and not run.errors:
        extensions["valueCompletion"] = completion
    part_trace = getattr(run, "trace", None)
    if part_trace is not None:
        extensions["trace"] = part_trace.as_json()
    if extensions:
        payload["extensions"] = extensions
    return payload


def _attach_errors(items: list[dict[str, Any]], errors: list[dict[str, Any]]) -> list[Any]:
    """Put each error on the item whose path its own path starts with (else the first
    item); those left when there is no item at all."""
    if not items:
        return list(errors)
    for error in errors:
        path = error.get("path") or []
        owner = next(
            (i for i in items if path[: len(i["path"])] == i["path"]),
            items[0],
        )
        owner.setdefault("errors", []).append(error)
    return []


def _objects(data: Any, path: tuple[str, ...]) -> list[tuple[Path, dict[str, Any]]]:
    """The client's objects at `path` ("@" walks into lists), with their paths."""
    current: list[tuple[Path, Any]] = [((), data)]
    for key in path:
        following: list[tuple[Path, Any]] = []
        for where, value in current:
            if key == "@":
                if isinstance(value, list):
                    following.extend(((*where, i), v) for i, v in enumerate(value))
            elif isinstance(value, dict) and value.get(key) is not None:
                following.append(((*where, key), value[key]))
        current = following
    return [(where, value) for where, value in current if isinstance(value, dict)]


def _raw_at(data: Any, where: Path) -> Any:
    """The subgraph data at a response path."""
    for step in where:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and step < len(data) else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
    return data


def _merge(target: dict[str, Any], value: dict[str, Any]) -> None:
    """Deep-merge a delivered item into the client's data (iteratively)."""
    pending = [(target, value)]
    while pending:
        into, source = pending.pop()
        for key, item in source.items():
            current = into.get(key)
            if isinstance(current, dict) and isinstance(item, dict):
                pending.append((current, item))
            elif isinstance(current, list) and isinstance(item, list) and len(current) == len(item):
                for mine, theirs in zip(current, item, strict=True):
                    if isinstance(mine, dict) and isinstance(theirs, dict):
                        pending.append((mine, theirs))
            else:
                into[key] = item
