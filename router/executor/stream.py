"""Big answers: a root list read, shaped and encoded item by item as it arrives.

Which plans stream (`stream_plan`): a query whose plan (without @defer) is one root
Fetch, with no renames, no introspection and no authorization removals, selecting at
least one root field whose type is a list of *nullable* items (`[T]` or `[T]!`).
Nothing fetched later needs its data, and a null or invalid item is nulled in place:
null propagation never crosses an item, so an item shaped early stays right whatever
comes after it. Every other plan takes the buffered path (execute.py, shape.py).

How (`execute_streamed`): the subgraph's body is read piece by piece
(`SubgraphClient.open_stream`) and parsed by `_AnswerParser`, a small state machine
over the answer's two top levels that hands every other value to the C scanner of
the standard library's json module. The items of a streamable root list are shaped
with the operation's compiled completer for one item (shape.py's `_Compiler`) and
encoded with orjson a batch at a time into a spool (memory up to SPOOL_MEMORY, then
an anonymous temporary file); everything else in the answer (other root fields,
errors) is kept as Python values, as the buffered path keeps it. The client's
response is then assembled in the buffered path's order (errors, data, extensions)
around the spooled lists (`StreamedResponse`); its bytes are the buffered path's.

The response is only sent once the subgraph's answer is complete: a subgraph puts
its `errors` before or after `data` as it likes (graphql-core puts them after), and
the client's response starts with them. So a subgraph failing mid-answer (closed
connection, timeout, invalid JSON, answer too large) is a well-formed response: the
fetch's error at the root fields it was to provide, exactly as on the buffered path.

Work is bounded per piece read (at most STREAM_PIECE, 16 KiB, from the transport),
and the caller yields to the event loop between pieces; memory is bounded by the
transport's high-water mark (1 MiB), one piece's items and the spool's memory part.
An answer declaring a length under STREAM_THRESHOLD is read whole and parsed by
orjson (as the buffered path parses it). The size bound of subgraph answers
(`traffic.max_subgraph_response_bytes`) holds as on the buffered path. A streamed
fetch is never shared with an identical one in flight (`deduplicate_queries`
applies to the buffered path); retries, circuit breakers and the fetch observer
apply as there.

Known differences from the buffered path, all on answers no GraphQL server sends: an
integer beyond 64 bits is an invalid answer here (orjson reads it as a float), and
a repeated streamed list is encoded twice before the first copy is dropped.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import orjson
from graphql import GraphQLList, GraphQLNonNull

from router.executor.execute import _merge_root, _request_failed, _root_paths
from router.executor.execute import _Run as _PlanRun
from router.executor.fetcher import (
    SubgraphClient,
    SubgraphRequestError,
    SubgraphStream,
    not_graphql,
)
from router.executor.shape import (
    _BUBBLE,
    Completer,
    FieldStep,
    PathNode,
    ResponseShape,
    _CompiledSelection,
    _Compiler,
    _shape_object,
)
from router.executor.shape import _Run as _ShapeRun
from router.operation import Field
from router.planner.defer import immediate_plan
from router.planner.nodes import Fetch
from router.prepared import PreparedOperation

SPOOL_MEMORY = 1024 * 1024  # encoded items kept in memory before the spool moves to a file
# answers whose declared length is below this are read whole and parsed by orjson
STREAM_THRESHOLD = 1024 * 1024
SEND_PIECE = 256 * 1024  # bytes of a spool sent at a time


# -- which plans stream ------------------------------------------------------------------


@dataclass(frozen=True)
class StreamPlan:
    """How one prepared operation streams: its fetch, the completer of one item of each
    streamable root list (by response key) and the root selection compiled with those
    lists spliced in from their spools."""

    fetch: Fetch
    items: Mapping[str, Completer | None]
    root: _CompiledSelection
    root_type: str


_plans: weakref.WeakKeyDictionary[ResponseShape, tuple[object, StreamPlan | None]] = (
    weakref.WeakKeyDictionary()
)


def stream_plan(prepared: PreparedOperation) -> StreamPlan | None:
    """The operation's StreamPlan, or None when it takes the buffered path (see the
    module's docstring); computed once per prepared operation."""
    known = _plans.get(prepared.shape)
    if known is not None and known[0] is prepared.plan:
        return known[1]
    found = _compile(prepared)
    _plans[prepared.shape] = (prepared.plan, found)
    return found


