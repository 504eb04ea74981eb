"""Big answers stream (router/executor/stream.py): a streamable plan's response through
the app is byte for byte the buffered path's (`Router.execute`, then orjson), for
data, errors before and after data, nulls, aliases, __typename, @skip/@include,
invalid enum values and a list that is not the answer's first member; a subgraph
failing mid-answer gives the buffered path's well-formed error response.

The subgraph is a canned HTTP server: it answers every request with the bytes a
test gives it, either with a content-length (read whole below 1 MiB) or chunked in
7-byte pieces (no length: parsed as it arrives, every token split somewhere), or
cut off half way."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from router import Router
from router.composition import SubgraphSource, compose
from router.config import parse_config
from router.executor.stream import _AnswerParser, _assemble, stream_plan
from router.server import app as app_module
from router.server import create_app

SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  products: [Product]
  required: [Product]!
  top: Product
  count: Int
  kinds: [Kind]
}
type Product @key(fields: "id") { id: ID! name: String kind: Kind price: Int }
enum Kind { A B }
"""


class CannedSubgraph:
    """An HTTP/1.1 server answering every POST with `answer`, sent as `mode` says."""

    def __init__(self) -> None:
        self.answer = b"{}"
        # "length", "chunked" (7-byte chunks), "gzip" (chunked too) or "cut" (half, closed)
        self.mode = "length"
        self.queries: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the router closed its pooled connection
            self._exchanges(conn)

    def _exchanges(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                self.queries.append(buffer[:length])
                buffer = buffer[length:]
                if not self._reply(conn):
                    return

    def _reply(self, conn: socket.socket) -> bool:
        answer = self.answer
        if self.mode in ("chunked", "gzip"):
            coding = b""
            if self.mode == "gzip":
                answer = gzip.compress(answer)
                coding = b"content-encoding: gzip\r\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                         b"transfer-encoding: chunked\r\n" + coding + b"\r\n")
            for start in range(0, len(answer), 7):
                piece = answer[start : start + 7]
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.sendall(b"0\r\n\r\n")
            return True
        head = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n" % len(answer))
        if self.mode == "cut":
            conn.sendall(head + answer[: len(answer) // 2])
            return False
        conn.sendall(head + answer)
        return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def canned() -> Iterator[CannedSubgraph]:
    server = CannedSubgraph()
    yield server
    server.close()


@pytest.fixture
async def both(canned: CannedSubgraph) -> AsyncIterator[tuple[httpx.AsyncClient, Router]]:
    """The app (streams) and a router of the same supergraph (buffered `execute`)."""
    url = f"http://127.0.0.1:{canned.port}/"
    result = compose([SubgraphSource("shop", url, SDL)])
    assert result.supergraph_sdl is not None, result.errors
    config = parse_config({"traffic": {"retries": 0}})
    streamed = Router.from_supergraph(result.supergraph_sdl)
    buffered = Router.from_supergraph(result.supergraph_sdl)
    app = create_app(streamed, config=config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        yield client, buffered
    await app.router.aclose()
    await streamed.aclose()
    await buffered.aclose()


def _item(i: int, **changes: Any) -> dict[str, Any]:
    return {"id": str(i), "name": f"n{i}", "kind": "AB"[i % 2], "price": i * 10, **changes}


ITEMS = [_item(i) for i in range(1, 6)]

CASES: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]] = {
    "data": ("{ products { id name price } }", None, {"data": {"products": ITEMS}}),
    "errors after data": (
        "{ products { id name } }",
        None,
        {
            "data": {"products": [ITEMS[0], _item(2, name=None)]},
            "errors": [{"message": "no name", "path": ["products", 1, "name"]}],
        },
    ),
    "errors before data": (
        "{ products { id name } count }",
        None,
        {
            "errors": [{"message": "count failed", "path": ["count"]}],
            "data": {"products": ITEMS, "count": None},
        },
    ),
    "nulls": (
        "{ products { id name } }",
        None,
        {"data": {"products": [ITEMS[0], None, _item(3, id=None), _item(4, name=None)]}},
    ),
    "aliases": ("{ p: products { i: id n: name } }", None, {"data": {"p": [
        {"i": "1", "n": "n1"}, {"i": "2", "n": "n2"}]}}),
    "typename": (
        "{ __typename products { __typename id } }",
        None,
        {"data": {"products": [{"__typename": "Product", "id": "1"}]}},
    ),
    "skip include": (
        "query ($skip: Boolean!, $with: Boolean!) "
        "{ products @include(if: $with) { id name @skip(if: $skip) price } count }",
        {"skip": True, "with": True},
        {"data": {"products": [{"id": "1", "price": 10}], "count": 1}},
    ),
    "invalid enums": (
        "{ products { id kind } kinds }",
        None,
        {"data": {"products": [_item(1, kind="C"), _item(2), _item(3, kind=7)],
                  "kinds": ["A", "Z", None]}},
    ),
    "list not first": (
        "{ count top { id } products { id name } kinds }",
        None,
        {"data": {"top": {"id": "9"}, "kinds": ["B"], "products": ITEMS, "count": 5}},
    ),
    "empty list": ("{ products { id } count }", None, {"data": {"products": [], "count": 0}}),
    "non-null list null": (
        "{ required { id } count }", None, {"data": {"required": None, "count": 1}}
    ),
    "data null": ("{ products { id } }", None, {"data": None, "errors": [{"message": "x"}]}),
}


def _subgraph_answer(answer: dict[str, Any]) -> bytes:
    """The subgraph's bytes, with blanks between tokens as a pretty printer puts them."""
    return orjson.dumps(answer, option=orjson.OPT_INDENT_2)


async def _both_answers(
    both: tuple[httpx.AsyncClient, Router], query: str, variables: dict[str, Any] | None
) -> tuple[bytes, bytes]:
    client, router = both
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    buffered = orjson.dumps(await router.execute(query, variables))
    # a second time: hot operations are shaped by another walk (shape_source.py)
    assert orjson.dumps(await router.execute(query, variables)) == buffered
    return response.content, buffered


@pytest.fixture
def streamed_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations the app ran through `execute_streamed`."""
    runs: list[str] = []
    original = app_module.execute_streamed

    async def spy(plan: Any, *args: Any) -> Any:
        runs.append(plan.fetch.service)
        return await original(plan, *args)

    monkeypatch.setattr(app_module, "execute_streamed", spy)
    return runs


@pytest.mark.parametrize("mode", ["chunked", "length", "gzip"])
@pytest.mark.parametrize("case", list(CASES))
async def test_streamed_response_is_the_buffered_one(both, canned, streamed_runs, case, mode):
    query, variables, answer = CASES[case]
    canned.answer = _subgraph_answer(answer)
    canned.mode = mode
    streamed, buffered = await _both_answers(both, query, variables)
    assert streamed_runs == ["shop"]  # the app took the streaming path
    assert streamed == buffered


async def test_enum_and_null_problems_keep_their_order_and_paths(both, canned):
    query, variables, answer = CASES["invalid enums"]
    canned.answer = _subgraph_answer(answer)
    canned.mode = "chunked"
    streamed, _ = await _both_answers(both, query, variables)
    problems = orjson.loads(streamed)["extensions"]["valueCompletion"]
    assert [p["path"] for p in problems] == [["products", 0, "kind"], ["products", 2, "kind"],
                                             ["kinds", 1]]
    assert problems[0]["message"] == 'Enum "Kind" cannot represent value: "C"'


async def test_subgraph_failing_mid_answer_gives_a_well_formed_error_response(both, canned):
    canned.answer = _subgraph_answer({"data": {"products": ITEMS * 50}})
    canned.mode = "cut"
    streamed, buffered = await _both_answers(both, "{ products { id } }", None)
    assert streamed == buffered
    body = orjson.loads(streamed)
    assert body["data"] == {"products": None}
    assert body["errors"][0]["path"] == ["products"]
    assert body["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"


@pytest.mark.parametrize(
    "answer",
    [
        b'{"data":{"products":[{"id":"1"},{"id":}]}}',  # invalid inside the list
        b'{"data":{"products":[{"id":"1"}]}} trailing',  # text after the answer
        b'{"data":{"products":[{"id":"1"},]}}',  # a comma before the end of the list
        b'{"data":{"products":[1e400]}}',  # a number orjson refuses
        b'["data"]',  # no object
        b'{"extensions":{}}',  # neither data nor errors
    ],
)
async def test_an_answer_that_is_no_graphql_json_fails_the_fetch_as_buffered(
    both, canned, answer
):
    canned.answer = answer
    canned.mode = "chunked"
    streamed, buffered = await _both_answers(both, "{ products { id } }", None)
    assert streamed == buffered
    error = orjson.loads(streamed)["errors"][0]
    assert error["message"] == "HTTP fetch failed from 'shop': 200: OK"


async def test_an_answer_over_the_size_bound_is_the_fetch_error(canned):
    url = f"http://127.0.0.1:{canned.port}/"
    result = compose([SubgraphSource("shop", url, SDL)])
    assert result.supergraph_sdl is not None
    config = parse_config({"traffic": {"retries": 0, "max_subgraph_response_bytes": 2000}})
    app = create_app(Router.from_supergraph(result.supergraph_sdl), config=config)
    canned.answer = _subgraph_answer({"data": {"products": ITEMS * 20}})
    canned.mode = "chunked"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        response = await client.post("/graphql", json={"query": "{ products { id } }"})
    await app.router.aclose()
    assert response.json() == {
        "errors": [
            {
                "message": "response body from subgraph 'shop' is larger than 2000 bytes",
                "path": ["products"],
                "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "shop"},
            }
        ],
        "data": {"products": None},
    }


def test_plans_that_cannot_stream_take_the_buffered_path():
    result = compose([SubgraphSource("shop", "http://127.0.0.1:1/", SDL)])
    assert result.supergraph_sdl is not None
    router = Router.from_supergraph(result.supergraph_sdl)
    assert stream_plan(router.prepare("{ top { id } count }", None)) is None  # no list
    assert stream_plan(router.prepare("{ __schema { queryType { name } } products { id } }",
                                      None)) is None  # introspection
    assert stream_plan(router.prepare("{ products { id } }", None)) is not None


def _parsed(plan: Any, text: str, cuts: list[int], variables: dict[str, Any]) -> bytes | None:
    """The response assembled from `text` fed in parts cut at `cuts`."""
    parser = _AnswerParser(plan, variables)
    previous = 0
    for cut in [*cuts, len(text)]:
        parser.feed(text[previous:cut])
        previous = cut
    payload = parser.end()
    if payload is None:
        return None
    data = payload.get("data")
    return _assemble(plan, data if isinstance(data, dict) else {}, [], variables).body()


@pytest.mark.parametrize("case", list(CASES))
def test_the_parser_takes_the_answer_cut_anywhere(case):
    """Cut in two at every position, the answer gives the response it gives whole."""
    result = compose([SubgraphSource("shop", "http://127.0.0.1:1/", SDL)])
    assert result.supergraph_sdl is not None
    router = Router.from_supergraph(result.supergraph_sdl)
    query, variables, answer = CASES[case]
    plan = stream_plan(router.prepare(query, None))
    text = _subgraph_answer(answer).decode()
    whole = _parsed(plan, text, [], variables or {})
    assert whole is not None
    variables = variables or {}
    assert [c for c in range(1, len(text)) if _parsed(plan, text, [c], variables) != whole] == []


def test_the_parser_takes_the_answer_a_character_at_a_time():
    """Fed one character at a time, the parser gives the response it gives at once."""
    result = compose([SubgraphSource("shop", "http://127.0.0.1:1/", SDL)])
    assert result.supergraph_sdl is not None
    router = Router.from_supergraph(result.supergraph_sdl)
    plan = stream_plan(router.prepare("{ count products { id name kind } kinds }", None))
    assert plan is not None
    answer = _subgraph_answer(
        {"data": {"kinds": ["A"], "products": [_item(1, name="é ü \u2603"), None, _item(2)],
                  "count": 12345}, "errors": [{"message": "m"}]}
    ).decode()
    each = list(range(1, len(answer)))
    outputs = [_parsed(plan, answer, each, {}), _parsed(plan, answer, [], {})]
    assert outputs[0] == outputs[1]
    assert outputs[0] is not None
    assert orjson.loads(outputs[0])["data"] == {
        "count": 12345,
        "products": [{"id": "1", "name": "é ü \u2603", "kind": "B"}, None,
                     {"id": "2", "name": "n2", "kind": "A"}],
        "kinds": ["A"],
    }


class _CountedList(list):
    """A list that counts the walks over it."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_a_long_value_in_tiny_pieces_is_not_rescanned_per_piece():
    """Found by a hostile-input review: the text held back while a value was incomplete
    was measured (walked) at every piece, so a 100 KB string sent a byte at a time took
    27 s of CPU. Its length is kept instead: the pieces are walked only to rescan."""
    result = compose([SubgraphSource("shop", "http://127.0.0.1:1/", SDL)])
    assert result.supergraph_sdl is not None
    router = Router.from_supergraph(result.supergraph_sdl)
    plan = stream_plan(router.prepare("{ products { id name } }", None))
    name = "x" * 20_000
    text = _subgraph_answer({"data": {"products": [_item(1, name=name)]}}).decode()
    parser = _AnswerParser(plan, {})
    parser.waiting = _CountedList()
    _CountedList.walks = 0
    for char in text:
        parser.feed(char)
    assert _CountedList.walks < 40  # a rescan each time the held text doubles
    payload = parser.end()
    assert payload is not None
    body = _assemble(plan, payload["data"], [], {}).body()
    assert orjson.loads(body) == {"data": {"products": [{"id": "1", "name": name}]}}


@pytest.mark.parametrize(
    ("query", "answer", "code"),
    [
        # found by a hostile-input review: each was "Internal router error" (or, through
        # the buffered path, an HTTP 500 with no body)
        ("{ products { id name } }",  # nested past the scanner's recursion limit
         b'{"data":{"products":[{"id":"1","name":' + b"[" * 3000 + b"]" * 3000 + b"}]}}",
         "SUBREQUEST_HTTP_ERROR"),
        ("{ products { id } count }",  # an integer no encoder writes, outside the list
         b'{"data":{"products":[],"count":123456789012345678901234567890}}',
         "SUBREQUEST_HTTP_ERROR"),
        ("{ products { id } kinds }",  # a lone surrogate outside the list
         b'{"data":{"products":[],"kinds":["\\ud800"]}}', "SUBREQUEST_HTTP_ERROR"),
        ("{ top { name } }",  # buffered: nested past what orjson writes (255 levels)
         b'{"data":{"top":{"name":' + b"[" * 300 + b"]" * 300 + b"}}}",
         "RESPONSE_NOT_ENCODABLE"),
    ],
)
async def test_answers_no_encoder_takes_are_coded_errors(both, canned, query, answer, code):
    client, _ = both
    canned.answer = answer
    canned.mode = "chunked"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize("odd", [["Product"], {"name": "Product"}])
async def test_a_typename_no_dict_takes_is_an_invalid_object_not_an_internal_error(
    both, canned, odd
):
    # a list or an object as a subgraph's __typename raised TypeError in both walks
    canned.answer = orjson.dumps({"data": {"products": [
        {"__typename": odd, "id": "1"}, {"__typename": "Product", "id": "2"}]}})
    canned.mode = "length"
    streamed, buffered = await _both_answers(both, "{ products { __typename id } }", None)
    assert orjson.loads(streamed) == orjson.loads(buffered) == {
        "data": {"products": [None, {"__typename": "Product", "id": "2"}]},
        "extensions": {"valueCompletion": [{
            "message": "Invalid __typename found for object at array element of type "
                       "Product at index 0.",
            "path": ["products", 0],
            "extensions": {"code": "INVALID_GRAPHQL"},
        }]},
    }
