"""What one client connection may cost `shopgraph router`'s HTTP server (issue 10).

`shopgraph router` runs as a real process over an echo subgraph and is spoken to
over raw sockets, as an attacker would: the request head is capped (431), the
head and the body have deadlines (408, and a body that never completed is
never executed), idle connections close, and connections beyond the cap are
answered 503 and closed at once while the others are served. The request id
forwarded to subgraphs is always the one the router uses.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

ROOT = Path(__file__).resolve().parents[2]
TIGHT = {
    "server": {
        "max_head_bytes": 4096,
        "head_timeout": 1.5,
        "body_timeout": 1.5,
        "keep_alive_timeout": 1.0,
    }
}
QUERY = b'{"query":"{ alphaHeaders }"}'
WAIT = 10.0  # seconds a test waits for an answer that must come much sooner


@dataclass
class RouterProcess:
    process: subprocess.Popen[bytes]
    port: int
    echo: EchoSubgraphs

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        return sock

    def subgraph_calls(self) -> int:
        return len(self.echo.behaviour["alpha"].requests)

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


def _readable(sock: socket.socket, seconds: float) -> bool:
    """Whether `sock` has something to read within `seconds` (poll, not select: in a
    long test session descriptors pass select's limit of 1024)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_router(folder: Path, config: dict[str, Any], *options: str) -> Iterator[RouterProcess]:
    """`shopgraph router [OPTIONS]` over one echo subgraph, with `config` as its router.yaml."""
    echo = EchoSubgraphs("alpha")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "supergraph.graphql").write_text(echo.supergraph())
    (folder / "router.yaml").write_text(yaml.safe_dump(config))
    port = _free_port()
    argv = [
        sys.executable,
        "-m",
        "router.cli",
        "router",
        "--supergraph",
        str(folder / "supergraph.graphql"),
        "--config",
        str(folder / "router.yaml"),
        "--listen",
        f"127.0.0.1:{port}",
        "--poll-interval",
        "0",
        *options,
    ]
    log = (folder / "router.log").open("w")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        router = RouterProcess(process, port, echo)
        _wait_up(router, folder / "router.log")
        yield router
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        echo.close()


def _wait_up(router: RouterProcess, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert router.process.poll() is None, log.read_text()
        with suppress(OSError), router.connect() as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            if read_all(sock).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.2)
    raise AssertionError(f"router not up; log:\n{log.read_text()}")


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterProcess]:
    with running_router(tmp_path_factory.mktemp("tight"), TIGHT) as router:
        yield router


