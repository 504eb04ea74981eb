"""Serving one port with N worker processes under a supervising parent.

The parent binds the port before any worker starts (a taken port or a bad address fails
at once), one listening socket per worker with SO_REUSEPORT where the platform has it: the
kernel then spreads new connections over the sockets, so over the workers, by a hash of
each connection's addresses. Without SO_REUSEPORT every worker accepts from one shared
socket. The parent keeps its copy of every socket, so connections arriving while a worker
restarts wait in that socket's backlog instead of being refused.

Each worker is a fresh interpreter (`python -m router.server.workers TARGET`): it builds
its own app, event loop and connection pool, none inherited half-running from the parent.
Worker and parent share a socketpair, the lifeline: the worker writes `READY` on it once
it serves, and it sees the parent die as the lifeline's end of file (then it stops as on
SIGTERM). The parent sees a worker die the same way, restarts it after a growing delay,
and gives the worker's slot up after `START_ATTEMPTS` starts in a row that never served.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

log = logging.getLogger("shopgraph.router.workers")

READY = b"ready\n"
START_TIMEOUT = 60.0  # seconds a worker may take to build its app and serve
START_ATTEMPTS = 5  # starts in a row that never served before a slot is given up
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 30.0  # seconds before a restart, doubling per crash
STABLE_SECONDS = 30.0  # a worker that served this long before dying restarts quickly again
STOP_MARGIN = 5.0  # seconds past the workers' grace before they are killed
BACKLOG = 2048  # uvicorn's default


def reuse_port_available() -> bool:
    """Whether this platform lets several sockets listen on one port (SO_REUSEPORT)."""
    return hasattr(socket, "SO_REUSEPORT")


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on host:port, one per worker, with SO_REUSEPORT; without
    it, one socket `count` times over. Raises OSError when the port is taken, even by a
    process that set SO_REUSEPORT itself (its sockets would otherwise share our port)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    # a plain bind first: it fails on any listener, a reuse-port group included
    with _listener(family, kind, proto, address, reuse_port=False) as probe:
        address = probe.getsockname()  # the port chosen, if port 0 was asked for
    if not reuse_port_available():
        return [_listener(family, kind, proto, address, reuse_port=False)] * count
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_listener(family, kind, proto, address, reuse_port=True))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listener(family: int, kind: int, proto: int, address: Any, *, reuse_port: bool
              ) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)  # handed to its worker only, through pass_fds
    return sock


@dataclass
class _Slot:
    """One worker's place: its socket, and the process now filling it (if any)."""

    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes] | None = None
    lifeline: socket.socket | None = None
    started_at: float = 0.0
    ready_at: float | None = None
    failed_starts: int = 0
    backoff: float = field(default_factory=lambda: FIRST_BACKOFF)
    restart_at: float | None = None
    served: bool = False  # some process in this slot served once
    given_up: bool = False


