"""Run a query plan: fetches in order/parallel, entity representations gathered per
Flatten path (deduplicated, one `_entities` request per node), results merged in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from functools import lru_cache, partial
from itertools import repeat
from operator import is_not, itemgetter
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

from router.executor.batch import batch_operation
from router.executor.fetcher import SubgraphFetcher, SubgraphRequestError
from router.executor.shape import included
from router.executor.subgraph_errors import (
    ErrorList,
    add_subgraph_errors,
    plain_path,
    subgraph_error,
)
from router.executor.trace import TraceRecorder
from router.planner.inputs import InputField, InputSelection
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

    __slots__ = (
        "batch",
        "client",
        "data",
        "errors",
        "found",
        "headers",
        "operation_name",
        "trace",
        "variables",
    )

    def __init__(
        self,
        client: SubgraphFetcher,
        variables: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        trace: TraceRecorder | None = None,
        batch: bool = False,
    ) -> None:
        self.client = client
        self.variables = variables
        self.headers = headers
        self.trace = trace
        # parallel entity fetches to one subgraph as one request (batch.py); a traced
        # request makes each call on its own, so the trace shows the plan's fetches
        self.batch = batch and trace is None
        self.data: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        # What was found along the paths walked so far (each prefix of each path, as
        # the values there): an entity fetch's walk resumes from the longest one still
        # valid. Merging an answer at a path changes what lies below it only.
        self.found: dict[tuple[str, ...], list[Any]] | None = {}

    def objects_at(self, path: tuple[str, ...]) -> list[dict[str, Any]]:
        """The objects at `path` in the data now (module `objects_at`)."""
        found = self.found
        if found is None:
            return objects_at(self.data, path)
        start = len(path)
        while start and path[:start] not in found:
            start -= 1
        current = found[path[:start]] if start else [self.data]
        for end in range(start + 1, len(path) + 1):
            current = _step(current, path[end - 1])
            found[path[:end]] = current
        return _objects(current)

    def merged_at(self, path: tuple[str, ...]) -> None:
        """An answer was merged into the objects at `path`: what was found below it is
        forgotten."""
        found = self.found
        if not found:
            return
        if not path:
            found.clear()
            return
        size = len(path)
        for known in [k for k in found if len(k) > size and k[:size] == path]:
            del found[known]


async def execute_plan(
    plan: QueryPlan,
    client: SubgraphFetcher,
    variables: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    trace: TraceRecorder | None = None,
    batch: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `plan`: the merged subgraph data (not yet shaped for the client) and the
    errors the subgraphs reported, with client paths. `trace`: a traced request's
    recorder (each subgraph call is recorded in it). `batch`: entity fetches to one
    subgraph that run in parallel go as one request."""
    run = _Run(client, variables, headers, trace, batch)
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
    run.found = None  # other parts merge into `data` too: what was found may be stale
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
        if run.batch:
            await asyncio.gather(*_batched(node.nodes, run))
        else:
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
        run.merged_at(())
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
    current: list[Any] = [data]
    for key in path:
        current = _step(current, key)
    return _objects(current)


def _step(current: list[Any], key: str) -> list[Any]:
    """The values one step of a path further from `current` ("@": into lists)."""
    # hot: decoded subgraph data holds plain dicts and lists only, so exact type checks
    following: list[Any] = []
    if key == "@":
        extend = following.extend
        for value in current:
            if type(value) is list:
                extend(value)  # nulls are dropped by the next step's type check
        return following
    try:  # all objects, the usual: read in C (dict.get refuses anything but a dict)
        return list(filter(_PRESENT, map(dict.get, current, repeat(key))))
    except TypeError:
        pass
    append = following.append
    for value in current:
        if type(value) is dict:
            child = value.get(key)
            if child is not None:
                append(child)
    return following


_PRESENT = partial(is_not, None)


