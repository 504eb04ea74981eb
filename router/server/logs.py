"""Logging: one JSON object per line (or plain text), each with the request id in scope."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import orjson

from router.config import LoggingConfig

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "shopgraph_request_id", default=None
)

# LogRecord attributes that are not `extra=` fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        current = request_id.get()
        return f"{text} request_id={current}" if current else text


def configure_logging(config: LoggingConfig, stream: Any = None) -> logging.Handler:
    """Send the router's logs (logger "shopgraph") to `stream` (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    logger = logging.getLogger("shopgraph")
    for old in list(logger.handlers):
        if getattr(old, "_shopgraph", False):
            logger.removeHandler(old)
    handler._shopgraph = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(config.level.upper())
    logger.propagate = False
    return handler