@dataclass
class Supervisor:
    """Starts a worker per socket, restarts those that die, and stops them all on
    SIGINT/SIGTERM, giving running requests `grace` seconds. `command` runs one worker
    (it gets `--socket-fd` and `--lifeline-fd`); `on_exit(pid)` runs for each worker gone."""

    command: list[str]
    sockets: list[socket.socket]
    grace: float
    env: dict[str, str] | None = None
    on_exit: Callable[[int], None] = lambda pid: None
    slots: list[_Slot] = field(init=False)
    _stopping: int = field(default=0, init=False)  # signals received

    def __post_init__(self) -> None:
        self.slots = [_Slot(i, sock) for i, sock in enumerate(self.sockets)]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()

    def run(self) -> int:
        """Serve until a signal (0) or until no worker can start (1)."""
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        previous_wakeup = signal.set_wakeup_fd(self._wake_w.fileno())
        try:
            for slot in self.slots:
                self._start(slot)
            code = self._supervise()
        finally:
            self._stop_all()
            signal.set_wakeup_fd(previous_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close()
        return code

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stopping += 1
        if self._stopping > 1:  # asked again: running requests are cut short
            self._signal_workers(signal.SIGINT)

    def _supervise(self) -> int:
        while not self._stopping:
            if all(slot.given_up for slot in self.slots):
                log.error("no worker could start: stopping")
                return 1
            failed = self._first_start_failed()
            if failed is not None:
                log.error("worker %d could not start: stopping", failed)
                return 1
            for key, _ in self._selector.select(self._timeout()):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(512)
                else:
                    self._lifeline_readable(key.data)
            self._restart_due()
            self._check_start_deadlines()
        return 0

    def _first_start_failed(self) -> int | None:
        """The number of a worker whose very first start failed, if any: the router
        cannot start at all, so retrying would only repeat the error."""
        for slot in self.slots:
            if slot.failed_starts and not slot.served:
                return slot.index + 1
        return None

    def _timeout(self) -> float | None:
        due = [s.restart_at for s in self.slots if s.restart_at is not None]
        due += [s.started_at + START_TIMEOUT for s in self.slots
                if s.process is not None and s.ready_at is None]
        return max(0.0, min(due) - time.monotonic()) if due else None

    # -- one worker -----------------------------------------------------------------------

    def _start(self, slot: _Slot) -> None:
        ours, theirs = socket.socketpair()
        fds = (slot.sock.fileno(), theirs.fileno())
        command = [*self.command, "--socket-fd", str(fds[0]), "--lifeline-fd", str(fds[1])]
        slot.process = subprocess.Popen(
            command,
            pass_fds=fds,
            env=self.env,
            # signals come from the supervisor only, not from the terminal's Ctrl-C
            process_group=0,
        )
        theirs.close()
        ours.setblocking(False)
        slot.lifeline, slot.started_at, slot.ready_at, slot.restart_at = (
            ours, time.monotonic(), None, None)
        self._selector.register(ours, selectors.EVENT_READ, slot)

    def _lifeline_readable(self, slot: _Slot) -> None:
        assert slot.lifeline is not None
        try:
            data = slot.lifeline.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            if READY in data and slot.ready_at is None:
                slot.ready_at = time.monotonic()
                slot.failed_starts = 0
                slot.served = True
            return
        self._worker_gone(slot)

    def _worker_gone(self, slot: _Slot, reason: str = "") -> None:
        """The worker's lifeline closed (it exited) or it overran its start: reap it and
        plan its restart, or give its slot up."""
        assert slot.process is not None and slot.lifeline is not None
        self._selector.unregister(slot.lifeline)
        slot.lifeline.close()
        code = _reap(slot.process, STOP_MARGIN)
        pid, slot.process, slot.lifeline = slot.process.pid, None, None
        self.on_exit(pid)
        if self._stopping:
            return
        now = time.monotonic()
        if slot.ready_at is None:
            slot.failed_starts += 1
        elif now - slot.ready_at >= STABLE_SECONDS:
            slot.backoff = FIRST_BACKOFF
        what = reason or f"exited with {_describe(code)}"
        if slot.failed_starts >= START_ATTEMPTS:
            log.error("worker %d (pid %d) %s; %d starts in a row failed: giving it up",
                      slot.index + 1, pid, what, slot.failed_starts)
            self._give_up(slot)
            return
        log.warning("worker %d (pid %d) %s; restarting in %.1f s",
                    slot.index + 1, pid, what, slot.backoff)
        slot.restart_at = now + slot.backoff
        slot.backoff = min(slot.backoff * 2, MAX_BACKOFF)

    def _give_up(self, slot: _Slot) -> None:
        slot.given_up = True
        # its own socket leaves the reuse-port group, so the kernel stops sending it
        # connections nobody would accept; a shared socket stays for the others
        if sum(s.sock is slot.sock for s in self.slots) == 1:
            slot.sock.close()

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.restart_at is not None and slot.restart_at <= now:
                self._start(slot)

    def _check_start_deadlines(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            late = slot.process is not None and slot.ready_at is None
            if late and now - slot.started_at > START_TIMEOUT:
                assert slot.process is not None
                slot.process.kill()
                self._worker_gone(slot, f"did not serve within {START_TIMEOUT:g} s")

    # -- stopping -------------------------------------------------------------------------

    def _signal_workers(self, sig: int) -> None:
        for slot in self.slots:
            if slot.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(sig)

    def _stop_all(self) -> None:
        """SIGTERM to every worker; those still running after the grace are killed."""
        self._stopping = max(self._stopping, 1)
        self._signal_workers(signal.SIGTERM)
        # once the workers close theirs too, the port refuses new connections at once
        # instead of queueing them where nobody will accept them
        for slot in self.slots:
            slot.sock.close()
        deadline = time.monotonic() + self.grace + STOP_MARGIN
        for slot in self.slots:
            if slot.process is None:
                continue
            _reap(slot.process, max(0.0, deadline - time.monotonic()))
            self.on_exit(slot.process.pid)
            slot.process = None

    def _close(self) -> None:
        for slot in self.slots:
            if slot.lifeline is not None:
                slot.lifeline.close()
            slot.sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _reap(process: subprocess.Popen[bytes], wait: float) -> int:
    """The process's exit status, killing it if it is not done within `wait` seconds."""
    try:
        return process.wait(wait)
    except subprocess.TimeoutExpired:
        log.warning("worker pid %d did not stop in time: killed", process.pid)
        process.kill()
        return process.wait()


def _describe(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"status {code}"


# -- the worker side ----------------------------------------------------------------------


def serve(app: Any, server_options: dict[str, Any], sock: socket.socket,
          lifeline: socket.socket) -> None:
    """Serve `app` with uvicorn on the listening socket `sock` until SIGTERM/SIGINT or
    the supervisor's end; tell the supervisor on `lifeline` once serving."""
    server = WorkerServer(uvicorn.Config(app, **server_options), lifeline)
    server.run(sockets=[sock])


class WorkerServer(uvicorn.Server):
    """uvicorn's server, reporting to its supervisor over the lifeline."""

    def __init__(self, config: uvicorn.Config, lifeline: socket.socket) -> None:
        super().__init__(config)
        self.lifeline = lifeline

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then say so on the lifeline and watch it for the end."""
        await super().startup(sockets)
        if not self.started:
            return
        self.lifeline.setblocking(False)
        asyncio.get_running_loop().add_reader(self.lifeline, self._lifeline_event)
        self.lifeline.send(READY)

    def _lifeline_event(self) -> None:
        try:
            if self.lifeline.recv(64):
                return
        except BlockingIOError:
            return
        except OSError:  # reset: gone as surely as at end of file
            pass
        # the supervisor is gone: stop as if it had sent SIGTERM
        asyncio.get_running_loop().remove_reader(self.lifeline)
        self.should_exit = True


def main(argv: list[str] | None = None) -> int:
    """`python -m router.server.workers MODULE:FUNCTION --socket-fd N --lifeline-fd M`:
    one worker. FUNCTION() builds the app and returns it with uvicorn's options."""
    parser = argparse.ArgumentParser(prog="router.server.workers")
    parser.add_argument("target")
    parser.add_argument("--socket-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    args = parser.parse_args(argv)
    module, _, name = args.target.partition(":")
    sock = socket.socket(fileno=args.socket_fd)
    lifeline = socket.socket(fileno=args.lifeline_fd)
    app, server_options = getattr(importlib.import_module(module), name)()
    serve(app, server_options, sock, lifeline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