def _objects(current: list[Any]) -> list[dict[str, Any]]:
    """The objects among the values at the end of a path (a list the path did not walk
    into gives its objects)."""
    out: list[dict[str, Any]] = []
    for value in current:
        if type(value) is dict:
            out.append(value)
        elif type(value) is list:
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
    # an object reachable at several paths (a nested answer merged into several objects)
    # stands once in a target list per path: its paths are given once
    return [
        [where for key in dict.fromkeys(map(id, objs)) for where in found.get(key, ())]
        for objs in targets
    ]


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
    representations, targets = _representations(node, run)
    if representations:
        await _send_entities(node, representations, targets, run)


def _entities_failed(
    node: Flatten, targets: list[list[dict[str, Any]]], run: _Run, error: SubgraphRequestError
) -> None:
    """An entity fetch got no answer: one error at the deepest position all its entities
    share (a list of a thousand entities is one error at the list, not a thousand)."""
    owners = _paths_of(run.data, node.path, targets)
    common = _common_path([where for positions in owners for where in positions] or [()])
    _request_failed(run, error, [common] if common else [])


def _merge_entities(
    node: Flatten, entities: Any, targets: list[list[dict[str, Any]]], run: _Run
) -> None:
    """An `_entities` answer merged into the objects each representation stands for."""
    if not isinstance(entities, list):
        return
    fetch = node.node
    if fetch.renames:
        apply_renames(entities, fetch.renames)  # type: ignore[arg-type]
    run.merged_at(node.path)
    for entity, objs in zip(entities, targets, strict=False):
        if type(entity) is dict:
            fields = entity.keys()
            for obj in objs:
                if fields.isdisjoint(obj):  # merge's fast path, without a call per object
                    obj.update(entity)
                else:
                    merge(obj, entity)


def _batched(nodes: Iterable[PlanNode], run: _Run) -> list[Awaitable[None]]:
    """The children of a Parallel node to run, entity fetches to one subgraph together."""
    by_service: dict[str, list[Flatten]] = {}
    for child in nodes:
        if isinstance(child, Flatten):
            by_service.setdefault(child.node.service, []).append(child)
    steps: list[Awaitable[None]] = []
    for child in nodes:
        if not isinstance(child, Flatten):
            steps.append(_execute(child, run))
            continue
        group = by_service[child.node.service]
        if len(group) == 1:
            steps.append(_entity_fetch(child, run))
        elif group[0] is child:
            steps.append(_entity_batch(group, run))
    return steps


async def _entity_batch(nodes: list[Flatten], run: _Run) -> None:
    """Entity fetches to one subgraph in one request (batch.py), each answer merged as
    its own fetch's; alone or when they cannot share a request, each on its own."""
    found = [(node, *_representations(node, run)) for node in nodes]
    found = [(node, reps, targets) for node, reps, targets in found if reps]
    operations = tuple((n.node.operation, n.node.entities_variable) for n, _, _ in found)
    plan = batch_operation(operations) if len(found) > 1 else None
    if plan is None:
        await asyncio.gather(*(_send_entities(node, r, t, run) for node, r, t in found))
        return
    variables: dict[str, Any] = {}
    for (node, reps, _), name in zip(found, plan.names, strict=True):
        variables.update(_fetch_variables(node.node, run))
        variables[name] = reps
    service = nodes[0].node.service
    try:
        response = await run.client.request(
            service, plan.operation, variables, None, run.headers, idempotent=True
        )
    except SubgraphRequestError as error:
        for node, _, targets in found:
            _entities_failed(node, targets, run, error)
        return
    data = response.get("data")
    data = data if isinstance(data, dict) else {}
    for (node, _, targets), alias in zip(found, plan.names, strict=True):
        _merge_entities(node, data.get(alias), targets, run)
    errors = response.get("errors")
    if errors is not None:
        _batch_errors(found, plan.names, run, errors, service)


