"""Run a `@defer` plan as a stream of payloads (Apollo's `deferSpec=20220824` format).

The primary part runs first and is sent as `{"data": ..., "hasNext": true}`; each
deferred part then starts (concurrently with the others) once the part it is nested in
has been delivered, and is sent, as soon as its fetches are done, as
`{"incremental": [{"data", "path", "label"?, "errors"?}, ...], "hasNext": ...}`: one item
per object at its path (a fragment deferred inside a list is delivered for every item).
Every part's fetches merge into the same subgraph data, so a deferred entity fetch reads
the keys the primary fetched; each item is projected by the fragment's own compiled
shape, so a non-null violation inside it nulls that item only.

A part whose @skip/@include variables exclude it for this request is not delivered, nor
fetched (unless a part delivered after it needs its fetches: they then run, unsent);
when that leaves no part at all, the request is answered at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from router.executor.execute import execute_into
from router.executor.fetcher import SubgraphFetcher
from router.executor.shape import included
from router.executor.trace import TraceRecorder
from router.planner.defer import ShapedDefer, ShapedPart
from router.planner.nodes import Condition, DeferredPart, PlanNode, QueryPlan

Path = tuple[str | int, ...]
# (data, errors) of the introspection fields, answered by the router itself
Introspection = tuple[dict[str, Any], tuple[dict[str, Any], ...]]


def deferred_node(plan: QueryPlan, variables: Mapping[str, Any]) -> ShapedDefer | None:
    """The Defer node a request with these variables runs (an `if: $var` chooses between
    plans), or None when its plan defers nothing, or @skip/@include exclude every
    deferred part."""
    node: PlanNode | None = plan.node
    while isinstance(node, Condition):
        # a variable left out of a nullable `if` takes the argument's default: true
        node = node.if_clause if variables.get(node.variable, True) else node.else_clause
    if not isinstance(node, ShapedDefer):
        return None
    if any(_selected(part, variables) for part in node.deferred):
        return node
    return None


def _selected(part: DeferredPart, variables: Mapping[str, Any]) -> bool:
    """Whether the client selects the deferred fragment with these variables."""
    return not isinstance(part, ShapedPart) or included(part.conditions, variables)


@dataclass
class _Request:
    """One request's execution: where fetches go, and the subgraph data every part's
    fetches merge into."""

    client: SubgraphFetcher
    variables: Mapping[str, Any]
    headers: Mapping[str, str] | None
    data: dict[str, Any] = field(default_factory=dict)

    async def run(
        self, node: PlanNode | None, trace: TraceRecorder | None
    ) -> tuple[list[dict[str, Any]], TraceRecorder | None]:
        """Run `node` (if any): the errors its fetches reported, and its recorder."""
        if node is None:
            return [], trace
        errors = await execute_into(
            node, self.data, self.client, self.variables, self.headers, trace
        )
        return errors, trace


class _Parts:
    """The deferred parts under way."""

    def __init__(self, defer: ShapedDefer, request: _Request, trace: TraceRecorder | None) -> None:
        self.defer = defer
        self.request = request
        self.trace = trace
        self.children: dict[int | None, list[int]] = {}
        for index, part in enumerate(defer.deferred):
            parent = part.parent if isinstance(part, ShapedPart) else None
            self.children.setdefault(parent, []).append(index)
        self.tasks: dict[asyncio.Task[tuple[list[Any], TraceRecorder | None]], int] = {}
        self.sent = [_selected(part, request.variables) for part in defer.deferred]
        self.runs = self._running()

    def _running(self) -> list[bool]:
        """Per part, whether it runs: it is sent, or a part started after it is (a part
        comes after those it starts after, so one pass from the end settles it)."""
        runs = list(self.sent)
        for index in reversed(range(len(runs))):
            if not runs[index]:
                runs[index] = any(runs[c] for c in self.children.get(index, ()))
        return runs

    def start(self, parent: int | None) -> None:
        """Start the parts nested in `parent` (None: the primary's) that run."""
        for index in self.children.get(parent, ()):
            if not self.runs[index]:
                continue
            part = self.defer.deferred[index]
            trace = None
            if self.trace is not None:
                trace = self.trace.part(part.label or ".".join(part.path))
            task = asyncio.create_task(self.request.run(part.node, trace))
            self.tasks[task] = index

    async def cancel(self) -> None:
        """Stop every part still running (the client went away) and wait for them."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()


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
    request = _Request(client, variables, headers)
    errors, _ = await request.run(defer.primary, trace)
    first, client_data = _primary_payload(defer, request, errors, introspection)
    parts = _Parts(defer, request, trace)
    if client_data is not None:
        # the client's view, which items merge into (to find nested parts' objects): a
        # copy, as the payloads already handed out must not change
        client_data = orjson.loads(orjson.dumps(client_data))
        parts.start(None)
    first["hasNext"] = bool(parts.tasks)
    if trace is not None:
        first.setdefault("extensions", {})["trace"] = trace.as_json()
    try:
        yield first
        while parts.tasks:
            done, _ = await asyncio.wait(parts.tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=parts.tasks.__getitem__):
                index = parts.tasks.pop(task)
                part_errors, part_trace = task.result()
                part = defer.deferred[index]
                payload: dict[str, Any] = {}
                if parts.sent[index]:
                    payload = _part_payload(part, request, part_errors, part_trace, client_data)
                parts.start(index)
                payload["hasNext"] = bool(parts.tasks)
                if payload.get("incremental") or payload.get("errors") or not parts.tasks:
                    yield payload
    finally:
        await parts.cancel()


def _primary_payload(
    defer: ShapedDefer,
    request: _Request,
    errors: list[dict[str, Any]],
    introspection: Introspection | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The first payload, and the client's data the deferred items will merge into."""
    assert defer.primary_shape is not None
    if introspection is not None:
        errors = [*errors, *introspection[1]]
    data, completion = defer.primary_shape.shape(
        request.data, request.variables, introspection[0] if introspection else None
    )
    payload: dict[str, Any] = {}
    if errors:
        payload["errors"] = errors
    payload["data"] = data
    if completion and not errors:
        payload["extensions"] = {"valueCompletion": completion}
    return payload, data


def _part_payload(
    part: DeferredPart,
    request: _Request,
    errors: list[dict[str, Any]],
    trace: TraceRecorder | None,
    client_data: dict[str, Any],
) -> dict[str, Any]:
    """One deferred part's payload: an item per object at its path the client has (the
    items merged into `client_data`, for the parts nested in it), its fetch errors on
    the item they concern."""
    assert isinstance(part, ShapedPart) and part.shape is not None
    items: list[dict[str, Any]] = []
    completion: list[dict[str, Any]] = []
    for where, target in _objects(client_data, part.path):
        raw = _raw_at(request.data, where)
        if not isinstance(raw, dict) or not part.shape.applies(raw):
            continue
        value, problems = part.shape.shape(raw, request.variables, list(where))
        completion.extend(problems)
        if value is not None:
            _merge(target, orjson.loads(orjson.dumps(value)))
        item: dict[str, Any] = {"data": value, "path": list(where)}
        if part.label is not None:
            item["label"] = part.label
        items.append(item)
    payload: dict[str, Any] = {"incremental": items}
    leftover = _attach_errors(items, errors)
    if leftover:
        payload["errors"] = leftover
    extensions: dict[str, Any] = {}
    if completion and not errors:
        extensions["valueCompletion"] = completion
    if trace is not None:
        extensions["trace"] = trace.as_json()
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
