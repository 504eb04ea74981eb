"""Incremental delivery over HTTP: `@defer` payloads as `multipart/mixed` (Apollo's
`deferSpec=20220824` wire format, what Apollo Client and urql read).

The response is `content-type: multipart/mixed; boundary="-"; deferSpec=20220824`. Each
payload is sent as soon as it is ready, as one chunk that ends with the delimiter after
it (a multipart reader, Apollo Client's among them, only knows a part is complete when it
sees the next delimiter):

    \r\n---                                       (once, first)
    \r\ncontent-type: application/json; charset=utf-8\r\n\r\n{...}\r\n---
    ...
    \r\ncontent-type: application/json; charset=utf-8\r\n\r\n{..., "hasNext": false}\r\n-----\r\n

A client that goes away mid-stream (`http.disconnect`) stops the parts still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson

from router.errors import coded_error
from router.server.asgi import disconnected
from router.server.protocol import APPLICATION_JSON

log = logging.getLogger("router.server")

MULTIPART = "multipart/mixed"
CONTENT_TYPE = b'multipart/mixed; boundary="-"; deferSpec=20220824'
_FIRST = b"\r\n---"
_HEAD = b"\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
_NEXT = b"\r\n---"
_END = b"\r\n-----\r\n"
_CLOSE = b"--\r\n"  # after a `\r\n---` already sent: the closing delimiter


def wants_multipart(accept: str) -> bool:
    """Whether the Accept header takes `multipart/mixed` with the deferSpec this router
    speaks (20220824) or none named (q=0 refuses it)."""
    if "multipart/" not in accept.lower():
        return False  # every request asks: the common answer without parsing
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() != MULTIPART:
            continue
        params = dict(p.split("=", 1) for p in pieces[1:] if "=" in p)
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        spec = params.get("deferSpec", params.get("deferspec"))
        if spec is None or spec.strip('"') == "20220824":
            return True
    return False


def fallback_media(accept: str) -> str | None:
    """The media of answers that are not streamed (errors, operations that defer
    nothing) to a client that accepts only multipart: JSON (None otherwise)."""
    return APPLICATION_JSON if wants_multipart(accept) else None


def encode_part(payload: dict[str, Any], first: bool = False) -> bytes:
    """One payload as a chunk of the body: the part and the delimiter after it (the
    closing one after the last payload)."""
    last = payload.get("hasNext") is False
    return (_FIRST if first else b"") + _HEAD + orjson.dumps(payload) + (_END if last else _NEXT)


async def send_multipart(
    send: Any, receive: Any, payloads: AsyncIterator[dict[str, Any]], extra: list[Any]
) -> None:
    """Stream `payloads` as the response body; stop them when the client disconnects.
    `extra`: more response headers (the request id is added by the app's `send`)."""
    headers = [(b"content-type", CONTENT_TYPE), (b"cache-control", b"no-cache"), *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    gone = asyncio.ensure_future(disconnected(receive))
    first = True
    try:
        while True:
            step = asyncio.ensure_future(anext(payloads, None))
            await asyncio.wait((step, gone), return_when=asyncio.FIRST_COMPLETED)
            if not step.done():  # the client left first
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step
                return
            payload = _payload_or_error(step)
            if payload is None:  # ended without a last payload: close what was opened
                closing = _END if first else _CLOSE
                await send({"type": "http.response.body", "body": closing, "more_body": False})
                return
            last = payload.get("hasNext") is False
            chunk = encode_part(payload, first)
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})
            first = False
            if last:
                return
    finally:
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gone
        aclose = getattr(payloads, "aclose", None)
        if aclose is not None:
            await aclose()  # cancels the fetches of parts still running


def _payload_or_error(step: asyncio.Future[Any]) -> dict[str, Any] | None:
    """The next payload; a bug while producing it ends the stream with a coded error."""
    try:
        return step.result()
    except Exception:  # never a stack trace to the client
        log.exception("unexpected error executing a deferred part")
        error = coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")
        return {"hasNext": False, "errors": [error]}