async def _send_entities(
    node: Flatten,
    representations: list[dict[str, Any]],
    targets: list[list[dict[str, Any]]],
    run: _Run,
) -> None:
    """The `_entities` request for representations found at the node's path, its answer
    merged back in place."""
    fetch = node.node
    variables = _fetch_variables(fetch, run)
    variables[fetch.entities_variable] = representations
    try:
        response = await _request(run, fetch, variables, True, node.path, len(representations))
    except SubgraphRequestError as error:
        _entities_failed(node, targets, run, error)
        return
    data = response.get("data")
    _merge_entities(node, data.get("_entities") if isinstance(data, dict) else None, targets, run)
    errors = response.get("errors")
    if errors is not None:
        _report_entity_errors(node, targets, run, errors)


def _report_entity_errors(
    node: Flatten, targets: list[list[dict[str, Any]]], run: _Run, errors: Any
) -> None:
    """An entity fetch's errors, at the client paths of the entities they name."""
    owners = _paths_of(run.data, node.path, targets)
    report = partial(_entity_errors, node.node, owners=owners)
    add_subgraph_errors(run.errors, errors, node.node.service, report)


def _batch_errors(
    found: list[tuple[Flatten, Any, list[list[dict[str, Any]]]]],
    aliases: tuple[str, ...],
    run: _Run,
    errors: Any,
    service: str,
) -> None:
    """A batched answer's errors: each fetch's (a path under its alias, read as under
    `_entities`) reported as its own answer's would be, with its own bound; then those of
    none, without a path (an `errors` value that is no list among them)."""
    index = {alias: i for i, alias in enumerate(aliases)}
    mine: list[list[Any]] = [[] for _ in aliases]
    unplaced: list[Any] = []
    for error in errors if isinstance(errors, list) else ():
        path = error.get("path") if isinstance(error, dict) else None
        first = path[0] if isinstance(path, list) and path else None
        at = index.get(first) if isinstance(first, str) else None
        if at is None:
            unplaced.append(error)
        else:
            mine[at].append({**error, "path": ["_entities", *path[1:]]})  # type: ignore[index]
    for (node, _, targets), own in zip(found, mine, strict=True):
        if own:
            _report_entity_errors(node, targets, run, own)
    if unplaced or not isinstance(errors, list):
        rest = unplaced if isinstance(errors, list) else errors
        add_subgraph_errors(run.errors, rest, service, partial(_unplaced, service))


def _unplaced(service: str, errors: ErrorList) -> Iterator[dict[str, Any]]:
    """Errors reported without a path."""
    for error in errors:
        yield subgraph_error(error, service, None)


