"""Run a query plan: fetches in order/parallel, entity representations gathered per
Flatten path (deduplicated, one `_entities` request per node), results merged in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from functools import lru_cache, partial
from typing import Any

import orjson
from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
)

from router.executor.fetcher import SubgraphFetcher, SubgraphRequestError
from router.executor.shape import included
from router.executor.subgraph_errors import (
    ErrorList,
    add_subgraph_errors,
    plain_path,
    subgraph_error,
)
from router.executor.trace import TraceRecorder
from router.planner.inputs import InputSelection
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
from router.planner.subquery import apply_renames, renamed_path

Path = tuple[str | int, ...]


class _Run:
    """One execution's state: where to send fetches and the response built so far."""

    __slots__ = ("client", "data", "errors", "headers", "operation_name", "trace", "variables")

    def __init__(
        self,
        client: SubgraphFetcher,
        variables: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        trace: TraceRecorder | None = None,
    ) -> None:
        self.client = client
        self.variables = variables
        self.headers = headers
        self.trace = trace
        self.data: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []


async def execute_plan(
    plan: QueryPlan,
    client: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    trace: TraceRecorder | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `plan`: the merged subgraph data (not yet shaped for the client) and the
    errors the subgraphs reported, with client paths. `trace`: a traced request's
    recorder (each subgraph call is recorded in it)."""
    run = _Run(client, variables, headers, trace)
    if plan.node is not None:
        await _execute(plan.node, run)
    return run.data, run.errors


async def execute_into(
    node: PlanNode,
    data: dict[str, Any],
    client: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    trace: TraceRecorder | None = None,
) -> list[dict[str, Any]]:
    """Run `node` with its answers merged into `data`, the subgraph data of a response
    other nodes also write (a @defer'red part reads the keys the primary fetched); the
    errors its fetches reported."""
    run = _Run(client, variables, headers, trace)
    run.data = data
    await _execute(node, run)
    return run.errors


async def execute_event(
    subscribe: Subscribe,
    event: Mapping[str, Any],
    client: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One event of a subscription: the subgraph's `next` payload taken as the answer of
    the plan's primary fetch, then the rest of the plan run on it (as `execute_plan`)."""
    run = _Run(client, variables, headers)
    _merge_root(subscribe.primary, event, run)
    if subscribe.rest is not None and run.data:
        await _execute(subscribe.rest, run)
    return run.data, run.errors


async def _execute(node: PlanNode, run: _Run) -> None:
    if isinstance(node, Fetch):
        await _root_fetch(node, run)
    elif isinstance(node, Flatten):
        await _entity_fetch(node, run)
    elif isinstance(node, Sequence):
        for child in node.nodes:
            await _execute(child, run)
    elif isinstance(node, Parallel):
        await asyncio.gather(*(_execute(child, run) for child in node.nodes))
    elif isinstance(node, Condition):
        branch = node.if_clause if run.variables.get(node.variable) else node.else_clause
        if branch is not None:
            await _execute(branch, run)
    elif isinstance(node, Defer):
        # never run whole: its parts go through the incremental executor, and a client
        # taking the answer at once gets the plan without @defer (planner/defer.py)
        raise TypeError("a Defer node runs through router/executor/incremental.py")


def _fetch_variables(fetch: Fetch, run: _Run) -> dict[str, Any]:
    variables = run.variables
    return {name: variables[name] for name in fetch.variable_usages if name in variables}


def _request_failed(run: _Run, error: SubgraphRequestError, paths: list[Path]) -> None:
    """Report a failed fetch. One that got no HTTP answer (timeout, connection failure,
    open circuit, refused header, oversized answer) names the response `paths` of what
    it was to provide, one error each; a subgraph's HTTP error status is reported once
    without a path, as Apollo Gateway reports it (the conformance recordings)."""
    extensions: dict[str, Any] = {"code": error.code, "serviceName": error.service}
    if error.status is not None:
        extensions["http"] = {"status": error.status}
        paths = []
    if not paths:
        run.errors.append({"message": error.message, "extensions": extensions})
    for path in paths:
        run.errors.append(
            {"message": error.message, "path": list(path), "extensions": dict(extensions)}
        )


# A root field of a subgraph operation: its response key and its @skip/@include
# conditions as (directive name, literal or variable name).
_RootField = tuple[str, tuple[tuple[str, bool | str], ...]]


@lru_cache(maxsize=256)
def _root_fields(operation: str) -> tuple[_RootField, ...]:
    """The root fields a subgraph operation asks for (parsed only when a fetch fails)."""
    try:
        document = parse(operation, no_location=True)
    except GraphQLError:
        return ()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: list[_RootField] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            _gather(definition.selection_set, fragments, (), found, frozenset())
    return tuple(found)


def _gather(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    conditions: tuple[tuple[str, bool | str], ...],
    found: list[_RootField],
    spread: frozenset[str],
) -> None:
    for selection in selection_set.selections:
        here = conditions + _conditions(selection.directives or ())
        if isinstance(selection, FieldNode):
            key = (selection.alias or selection.name).value
            if key != "__typename":
                found.append((key, here))
        elif isinstance(selection, InlineFragmentNode):
            _gather(selection.selection_set, fragments, here, found, spread)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in spread:
                _gather(fragment.selection_set, fragments, here, found, spread | {name})


def _conditions(directives: Iterable[Any]) -> tuple[tuple[str, bool | str], ...]:
    out: list[tuple[str, bool | str]] = []
    for directive in directives:
        kind = directive.name.value
        if kind not in ("skip", "include"):
            continue
        for argument in directive.arguments or ():
            value = argument.value
            if isinstance(value, BooleanValueNode):
                out.append((kind, value.value))
            elif isinstance(value, VariableNode):
                out.append((kind, value.name.value))
    return tuple(out)


def _root_paths(fetch: Fetch, run: _Run) -> list[Path]:
    """The client's response paths of the root fields a root fetch provides."""
    keys: list[str | int] = []
    for key, conditions in _root_fields(fetch.operation):
        if not all(
            bool(run.variables.get(value) if isinstance(value, str) else value)
            == (kind == "include")
            for kind, value in conditions
        ):
            continue  # skipped: not in the response, so no error there
        client_key = renamed_path([key], fetch.renames)[0] if fetch.renames else key  # type: ignore[arg-type]
        if client_key not in keys:
            keys.append(client_key)
    return [(key,) for key in keys]


def _common_path(paths: list[Path]) -> Path:
    """The deepest response path every one of `paths` lies under."""
    common = paths[0]
    for path in paths[1:]:
        size = 0
        for mine, theirs in zip(common, path, strict=False):
            if mine != theirs:
                break
            size += 1
        common = common[:size]
    return common


def _request(
    run: _Run,
    fetch: Fetch,
    variables: dict[str, Any],
    idempotent: bool,
    path: tuple[str, ...] = (),
    entities: int | None = None,
) -> Awaitable[dict[str, Any]]:
    """The fetch's subgraph call; recorded when the request is traced (untraced, it is
    the client's call itself: no extra coroutine, no clock read)."""
    if run.trace is None:
        return run.client.request(
            fetch.service, fetch.operation, variables, None, run.headers, idempotent=idempotent
        )
    return _traced(run, run.trace, fetch, variables, idempotent, path, entities)


async def _traced(
    run: _Run,
    trace: TraceRecorder,
    fetch: Fetch,
    variables: dict[str, Any],
    idempotent: bool,
    path: tuple[str, ...],
    entities: int | None,
) -> dict[str, Any]:
    """`_request` for a traced request: the call, recorded in `trace`."""
    span = trace.start(fetch.service, fetch.id, ".".join(path), entities)
    try:
        return await run.client.request(
            fetch.service,
            fetch.operation,
            variables,
            None,
            run.headers,
            idempotent=idempotent,
            received=span.received,
        )
    finally:
        span.done()


async def _root_fetch(fetch: Fetch, run: _Run) -> None:
    try:
        response = await _request(
            run, fetch, _fetch_variables(fetch, run), fetch.operation_kind == "query"
        )
    except SubgraphRequestError as error:
        _request_failed(run, error, _root_paths(fetch, run))
        return
    _merge_root(fetch, response, run)


def _merge_root(fetch: Fetch, response: Mapping[str, Any], run: _Run) -> None:
    """A root fetch's answer (or a subscription's event) merged into the response so
    far, its errors reported with client paths."""
    data = response.get("data")
    if isinstance(data, dict):
        if fetch.renames:
            apply_renames(data, fetch.renames)  # type: ignore[arg-type]
        merge(run.data, data)
    errors = response.get("errors")
    if errors is not None:
        add_subgraph_errors(run.errors, errors, fetch.service, partial(_root_errors, fetch))


def _root_errors(fetch: Fetch, errors: ErrorList) -> Iterator[dict[str, Any]]:
    """A root answer's (well-formed) errors as reported, with client paths."""
    seen: set[tuple[Any, ...]] = set()
    for error in errors:
        path = _client_path(error, error.get("path"), fetch, seen)
        if path is not _REPORTED:
            yield subgraph_error(error, fetch.service, path)


_REPORTED = object()  # an error already reported for another copy of the same field


def _client_path(
    error: Any, path: Any, fetch: Fetch, seen: set[tuple[Any, ...]], *where: Any
) -> Any:
    """A subgraph error's path with the client's keys in place of the planner's aliases;
    _REPORTED for the copy of a field under alternative conditions that already failed
    alike (`where` tells entities apart). Paths that are not plain are left as they are."""
    if not fetch.renames or not plain_path(path):
        return path
    path = renamed_path(path, fetch.renames)  # type: ignore[arg-type]
    mark = (str(error.get("message")), *where, *path)
    if mark in seen:
        return _REPORTED
    seen.add(mark)
    return path


def collect(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], Path]]:
    """Objects at `path` ("@" walks into lists), with their response paths (the order
    of `objects_at`)."""
    current: list[tuple[Any, Path]] = [(data, ())]
    for key in path:
        following: list[tuple[Any, Path]] = []
        if key == "@":
            for value, where in current:
                if isinstance(value, list):
                    following.extend(
                        (item, (*where, i)) for i, item in enumerate(value) if item is not None
                    )
        else:
            for value, where in current:
                if isinstance(value, dict):
                    child = value.get(key)
                    if child is not None:
                        following.append((child, (*where, key)))
        current = following
    out: list[tuple[dict[str, Any], Path]] = []
    for value, where in current:
        if isinstance(value, dict):
            out.append((value, where))
        elif isinstance(value, list):  # a list the path did not walk into
            out.extend((v, (*where, i)) for i, v in enumerate(value) if isinstance(v, dict))
    return out


