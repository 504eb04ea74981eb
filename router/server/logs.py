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
    """One JSON object per line, with the request id and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
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
    """Plain text lines ending with the request id (when there is one)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a text line."""
        text = super().format(record)
        current = request_id.get()
        return f"{text} request_id={current}" if current else text


class _RouterHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs (and replaces when called again)."""


def configure_logging(config: LoggingConfig, stream: Any = None) -> logging.Handler:
    """Send the router's logs (logger "shopgraph") to `stream` (stderr) in the chosen format."""
    handler = _RouterHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    logger = logging.getLogger("shopgraph")
    for old in list(logger.handlers):
        if isinstance(old, _RouterHandler):
            logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(config.level.upper())
    logger.propagate = False
    return handler