def _compile(prepared: PreparedOperation) -> StreamPlan | None:
    operation = prepared.operation
    node = immediate_plan(prepared.plan).node
    if (
        operation.kind != "query"
        or prepared.rejected
        or prepared.unauthorized
        or prepared.introspection is not None
        or prepared.introspection_document is not None
        or not isinstance(node, Fetch)
        or node.operation_kind != "query"
        or node.renames
    ):
        return None
    root_type = operation.root_type
    fields = operation.selection.by_type.get(root_type) or operation.selection.uniform or ()
    compiler = _Compiler(prepared.shape.root.abstract)
    items: dict[str, Completer | None] = {}
    for field in fields:
        item_type = _nullable_items(field)
        if item_type is not None:
            items[field.response_key] = compiler.completer(field, item_type)
    if not items:
        return None
    root = compiler.selection(operation.selection)
    return StreamPlan(node, items, _spliced(root, items), root_type)


def _nullable_items(field: Field) -> Any:
    """The item type of a root field that is a list of nullable items, else None."""
    ftype = field.type
    if isinstance(ftype, GraphQLNonNull):
        ftype = ftype.of_type
    if field.is_typename or not isinstance(ftype, GraphQLList):
        return None
    return None if isinstance(ftype.of_type, GraphQLNonNull) else ftype.of_type


def _spliced(root: _CompiledSelection, items: Mapping[str, Any]) -> _CompiledSelection:
    """A copy of the compiled root whose streamable fields take a spooled list as it is."""
    spliced = _CompiledSelection()
    spliced.type_name = root.type_name
    spliced.abstract = root.abstract
    spliced.orders = root.orders
    spliced.by_type = {t: _splice_steps(steps, items) for t, steps in root.by_type.items()}
    if root.uniform is not None:
        spliced.uniform = _splice_steps(root.uniform, items)
    return spliced


def _splice_steps(steps: tuple[FieldStep, ...], items: Mapping[str, Any]) -> tuple[FieldStep, ...]:
    return tuple(
        (key, _splice(complete), conditions, is_typename)
        if key in items and not is_typename
        else (key, complete, conditions, is_typename)
        for key, complete, conditions, is_typename in steps
    )


def _splice(complete: Completer | None) -> Completer:
    def spliced(run: _ShapeRun, value: Any, path: PathNode, key: str | int) -> Any:
        """A spooled list as it is (its items' problems noted here, in response order);
        any other value completed as the buffered path completes it."""
        if isinstance(value, Spooled):
            run.completion.extend(value.problems)
            return value
        return value if complete is None else complete(run, value, path, key)

    return spliced


# -- spooled lists and the response around them ----------------------------------------


class Spooled:
    """One root list's items, shaped and encoded (as `[...]`), and their problems."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
        self.file.write(b"[")
        self.size = 1
        self.count = 0
        self.problems: list[dict[str, Any]] = []

    def add(self, encoded: bytes, count: int) -> None:
        """Append `count` items encoded as one JSON array (`encoded`)."""
        if count:
            piece = encoded[1:-1] if self.count == 0 else b"," + encoded[1:-1]
            self.file.write(piece)
            self.size += len(piece)
            self.count += count

    def finish(self) -> None:
        """Close the array; the spool is then read from its start."""
        self.file.write(b"]")
        self.size += 1
        self.file.seek(0)

    def close(self) -> None:
        """Drop the spool (its file, if it moved to one)."""
        self.file.close()


Part = bytes | Spooled


class StreamedResponse:
    """A response assembled around spooled lists: `parts` in order, `size` bytes in
    all, and its `errors` (for metrics and logs)."""

    def __init__(self, parts: list[Part], errors: list[dict[str, Any]]) -> None:
        self.parts = parts
        self.errors = errors
        self.size = sum(len(p) if isinstance(p, bytes) else p.size for p in parts)

    def pieces(self) -> Iterator[bytes]:
        """The response's bytes, at most SEND_PIECE at a time from a spool."""
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
                continue
            while piece := part.file.read(SEND_PIECE):
                yield piece

    def close(self) -> None:
        """Drop the spools."""
        for part in self.parts:
            if isinstance(part, Spooled):
                part.close()

    def body(self) -> bytes:
        """The whole response at once (tests)."""
        return b"".join(self.pieces())