def _representations(
    node: Flatten, run: _Run
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The distinct representations of the objects at the node's path, each with the
    objects it stands for (objects lacking an input are left out)."""
    objs = run.objects_at(node.path)
    found = _one_type_representations(node.node, objs, run.variables)
    if found is None:
        found = _mixed_representations(node.node, objs, run.variables)
    return found


def _one_type_representations(
    fetch: Fetch, objs: list[dict[str, Any]], variables: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]] | None:
    """The usual entity fetch: objects of one type whose key is a few plain fields,
    read and told apart by C-level maps, one Python step per object (an append) instead
    of a dozen; None when the objects are not like that."""
    try:
        names = set(map(_TYPENAME, objs))
    except (KeyError, TypeError):  # an object without __typename, or an odd one
        return None
    if len(names) != 1:
        return ([], []) if not names else None
    s_type = fetch.type_map.get(names.pop())
    selection = fetch.requires.get(s_type) if s_type else None
    if selection is None:
        return [], []
    values = _key_reader(selection)
    if values is None:
        return None
    try:
        keys = _grouping_keys(list(map(values, objs)))
    except (KeyError, TypeError):  # a key field missing, or a value JSON cannot hold
        return None
    groups: dict[Any, list[dict[str, Any]]] = {}
    for key, obj in zip(keys, objs, strict=True):
        group = groups.get(key)
        if group is None:
            groups[key] = [obj]
        else:
            group.append(obj)
    targets = list(groups.values())
    representations = []
    for group in targets:
        rep = build_representation(group[0], selection, variables)
        rep["__typename"] = s_type
        representations.append(rep)
    return representations, targets


def _grouping_keys(keys: list[Any]) -> list[Any]:
    """What to tell key values apart by: strings as they are, anything else as its JSON.

    1, 1.0, True, 0.0 and -0.0 are equal dict keys but five representations, and a tuple
    of numbers hashes the same in every process, so a subgraph could send thousands of
    keys with one hash; strings and bytes hash with a seed of the process's own."""
    if set(map(type, keys)) == _STRINGS_ONLY:
        return keys
    return list(map(orjson.dumps, keys))


def _mixed_representations(
    fetch: Fetch, objs: list[dict[str, Any]], variables: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Representations of objects of several types, or with keys other than strings.

    Most keys are a few plain values: read at once (`_reader`) they tell representations
    apart more cheaply than building and encoding one per object, and most objects share
    theirs with another (the same product in many reviews)."""
    type_map = fetch.type_map
    representations: list[dict[str, Any]] = []
    targets: list[list[dict[str, Any]]] = []
    seen: dict[Any, list[dict[str, Any]]] = {}
    readers: dict[str, tuple[InputSelection | None, Callable[[Any], Any] | None]] = {}
    dumps = orjson.dumps
    for obj in objs:
        try:
            s_type = type_map.get(obj.get("__typename"))  # type: ignore[arg-type]
        except TypeError:  # a list or an object for a __typename: shaping reports it
            continue
        if s_type is None:
            continue
        reader = readers.get(s_type)
        if reader is None:
            reader = readers[s_type] = _reader(fetch.requires.get(s_type))
        selection, values = reader
        if selection is None:
            continue
        rep = fingerprint = None
        if values is not None:
            try:
                value = values(obj)
                # a string key as it is; anything else as its JSON, as 1, 1.0 and True
                # are equal in Python but three keys
                fingerprint = (s_type, value if type(value) is str else dumps(value))
                sharing = seen.get(fingerprint)
            except (KeyError, TypeError):  # a key missing, or a value orjson cannot write
                fingerprint = None
        if fingerprint is None:
            rep = build_representation(obj, selection, variables)
            if rep is MISSING:
                continue
            rep["__typename"] = s_type
            fingerprint = dumps(rep)
            sharing = seen.get(fingerprint)
        if sharing is not None:
            sharing.append(obj)
            continue
        if rep is None:
            rep = build_representation(obj, selection, variables)
            rep["__typename"] = s_type
        seen[fingerprint] = sharing = [obj]
        representations.append(rep)
        targets.append(sharing)
    return representations, targets


_TYPENAME = itemgetter("__typename")
_STRINGS_ONLY = {str}


def _key_reader(selection: InputSelection) -> Callable[[Any], Any] | None:
    """A reader of `selection`'s fields but __typename (one value when one field is
    left: a string's hash is kept, a tuple's is not), or None (see `_plain_getter`)."""
    if selection.by_type:
        return None
    return _plain_getter([f for f in selection.fields if f.name != "__typename" or f.conditions])


def _reader(
    selection: InputSelection | None,
) -> tuple[InputSelection | None, Callable[[Any], Any] | None]:
    """`selection` with a reader of its values, or None (see `_plain_getter`)."""
    if selection is None or selection.by_type:
        return selection, None
    return selection, _plain_getter(selection.fields)


def _plain_getter(
    fields: tuple[InputField, ...] | list[InputField],
) -> Callable[[Any], Any] | None:
    """A reader of `fields`' values when they are plain fields read unconditionally
    (raising KeyError when one is missing), else None."""
    if not fields or any(f.selection is not None or f.conditions is not None for f in fields):
        return None
    return itemgetter(*(f.data_key for f in fields))


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
    if target.keys().isdisjoint(source):  # new fields only: the usual entity answer
        target.update(source)
        return
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