def objects_at(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects at `path`, as `collect` finds them but without their paths: an entity
    fetch needs paths only to report an error, and building a tuple per step of every
    object on the way took a fifth of a heavy request's CPU."""
    # hot: decoded subgraph data holds plain dicts and lists only, so exact type checks
    current: list[Any] = [data]
    for key in path:
        following: list[Any] = []
        if key == "@":
            extend = following.extend
            for value in current:
                if type(value) is list:
                    extend(value)  # nulls are dropped by the next step's type check
        else:
            append = following.append
            for value in current:
                if type(value) is dict:
                    child = value.get(key)
                    if child is not None:
                        append(child)
        current = following
    out: list[dict[str, Any]] = []
    for value in current:
        if type(value) is dict:
            out.append(value)
        elif type(value) is list:  # a list the path did not walk into
            out.extend(v for v in value if type(v) is dict)
    return out


def _paths_of(
    data: Any, path: tuple[str, ...], targets: list[list[dict[str, Any]]]
) -> list[list[Path]]:
    """The response paths of each representation's objects (`targets`), found again by
    walking `path` with paths, for reporting errors."""
    found: dict[int, list[Path]] = {}
    for obj, where in collect(data, path):
        found.setdefault(id(obj), []).append(where)
    return [[where for obj in objs for where in found.get(id(obj), ())] for objs in targets]


MISSING = object()  # build_representation: the object lacks a field the fetch needs


def _copy_input(value: Any, selection: InputSelection | None) -> Any:
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [_copy_input(v, selection) for v in value]
    if not isinstance(value, dict):
        return value
    return build_representation(value, selection)


def build_representation(
    obj: dict[str, Any], selection: InputSelection, variables: Mapping[str, Any] | None = None
) -> Any:
    """The representation of `obj` for an entity fetch; MISSING when it lacks a field it
    needs (a field required only under @skip/@include the `variables` exclude is left out)."""
    out: dict[str, Any] = {}
    get = obj.get
    for f in selection.fields:
        value = get(f.data_key, MISSING)
        if value is MISSING:
            if f.conditions is not None and not included(f.conditions, variables or {}):
                continue
            return MISSING
        if f.selection is not None and value is not None:  # a leaf is taken as it is
            value = _copy_input(value, f.selection)
            if value is MISSING:
                return MISSING
        out[f.name] = value
    if selection.by_type:
        typename = obj.get("__typename")
        for type_name, fields in selection.by_type:
            if type_name == typename:
                sub = build_representation(obj, InputSelection(fields))
                if sub is MISSING:
                    return MISSING
                out.update(sub)
    return out


async def _entity_fetch(node: Flatten, run: _Run) -> None:
    """One `_entities` request for the objects at the node's path, merged back in place."""
    fetch = node.node
    representations, targets = _representations(node, run)
    if not representations:
        return
    variables = _fetch_variables(fetch, run)
    variables[fetch.entities_variable] = representations
    try:
        response = await _request(run, fetch, variables, True, node.path, len(representations))
    except SubgraphRequestError as error:
        # one error at the deepest position all its entities share: a list of a
        # thousand entities is one error at the list, not a thousand
        owners = _paths_of(run.data, node.path, targets)
        common = _common_path([where for positions in owners for where in positions] or [()])
        _request_failed(run, error, [common] if common else [])
        return
    data = response.get("data")
    entities = data.get("_entities") if isinstance(data, dict) else None
    if isinstance(entities, list):
        if fetch.renames:
            apply_renames(entities, fetch.renames)  # type: ignore[arg-type]
        for entity, objs in zip(entities, targets, strict=False):
            if type(entity) is dict:
                for obj in objs:
                    merge(obj, entity)
    errors = response.get("errors")
    if errors is not None:
        owners = _paths_of(run.data, node.path, targets)
        report = partial(_entity_errors, fetch, owners=owners)
        add_subgraph_errors(run.errors, errors, fetch.service, report)


def _representations(
    node: Flatten, run: _Run
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The distinct representations of the objects at the node's path, each with the
    objects it stands for (objects lacking an input are left out)."""
    fetch = node.node
    type_map, requires, variables = fetch.type_map, fetch.requires, run.variables
    representations: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    seen: dict[Any, list[dict[str, Any]]] = {}
    for obj in objects_at(run.data, node.path):
        s_type = type_map.get(obj.get("__typename"))  # type: ignore[arg-type]
        if s_type is None:
            continue
        selection = requires.get(s_type)
        if selection is None:
            continue
        fingerprint, rep = _fingerprint(obj, s_type, selection, variables)
        if fingerprint is None:
            continue
        objs = seen.get(fingerprint)
        if objs is not None:
            objs.append(obj)
            continue
        if rep is None:
            rep = {name: obj[key] for name, key in _leaf_keys(selection)}  # type: ignore[union-attr]
            rep["__typename"] = s_type
        seen[fingerprint] = objs = [obj]
        representations.append(rep)
        targets.append(objs)
    return representations, targets


def _fingerprint(
    obj: dict[str, Any], s_type: str, selection: InputSelection, variables: Mapping[str, Any]
) -> tuple[Any, dict[str, Any] | None]:
    """What tells `obj`'s representation apart (None when it lacks an input), and the
    representation when it had to be built to know. Most keys are a few plain values:
    a tuple of them is cheaper than building and encoding a representation per object,
    and most objects share theirs with another (the same product in many reviews)."""
    leaves = _leaf_keys(selection)
    if leaves is not None:
        try:
            fingerprint = (s_type, *[obj[key] for _, key in leaves])
            hash(fingerprint)
        except (KeyError, TypeError):  # a key is missing, or not a plain value
            pass
        else:
            return fingerprint, None
    rep = build_representation(obj, selection, variables)
    if rep is MISSING:
        return None, None
    rep["__typename"] = s_type
    return orjson.dumps(rep), rep


_LEAF_KEYS: dict[int, tuple[InputSelection, tuple[tuple[str, str], ...] | None]] = {}


def _leaf_keys(selection: InputSelection) -> tuple[tuple[str, str], ...] | None:
    """(name, data key) of each field when the representation is plain values only, read
    unconditionally; None otherwise. Remembered per selection (the entry keeps the
    selection alive, so its id is not reused while it is there)."""
    entry = _LEAF_KEYS.get(id(selection))
    if entry is not None and entry[0] is selection:
        return entry[1]
    plain = not selection.by_type and all(
        f.selection is None and f.conditions is None for f in selection.fields
    )
    leaves = tuple((f.name, f.data_key) for f in selection.fields) if plain else None
    if len(_LEAF_KEYS) >= 4096:  # plans come and go with the plan cache
        _LEAF_KEYS.clear()
    _LEAF_KEYS[id(selection)] = (selection, leaves)
    return leaves


def _entity_errors(
    fetch: Fetch, errors: ErrorList, owners: list[list[Path]]
) -> Iterator[dict[str, Any]]:
    """An `_entities` answer's (well-formed) errors as reported, at the client paths of
    the entities they name (at every path a shared representation stands for); the others
    without a path."""
    seen: set[tuple[Any, ...]] = set()
    for error in errors:
        path = error.get("path")
        if (
            isinstance(path, list)
            and len(path) >= 2
            and path[0] == "_entities"
            and isinstance(path[1], int)
            and path[1] < len(owners)
        ):
            rest = _client_path(error, path[2:], fetch, seen, path[1])
            if rest is _REPORTED:
                continue
            for where in owners[path[1]]:
                yield subgraph_error(error, fetch.service, [*where, *rest])
        else:
            yield subgraph_error(error, fetch.service, None)


def merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Deep-merge one subgraph's answer into the response data, in place."""
    for key, value in source.items():
        current = target.get(key)
        if current is None:
            target[key] = value
        elif value is not None:
            target[key] = _merge_value(current, value)


def _merge_value(current: Any, value: Any) -> Any:
    if isinstance(current, dict) and isinstance(value, dict):
        merge(current, value)
        return current
    if isinstance(current, list) and isinstance(value, list) and len(current) == len(value):
        for index, item in enumerate(value):
            existing = current[index]
            if existing is None:
                current[index] = item
            elif item is not None:
                current[index] = _merge_value(existing, item)
        return current
    return value