def read_all(sock: socket.socket) -> bytes:
    """Everything until the router closes the connection (a reset after the answer
    counts as closing: the router does not read what it refused)."""
    data = b""
    with suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def read_one(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response from a kept-alive connection (by its content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    status, headers, body = parse(data)
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return status, headers, body


def send_all(sock: socket.socket, data: bytes, piece: int = 65536) -> None:
    """Send `data`, stopping early once the router has answered (it may close
    the connection without reading the rest)."""
    for start in range(0, len(data), piece):
        if _readable(sock, 0):
            return
        try:
            sock.sendall(data[start : start + piece])
        except (BrokenPipeError, ConnectionResetError):
            return


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def error_code(body: bytes) -> str:
    code: str = json.loads(body)["errors"][0]["extensions"]["code"]
    return code


def post(target: str = "/graphql", extra: bytes = b"", body: bytes = QUERY) -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        f"connection: close\r\ncontent-length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


# -- the request head ----------------------------------------------------------------------


OVERSIZED = {
    "one huge header (8 MB)": post(extra=b"x-pad: " + b"v" * 8_000_000 + b"\r\n"),
    "100,000 small headers": post(extra=b"".join(b"x-h%d: v\r\n" % i for i in range(100_000))),
    "a long target": post(target="/graphql?q=" + "a" * 5000),
}


@pytest.mark.parametrize("case", list(OVERSIZED))
def test_a_head_over_the_limit_gets_431(tight: RouterProcess, case: str):
    calls = tight.subgraph_calls()
    with tight.connect() as sock:
        send_all(sock, OVERSIZED[case])
        status, headers, body = parse(read_all(sock))
    assert (status, headers["connection"], error_code(body)) == (
        431,
        "close",
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
    )
    assert json.loads(body)["errors"][0]["message"] == (
        "The request line and headers are larger than 4096 bytes."
    )
    assert tight.subgraph_calls() == calls


def test_the_limit_is_on_the_whole_head(tight: RouterProcess):
    statuses = []
    for pad in (3600, 4000):  # the rest of the head is about 120 bytes
        with tight.connect() as sock:
            sock.sendall(post(extra=b"x-pad: " + b"v" * pad + b"\r\n"))
            statuses.append(parse(read_all(sock))[0])
    assert statuses == [200, 431]


def test_a_huge_header_against_health_gets_431(tight: RouterProcess):
    head = b"GET /health HTTP/1.1\r\nhost: x\r\nx-pad: " + b"v" * 4_000_000 + b"\r\n\r\n"
    with tight.connect() as sock:
        send_all(sock, head)
        status, _, body = parse(read_all(sock))
    assert (status, error_code(body)) == (431, "REQUEST_HEADER_FIELDS_TOO_LARGE")


# -- deadlines -----------------------------------------------------------------------------


def _timed_out(raw: bytes, part: str) -> tuple[int, str, str, str]:
    status, headers, body = parse(raw)
    message = json.loads(body)["errors"][0]["message"]
    assert message == f"The request {part} did not arrive within 1.5 s."
    return status, headers["connection"], error_code(body), message


def test_a_partial_head_gets_408_at_the_head_deadline(tight: RouterProcess):
    with tight.connect() as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")
        raw = read_all(sock)
    assert _timed_out(raw, "head")[:3] == (408, "close", "REQUEST_TIMEOUT")


def test_a_trickled_head_gets_408_however_often_a_byte_comes(tight: RouterProcess):
    sent = 0
    with tight.connect() as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nhost: x\r\nx-slow: ")
        # a byte every 0.1 s would last 20 s; the deadline is not reset by each one
        while sent < 200 and not _readable(sock, 0.1):
            sock.sendall(b"a")
            sent += 1
        raw = read_all(sock)
    assert _timed_out(raw, "head")[:3] == (408, "close", "REQUEST_TIMEOUT")
    assert sent < 200


def test_a_trickled_chunked_body_gets_408_and_is_not_executed(tight: RouterProcess):
    calls = tight.subgraph_calls()
    with tight.connect() as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"transfer-encoding: chunked\r\n\r\n1\r\n{\r\n"
        )
        sent = 0
        while sent < 200 and not _readable(sock, 0.1):
            sock.sendall(b"1\r\n \r\n")
            sent += 1
        raw = read_all(sock)
    assert _timed_out(raw, "body")[:3] == (408, "close", "REQUEST_TIMEOUT")
    assert sent < 200
    assert tight.subgraph_calls() == calls


def test_a_body_cut_short_is_never_executed(tight: RouterProcess):
    # the bytes sent are a whole query, but the client declared more: the router must
    # not run what it received when the rest never comes
    calls = tight.subgraph_calls()
    with tight.connect() as sock:
        declared = f"content-length: {len(QUERY)}".encode()
        sock.sendall(post().replace(declared, b"content-length: 500"))
        raw = read_all(sock)
    assert _timed_out(raw, "body")[:3] == (408, "close", "REQUEST_TIMEOUT")
    assert tight.subgraph_calls() == calls


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(tight: RouterProcess):
    with tight.connect() as sock:
        assert read_all(sock) == b""


def test_an_idle_kept_alive_connection_is_closed_after_keep_alive_timeout(
    tight: RouterProcess,
):
    with tight.connect() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        sock.settimeout(4.0)  # less than uvicorn's 5 s default
        raw = read_all(sock)
    status, headers, body = parse(raw)
    assert (status, headers.get("connection"), body) == (
        200,
        None,
        b'{"status":"pass","service":"router","checks":{}}',
    )


# -- the connection cap --------------------------------------------------------------------


def test_connections_over_the_cap_get_503_while_the_others_are_served(tmp_path: Path):
    config = {"server": {"max_connections": 8, "head_timeout": 5.0, "keep_alive_timeout": 30}}
    with running_router(tmp_path, config) as router:
        kept = router.connect()
        kept.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        assert read_one(kept)[0] == 200
        holders = [router.connect() for _ in range(7)]
        for sock in holders:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")
        answers = []
        files = 0
        for attempt in range(20):
            with router.connect() as extra:
                answers.append(parse(read_all(extra)))
            if attempt == 0:  # every earlier connection is accepted by now
                files = router.open_files()
        assert {(s, h["retry-after"], error_code(b)) for s, h, b in answers} == {
            (503, "1", "SERVER_BUSY")
        }
        assert router.open_files() == files  # the refused ones hold no descriptor
        # the connection that was already open is still served
        kept.sendall(post().replace(b"connection: close\r\n", b""))
        assert read_one(kept)[0] == 200
        kept.close()
        # the holders time out and the router takes new clients again
        for sock in holders:
            assert parse(read_all(sock))[0] == 408
            sock.close()
        with router.connect() as sock:
            sock.sendall(post())
            assert parse(read_all(sock))[0] == 200


# -- the request id forwarded --------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["has spaces", "x" * 129, "x" * 70_000], ids=["spaces", "129 chars", "70 KB"]
)
async def test_subgraphs_get_the_request_id_the_router_uses(echo: EchoSubgraphs, given: str):
    async with serve(echo) as (client, _):
        response = await client.post(
            "/graphql",
            json={"query": "{ alphaHeaders }"},
            headers={"x-request-id": given},
        )
    rid = response.headers["x-request-id"]
    seen = json.loads(response.json()["data"]["alphaHeaders"])
    assert (len(rid), seen["x-request-id"]) == (32, rid)