def _assemble(
    plan: StreamPlan, data: dict[str, Any], errors: list[dict[str, Any]], variables: Any
) -> StreamedResponse:
    """The response `Router._respond` gives for `data` and `errors`, spools spliced in."""
    shape_run = _ShapeRun(variables)
    source = dict(data)
    source["__typename"] = plan.root_type
    shaped = _shape_object(shape_run, plan.root, source, None)
    head = b'{"errors":' + orjson.dumps(errors) + b',"data":' if errors else b'{"data":'
    parts: list[Part] = [head]
    if shaped is _BUBBLE or shaped is None:
        parts.append(b"null")
    else:
        parts.extend(_object_parts(shaped))
    for spooled in data.values():
        if isinstance(spooled, Spooled) and spooled not in parts:
            spooled.close()  # not in the response (a @skip'ped field): dropped now
    completion = shape_run.completion
    if completion and not errors:
        extensions = orjson.dumps({"valueCompletion": completion})
        parts.append(b',"extensions":' + extensions + b"}")
    else:
        parts.append(b"}")
    return StreamedResponse(parts, errors)


def _object_parts(shaped: dict[str, Any]) -> list[Part]:
    parts: list[Part] = []
    plain: dict[str, Any] = {}
    opened = False
    for key, value in shaped.items():
        if not isinstance(value, Spooled):
            plain[key] = value
            continue
        parts.append(_plain_members(plain, b"{" if not opened else b",") + orjson.dumps(key) + b":")
        parts.append(value)
        plain = {}
        opened = True
    if not opened:
        return [orjson.dumps(shaped)]
    if plain:
        parts.append(b"," + orjson.dumps(plain)[1:])
    else:
        parts.append(b"}")
    return parts


def _plain_members(plain: dict[str, Any], lead: bytes) -> bytes:
    """`lead` then the members of `plain` and a separator, for an object being written."""
    if not plain:
        return lead
    return lead + orjson.dumps(plain)[1:-1] + b","


# -- executing -------------------------------------------------------------------------


