"""`shopgraph router --workers N`: N processes on one port under a supervisor
(router/server/workers.py), spoken to over real sockets.

Which worker holds a connection is read from the OS (psutil): the worker whose socket
table has the connection's server end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest

from router.server import workers
from router.server.workers import Supervisor, bind_sockets
from tests.server.echo_subgraph import EchoSubgraphs
from tests.server.test_http_server_limits import RouterProcess, running_router

COUNT = re.compile(r'^shopgraph_requests_total\{operation="Spread",status="200"\} (\S+)$', re.M)
QUERY = {"query": "query Spread { alphaHeaders }"}
CONNECTIONS = 40


def _workers(router: RouterProcess) -> list[psutil.Process]:
    return psutil.Process(router.process.pid).children()


def _holders(router: RouterProcess, clients: list[socket.socket]) -> Counter[int]:
    """For each client socket, the pid of the worker holding its server end."""
    ends = {sock.getsockname() for sock in clients}
    held: Counter[int] = Counter()
    for worker in _workers(router):
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and tuple(conn.raddr) in ends and conn.laddr.port == router.port:
                held[worker.pid] += 1
    return held


def _ask(sock: socket.socket) -> bytes:
    body = b'{"query":"query Spread { alphaHeaders }"}'
    sock.sendall(
        b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
    )
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        answer += sock.recv(65536)
    return answer


def _scraped_count(router: RouterProcess) -> set[str]:
    """The request count in five scrapes, each on a new connection (any worker)."""
    found = set()
    for _ in range(5):
        with httpx.Client() as client:
            text = client.get(f"http://127.0.0.1:{router.port}/metrics").text
        found.update(COUNT.findall(text))
    return found


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory):
    with running_router(tmp_path_factory.mktemp("workers"), {}, "--workers", "2") as router:
        yield router


def test_connections_are_spread_over_both_workers_and_counted_once(router: RouterProcess):
    clients = [socket.create_connection(("127.0.0.1", router.port)) for _ in range(CONNECTIONS)]
    try:
        answers = [_ask(sock) for sock in clients]
        held = _holders(router, clients)
    finally:
        for sock in clients:
            sock.close()
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert sorted(held) == sorted(w.pid for w in _workers(router))
    assert len(held) == 2 and sum(held.values()) == CONNECTIONS
    assert min(held.values()) >= 5  # each took a share (40 coins, 2 sides)
    assert _scraped_count(router) == {f"{CONNECTIONS}.0"}


def test_a_killed_worker_is_restarted_and_its_counts_stay(router: RouterProcess):
    before = float(next(iter(_scraped_count(router))))
    victim, survivor = _workers(router)
    shared = Path(victim.environ()["PROMETHEUS_MULTIPROC_DIR"])
    assert (shared / f"gauge_livesum_{victim.pid}.db").exists()
    served = 0
    victim.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        # new connections all along: those the kernel gives the dead worker's socket
        # wait in its backlog until the new worker accepts them
        with httpx.Client(timeout=15) as client:
            assert client.post(f"http://127.0.0.1:{router.port}/graphql",
                               json=QUERY).status_code == 200
        served += 1
        now = {w.pid for w in _workers(router)}
        if len(now) == 2 and victim.pid not in now:
            break
    assert survivor.pid in now and len(now) == 2 and victim.pid not in now
    assert router.process.poll() is None
    # the dead worker's live gauge went, its counter file (and counts) stayed
    assert not (shared / f"gauge_livesum_{victim.pid}.db").exists()
    assert (shared / f"counter_{victim.pid}.db").exists()
    assert _scraped_count(router) == {f"{before + served}"}


def test_sigterm_lets_a_running_request_finish_then_stops_every_worker(tmp_path: Path):
    config = {"traffic": {"subgraph_timeout": 1.5}}
    with running_router(tmp_path, config, "--workers", "2") as router:
        pids = [w.pid for w in _workers(router)]
        router.echo.behaviour["alpha"].mode = "hang"
        answer: list[int] = []

        def ask() -> None:
            with httpx.Client(timeout=10) as client:
                url = f"http://127.0.0.1:{router.port}/graphql"
                answer.append(client.post(url, json=QUERY).status_code)

        asking = threading.Thread(target=ask)
        asking.start()
        while router.subgraph_calls() == 0:
            time.sleep(0.02)
        started = time.monotonic()
        router.process.send_signal(signal.SIGTERM)
        assert router.process.wait(10) == 0
        asking.join(5)
        took = time.monotonic() - started
    assert answer == [200]  # the subgraph timed out at 1.5 s: answered, not cut off
    assert 1.0 < took < 5.0
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids)


# -- the supervisor alone ----------------------------------------------------------------

WORKER = """
import socket, sys, time
from pathlib import Path
log = Path(sys.argv[1]); starts = len(log.read_text().splitlines()) if log.exists() else 0
log.write_text("start\\n" * (starts + 1))
lifeline = socket.socket(fileno=int(sys.argv[sys.argv.index("--lifeline-fd") + 1]))
if starts < {serving}:
    lifeline.send(b"ready\\n"); time.sleep(0.3)
