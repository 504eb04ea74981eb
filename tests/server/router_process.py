"""`shopgraph router` as a real process on a free port, over a supergraph file and a
router.yaml written to a folder (for tests that speak real HTTP to the router)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class RouterServer:
    """A running router: its base URL and log file."""

    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"router not up; log:\n{log.read_text()}")


@contextmanager
def router_process(folder: Path, supergraph: str, config: dict[str, Any]) -> Iterator[RouterServer]:
    """Run `shopgraph router` over `supergraph` with `config` until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "supergraph.graphql").write_text(supergraph)
    (folder / "router.yaml").write_text(yaml.safe_dump(config))
    port = _free_port()
    argv = [
        sys.executable, "-m", "router.cli", "router",
        "--supergraph", str(folder / "supergraph.graphql"),
        "--config", str(folder / "router.yaml"),
        "--listen", f"127.0.0.1:{port}",
        "--poll-interval", "0",
    ]  # fmt: skip
    log_path = folder / "router.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_up(process, url, log_path)
            yield RouterServer(url, log_path)
        finally:
            process.terminate()
            process.wait(10)
