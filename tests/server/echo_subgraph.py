"""Test subgraphs that report what they received: each answers its root field with the
request headers it got (as a JSON string), or misbehaves on purpose (hang, 500, 503)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from router import Router
from router.composition import SubgraphSource, compose

SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
type Query {{ {name}Headers: String }}
"""


@dataclass
class Behaviour:
    mode: str = "ok"  # ok | hang | status
    status: int = 500
    fail_times: int = -1  # with mode=status: fail this many times, then answer (-1: always)
    requests: list[dict[str, str]] = field(default_factory=list)


class EchoSubgraphs:
    """Several subgraphs on one server, at /<name>."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.behaviour = {name: Behaviour() for name in names}
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                name = self.path.strip("/")
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                behaviour = outer.behaviour[name]
                headers = {k.lower(): v for k, v in self.headers.items()}
                behaviour.requests.append(headers)
                if behaviour.mode == "hang":
                    outer.release.wait(30)
                    return
                if behaviour.mode == "status" and behaviour.fail_times != 0:
                    behaviour.fail_times -= 1
                    self._answer(behaviour.status, b"subgraph failure")
                    return
                if "_service" in body.get("query", ""):
                    data: dict[str, Any] = {"_service": {"sdl": SDL.format(name=name)}}
                else:
                    data = {f"{name}Headers": json.dumps(headers, sort_keys=True)}
                self._answer(200, json.dumps({"data": data}).encode())

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def supergraph(self, urls: dict[str, str] | None = None) -> str:
        urls = urls or {name: self.url(name) for name in self.names}
        result = compose(
            [SubgraphSource(name, urls[name], SDL.format(name=name)) for name in self.names]
        )
        assert result.supergraph_sdl is not None, result.errors
        return result.supergraph_sdl

    def router(self, urls: dict[str, str] | None = None, **options: Any) -> Router:
        return Router.from_supergraph(self.supergraph(urls), **options)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    time.sleep(0)
    return f"http://127.0.0.1:{port}/graphql"
