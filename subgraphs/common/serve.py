"""Serving a Quart app with hypercorn inside an already running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass

import httpx
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app
from quart import Quart


@dataclass
class RunningServer:
    """A subgraph app served in this event loop, until `stop`."""

    app: Quart
    name: str
    url: str
    task: asyncio.Task[None]
    shutdown: asyncio.Event

    @property
    def graphql_url(self) -> str:
        """The URL of the server's GraphQL endpoint."""
        return f"{self.url}/graphql"

    async def stop(self) -> None:
        """Shut the server down gracefully and wait until it has."""
        self.shutdown.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it a kept-alive connection waits ~40 ms (Nagle + delayed ACK) per answer.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def start_server(
    app: Quart, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 60.0
) -> RunningServer:
    """Bind (port 0 = any free port), start serving, and return once /health answers."""
    sock = _listen(host, port)
    bound_port = sock.getsockname()[1]
    config = Config()
    config.accesslog = None
    config.graceful_timeout = 3
    config.keep_alive_timeout = 30
    # A WebSocket message over the app's body limit is refused (1009) as it arrives,
    # not after hypercorn has buffered up to its own default of 16 MiB.
    config.websocket_max_message_size = app.config.get("MAX_CONTENT_LENGTH") or (
        config.websocket_max_message_size
    )
    shutdown = asyncio.Event()
    task = asyncio.create_task(
        worker_serve(
            wrap_app(app, config.wsgi_max_body_size, "asgi"),
            config,
            sockets=Sockets(secure_sockets=[], insecure_sockets=[sock], quic_sockets=[]),
            shutdown_trigger=shutdown.wait,
        ),
        name=f"serve-{app.name}",
    )
    server = RunningServer(app, app.name, f"http://{host}:{bound_port}", task, shutdown)
    async with httpx.AsyncClient(timeout=startup_timeout) as client:
        probe = asyncio.ensure_future(client.get(f"{server.url}/health"))
        done, _ = await asyncio.wait(
            {probe, task}, timeout=startup_timeout, return_when="FIRST_COMPLETED"
        )
        if task in done:
            probe.cancel()
            task.result()  # re-raises the startup failure
            raise RuntimeError(f"{app.name} stopped during startup")
        if probe not in done:
            probe.cancel()
            await server.stop()
            raise TimeoutError(f"{app.name} did not start within {startup_timeout}s")
        response = probe.result()
        if response.status_code != 200:
            await server.stop()
            raise RuntimeError(f"{app.name} is unhealthy: {response.text}")
    return server
