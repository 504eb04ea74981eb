"""Errors with `extensions.code`, and the one place that turns errors into JSON.

Resolvers raise `ApiError` subclasses for request-level failures (auth, unknown
ids, malformed arguments). Anything else that escapes a resolver is a bug: it
is logged with its traceback and reported to the client only as
INTERNAL_SERVER_ERROR, so no stack trace, SQL or secret ever leaves the process.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from graphql import GraphQLError

logger = logging.getLogger("shopgraph.errors")

INTERNAL_MESSAGE = "Internal server error"


class ApiError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class NotFound(ApiError):
    code = "NOT_FOUND"


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def format_request_error(error: GraphQLError, code: str) -> dict[str, Any]:
    """An error raised before execution (parse, validation, variables)."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    formatted["extensions"] = {"code": code}
    return formatted


def format_execution_error(error: GraphQLError) -> dict[str, Any]:
    """An error raised while resolving fields; unexpected ones are masked and logged."""
    original = error.original_error
    message = error.message
    if isinstance(original, ApiError):
        code = original.code
    elif isinstance(original, GraphQLError) or (original is None and error.path is None):
        # Input coercion failures: the client sent a value the schema rejects.
        code = "BAD_USER_INPUT"
    elif original is None:
        # e.g. a non-null field resolved to null: our bug, but the message is safe.
        code = "INTERNAL_SERVER_ERROR"
        logger.error("GraphQL execution error at %s: %s", error.path, message)
    else:
        code = "INTERNAL_SERVER_ERROR"
        message = INTERNAL_MESSAGE
        logger.error(
            "Unexpected error at %s",
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
    formatted: dict[str, Any] = {"message": message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path is not None:
        formatted["path"] = list(error.path)
    formatted["extensions"] = {"code": code}
    return formatted
