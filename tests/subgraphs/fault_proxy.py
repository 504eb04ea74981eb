"""A fault-injecting HTTP hop in front of the real inventory subgraph.

Only calls of one field (reserveStock unless told otherwise) are disturbed;
everything else (release, /health) passes straight through, so the
compensation path runs for real.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

PASS = "pass"
REFUSE = "refuse"  # answer 503 without forwarding: inventory never sees the call
LOSE_RESPONSE = "lose-response"  # forward, then answer 502: inventory did reserve
SLOW_RESPONSE = "slow-response"  # forward, then answer after `delay`: caller times out
SLOW_REQUEST = "slow-request"  # wait `delay`, then forward: arrives after the caller gave up


class FaultProxy:
    def __init__(self, target: str, delay: float = 1.5, field: bytes = b"reserveStock") -> None:
        self.name = "inventory-fault-proxy"
        self.field = field
        self.target = target.rstrip("/")
        self.delay = delay
        self.mode = PASS
        self.config: dict[str, Any] = {}
        self._inflight: set[asyncio.Task[Any]] = set()
        self._http: httpx.AsyncClient | None = None

    async def idle(self) -> None:
        """Wait until every disturbed call has finished on the inventory side."""
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._http = httpx.AsyncClient(timeout=30)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    if self._http is not None:
                        await self._http.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        disturbed = self.field in body and self.mode != PASS
        if disturbed and self.mode == REFUSE:
            await self._respond(send, 503, b"unavailable")
            return
        forward = asyncio.ensure_future(self._forward(scope, body))
        if disturbed:
            self._inflight.add(forward)
            forward.add_done_callback(self._inflight.discard)
        status, content = await forward
        if disturbed and self.mode == LOSE_RESPONSE:
            await self._respond(send, 502, b"bad gateway")
            return
        if disturbed and self.mode == SLOW_RESPONSE:
            await asyncio.sleep(self.delay)
        await self._respond(send, status, content)

    async def _forward(self, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
        if self.field in body and self.mode == SLOW_REQUEST:
            await asyncio.sleep(self.delay)
        headers = {
            k.decode(): v.decode()
            for k, v in scope["headers"]
            if k in (b"authorization", b"content-type")
        }
        assert self._http is not None
        response = await self._http.request(
            scope["method"], self.target + scope["path"], content=body, headers=headers
        )
        return response.status_code, response.content

    @staticmethod
    async def _respond(send: Any, status: int, content: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