sys.exit(3)
"""


def _supervise(tmp_path: Path, serving: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Run a supervisor of one worker whose first `serving` starts serve 0.3 s then
    exit; the others fail at once. Its exit code and the number of starts."""
    monkeypatch.setattr(workers, "FIRST_BACKOFF", 0.01)
    log = tmp_path / "starts"
    command = [sys.executable, "-c", WORKER.format(serving=serving), str(log)]
    supervisor = Supervisor(command, bind_sockets("127.0.0.1", 0, 1), grace=1)
    code = supervisor.run()
    return code, len(log.read_text().splitlines())


def test_a_worker_that_never_starts_stops_the_router_at_once(tmp_path, monkeypatch):
    assert _supervise(tmp_path, 0, monkeypatch) == (1, 1)


def test_a_worker_that_cannot_start_again_is_given_up_after_a_few_tries(tmp_path, monkeypatch):
    assert _supervise(tmp_path, 2, monkeypatch) == (1, 2 + workers.START_ATTEMPTS)


def test_each_worker_gets_its_own_socket_on_the_port_where_reuse_port_exists():
    sockets = bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and len({sock.fileno() for sock in sockets}) == 3
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for sock in sockets)
        # another process's reuse-port listener may not join the group...
        with pytest.raises(OSError):
            bind_sockets("127.0.0.1", ports.pop(), 1)
    finally:
        for sock in sockets:
            sock.close()


def test_without_reuse_port_the_workers_share_one_socket(monkeypatch):
    monkeypatch.setattr(workers, "reuse_port_available", lambda: False)
    sockets = bind_sockets("127.0.0.1", 0, 2)
    try:
        assert sockets[0] is sockets[1]
        assert not sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    finally:
        sockets[0].close()


def test_a_taken_port_is_refused_before_any_worker_starts(tmp_path: Path):
    echo = EchoSubgraphs("alpha")
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(echo.supergraph())
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            done = subprocess.run(
                [sys.executable, "-m", "router.cli", "router", "--supergraph", str(supergraph),
                 "--listen", f"127.0.0.1:{port}", "--workers", "2"],
                capture_output=True, text=True, timeout=30,
            )
    finally:
        echo.close()
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_metrics_directories_of_routers_that_died_are_removed_at_the_next_start(tmp_path):
    # a SIGKILL of the parent left its multiprocess metrics directory behind for ever
    from router.commands.router import METRICS_PREFIX, remove_orphan_metrics

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid names no process now
    dead = tmp_path / f"{METRICS_PREFIX}{gone.pid}-abc"
    live = tmp_path / f"{METRICS_PREFIX}{os.getpid()}-def"
    other = tmp_path / "shopgraph-metrics-notapid-x"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"x")
    assert remove_orphan_metrics(str(tmp_path)) == [dead.name]
    assert not dead.exists() and live.exists() and other.exists()