async def execute_streamed(
    plan: StreamPlan,
    client: SubgraphClient,
    variables: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> StreamedResponse:
    """Run a streamable plan (`stream_plan`) and assemble its response. A subgraph that
    fails before or during its answer gives the buffered path's response for that."""
    fetch = plan.fetch
    run = _PlanRun(client, variables, headers)
    fetch_variables = {n: variables[n] for n in fetch.variable_usages if n in variables}
    try:
        stream = await client.open_stream(fetch.service, fetch.operation, fetch_variables, headers)
    except SubgraphRequestError as error:
        _request_failed(run, error, _root_paths(fetch, run))
        return _assemble(plan, run.data, run.errors, variables)
    parser = _AnswerParser(plan, variables)
    try:
        payload = await _read(stream, parser)
    except SubgraphRequestError as error:
        stream.failed(error)
        parser.close()
        _request_failed(run, error, _root_paths(fetch, run))
        return _assemble(plan, run.data, run.errors, variables)
    except BaseException:
        parser.close()
        raise
    finally:
        await stream.aclose()
    _merge_root(fetch, payload, run)
    try:
        return _assemble(plan, run.data, run.errors, variables)
    except (TypeError, RecursionError):  # a value no JSON encoder takes (a lone surrogate,
        # an integer past 64 bits, nesting past 255): an answer the buffered path could not
        # have decoded, so it fails the fetch as there
        for value in run.data.values():
            if isinstance(value, Spooled):
                value.close()
        failed = _PlanRun(client, variables, headers)
        error = not_graphql(fetch.service, stream.status_code, stream.reason_phrase)
        _request_failed(failed, error, _root_paths(fetch, failed))
        return _assemble(plan, failed.data, failed.errors, variables)


async def _read(stream: SubgraphStream, parser: _AnswerParser) -> dict[str, Any]:
    """The answer's payload (`data` with its lists spooled); SubgraphRequestError when
    it could not be read or is no GraphQL response."""
    length = _content_length(stream)
    if length is not None and length < STREAM_THRESHOLD:
        return await _read_whole(stream)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := await stream.read():
            parser.feed(decoder.decode(chunk))
            await asyncio.sleep(0)  # one piece's work at a time: other requests run between
        parser.feed(decoder.decode(b"", final=True))
        payload = parser.end()
    # invalid JSON or UTF-8, unencodable values (orjson.JSONEncodeError is TypeError, so a
    # value a completer cannot take too), nesting deeper than the scanner goes
    except (ValueError, TypeError, RecursionError):
        payload = None
    if payload is None:
        raise not_graphql(stream.service, stream.status_code, stream.reason_phrase)
    return payload


async def _read_whole(stream: SubgraphStream) -> dict[str, Any]:
    pieces: list[bytes] = []
    while chunk := await stream.read():
        pieces.append(chunk)
    try:
        payload = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
        raise not_graphql(stream.service, stream.status_code, stream.reason_phrase)
    return payload


def _content_length(stream: SubgraphStream) -> int | None:
    for name, value in stream.headers:
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


# -- parsing ---------------------------------------------------------------------------


def _finite(text: str) -> float:
    """A JSON number as orjson reads it: one too large for a double is invalid."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number is infinity when parsed as double")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


_scan = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).scan_once
_WS = re.compile(r"[ \t\n\r]*")
_BLANKS = frozenset(" \t\n\r")
_LONGEST_LITERAL = len("false")


class _Incomplete(Exception):
    """The buffer ends inside the next token: more of the answer is needed."""


class _AnswerParser:
    """A push parser of one subgraph answer: `feed` it text as it arrives, then `end`.

    The answer's top level and its `data` object are walked here (a key, a value, a
    separator at a time); values are read whole by the json scanner, except the
    items of a streamable list, which are shaped and spooled as they are read."""

    def __init__(self, plan: StreamPlan, variables: Mapping[str, Any]) -> None:
        self.items = plan.items
        self.run = _ShapeRun(variables)
        self.buffer = ""
        self.pos = 0
        self.waiting: list[str] = []  # text held back while a value is incomplete
        self.waiting_size = 0  # its length (kept, not summed per piece: pieces may be tiny)
        self.wanted = 0  # length of buffer needed before a rescan
        self.step: Callable[[], None] = self._start
        self.top: dict[str, Any] = {}
        self.data: dict[str, Any] = {}
        self.key = ""
        self.first = True  # no member yet in the object being read
        self.list: Spooled | None = None
        self.separator = False  # in a list: an item was read, a ',' or ']' comes next
        self.final = False

    def feed(self, text: str) -> None:
        """Parse as far as `text` (the answer's next part) allows."""
        if text:
            self.waiting.append(text)
            self.waiting_size += len(text)
            if len(self.buffer) - self.pos + self.waiting_size < self.wanted:
                return
        self.buffer = self.buffer[self.pos :] + "".join(self.waiting)
        self.waiting.clear()
        self.waiting_size = 0
        self.pos = 0
        self.wanted = 0
        if self.step is None:
            self._done()  # only blanks may follow the answer
            return
        try:
            while self.step is not None:
                self.step()
        except _Incomplete:
            self.wanted = 2 * (len(self.buffer) - self.pos)

    def end(self) -> dict[str, Any] | None:
        """The payload (`data` with spooled lists) once all is fed; None when the answer
        is no GraphQL response."""
        self.final = True
        self.feed("")
        top = self.top
        if self.step is not None or ("data" not in top and "errors" not in top):
            self.close()
            return None
        if top.get("data") is not self.data:  # a later "data" member replaced the object
            self.close()
            return top
        for spooled in self.data.values():
            if isinstance(spooled, Spooled):
                spooled.finish()
        return top

    def close(self) -> None:
        """Drop the spools of an answer given up."""
        for value in self.data.values():
            if isinstance(value, Spooled):
                value.close()
        if self.list is not None:
            self.list.close()

    # -- tokens

    def _char(self) -> str:
        """The next non-blank character (not consumed)."""
        pos = _WS.match(self.buffer, self.pos).end()  # type: ignore[union-attr]
        self.pos = pos
        if pos >= len(self.buffer):
            if self.final:
                raise ValueError("unexpected end of the answer")
            raise _Incomplete
        return self.buffer[pos]

    def _value(self) -> Any:
        """The next value, read whole."""
        self._char()
        value, self.pos = self._scan_item(self.buffer, self.pos)
        return value

    def _expect(self, wanted: str) -> None:
        if self._char() != wanted:
            raise ValueError(f"expected {wanted!r}")
        self.pos += 1

    def _member_key(self, after: Callable[[], None], closed: Callable[[], None]) -> None:
        """A key and its colon (then `after`), or the object's end (then `closed`)."""
        if self._char() == "}" and self.first:
            self.pos += 1
            self.step = closed
            return
        start = self.pos
        key = self._value()
        if not isinstance(key, str):
            raise ValueError("expected a key")
        try:
            self._expect(":")
        except _Incomplete:
            self.pos = start
            raise
        self.key = key
        self.first = False
        self.step = after

    def _separator(self, member: Callable[[], None], closed: Callable[[], None]) -> None:
        char = self._char()
        self.pos += 1
        if char == ",":
            self.step = member
        elif char == "}":
            self.step = closed
        else:
            raise ValueError("expected ',' or '}'")

    # -- states

    def _start(self) -> None:
        self._expect("{")
        self.first = True
        self.step = self._top_key

    def _top_key(self) -> None:
        self._member_key(self._top_value, self._done)

    def _top_value(self) -> None:
        if self.key == "data" and self._char() == "{":
            self.pos += 1
            self.close()
            self.data = {}
            self.top["data"] = self.data
            self.first = True
            self.step = self._data_key
            return
        self.top[self.key] = self._value()
        self.step = self._top_separator

    def _top_separator(self) -> None:
        self._separator(self._top_key, self._done)

    def _done(self) -> None:
        if _WS.match(self.buffer, self.pos).end() < len(self.buffer):  # type: ignore[union-attr]
            raise ValueError("text after the answer")
        self.step = None  # type: ignore[assignment]

    def _data_key(self) -> None:
        self._member_key(self._data_value, self._top_separator)

    def _data_value(self) -> None:
        key = self.key
        if key in self.items and self._char() == "[":
            self.pos += 1
            previous = self.data.pop(key, None)
            if isinstance(previous, Spooled):
                previous.close()
            self.list = Spooled()
            self.step = self._first_item
            return
        value = self._value()
        previous = self.data.pop(key, None)
        if isinstance(previous, Spooled):
            previous.close()
        self.data[key] = value
        self.step = self._data_separator

    def _data_separator(self) -> None:
        self._separator(self._data_key, self._top_separator)

    def _first_item(self) -> None:
        if self._char() == "]":
            self.pos += 1
            self._list_done()
        else:
            self.separator = False
            self.step = self._items

    def _items(self) -> None:
        """As many items as the buffer holds, shaped and spooled as one batch."""
        # hot: runs for every item of a big answer; `_value` and `_char` inlined
        spooled = self.list
        assert spooled is not None
        complete = self.items[self.key]
        run = self.run
        here: PathNode = (None, self.key)
        index = spooled.count
        batch: list[Any] = []
        append = batch.append
        buffer, pos, size = self.buffer, self.pos, len(self.buffer)
        separator = self.separator
        try:
            while True:
                if pos >= size:
                    raise _Incomplete
                char = buffer[pos]
                if char in _BLANKS:
                    pos = _WS.match(buffer, pos).end()  # type: ignore[union-attr]
                    continue
                if separator:
                    pos += 1
                    if char == "]":
                        break
                    if char != ",":
                        raise ValueError("expected ',' or ']'")
                    separator = False
                    continue
                item, pos = self._scan_item(buffer, pos)
                append(item if complete is None else complete(run, item, here, index))
                index += 1
                separator = True
        except _Incomplete:
            self.pos = pos  # after the last whole item (or separator) read
            self.separator = separator
            self._spool(batch)
            raise
        self.pos = pos
        self._spool(batch)
        self._list_done()

    def _scan_item(self, buffer: str, pos: int) -> tuple[Any, int]:
        """The value at `pos` and where it ends; _Incomplete when the buffer may end
        inside it (a number at its very end may go on in the next part)."""
        try:
            item, end = _scan(buffer, pos)
        except StopIteration as stop:  # no value where stop.value is: maybe not yet
            # (`nul`, `-`: a literal or number cut short by the end of the buffer)
            if self.final or len(buffer) - stop.value > _LONGEST_LITERAL:
                raise ValueError("expected a value") from None
            raise _Incomplete from None
        except json.JSONDecodeError as error:
            # cut short by the end of the buffer (a string's error is at its start);
            # invalid anywhere else: given up now, not after buffering the rest
            cut = error.msg.startswith("Unterminated string") or (
                error.pos >= len(buffer) - _LONGEST_LITERAL
            )
            if self.final or not cut:
                raise
            raise _Incomplete from None
        if end >= len(buffer) and not self.final:
            raise _Incomplete
        return item, end

    def _spool(self, batch: list[Any]) -> None:
        assert self.list is not None
        if batch:
            self.list.add(orjson.dumps(batch), len(batch))
        if self.run.completion:
            self.list.problems.extend(self.run.completion)
            self.run.completion.clear()

    def _list_done(self) -> None:
        assert self.list is not None
        self.data[self.key] = self.list
        self.list = None
        self.step = self._data_separator
