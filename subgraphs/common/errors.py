"""Errors with `extensions.code`, and the one place that turns errors into JSON.

Resolvers raise `ApiError` subclasses for request-level failures (auth, unknown
ids, malformed arguments). Anything else that escapes a resolver is a bug: it
is logged with its traceback and reported to the client only as
INTERNAL_SERVER_ERROR, so no stack trace, SQL or secret ever leaves the process.
The log line itself withholds the messages of database errors: they quote SQL
parameters (a password hash, an email) and PostgreSQL's messages quote values.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from graphql import GraphQLError

logger = logging.getLogger("shopgraph.errors")

INTERNAL_MESSAGE = "Internal server error"


class ApiError(Exception):
    """An error a resolver raises on purpose: its message is shown, with `code` in extensions."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # the input path at fault, as in userErrors: ["input", "email"]
        self.field = field
        # more entries for the error's `extensions` beside `code` (e.g. retryAfter)
        self.extensions: dict[str, Any] = {}


class Unauthenticated(ApiError):
    """No valid credentials: a missing, expired or forged token."""

    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    """Valid credentials without the right to do this."""

    code = "FORBIDDEN"


class BadUserInput(ApiError):
    """An argument this field cannot take (the schema allowed it, the domain does not)."""

    code = "BAD_USER_INPUT"


class NotFound(ApiError):
    """The thing the operation names does not exist."""

    code = "NOT_FOUND"


class ServiceUnavailable(ApiError):
    """Another subgraph the answer needs cannot be reached; retrying later may work."""

    code = "SERVICE_UNAVAILABLE"


# Exceptions from these libraries may quote SQL parameters or the values PostgreSQL
# rejected, in their message or their chained causes.
_DATABASE_LIBRARIES = frozenset({"sqlalchemy", "asyncpg"})
_MAX_CHAIN = 16  # causes shown per log line
# A run of bind placeholders, as an IN (...) list renders them: "$1::UUID, $2::UUID, ..."
_PLACEHOLDER_RUN = re.compile(r"(\$\d+(?:::\w+)?)(?:, \$\d+(?:::\w+)?)+, (\$\d+(?:::\w+)?)")


def _summary(error: BaseException) -> str:
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    if type(error).__module__.split(".")[0] not in _DATABASE_LIBRARIES:
        try:
            return f"{kind}: {error}"
        except Exception:  # a broken __str__ must not break the log line
            return f"{kind}: <unprintable>"
    details = []
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str):
        details.append(f"sqlstate {sqlstate}")
    statement = getattr(error, "statement", None)
    if isinstance(statement, str):
        # an IN list of a thousand keys is a thousand placeholders: shown as first, last
        details.append("SQL: " + _PLACEHOLDER_RUN.sub(r"\1, …, \2", " ".join(statement.split())))
    details.append("message withheld (it may quote SQL parameters)")
    return f"{kind}: {'; '.join(details)}"


def describe_exception(error: BaseException) -> str:
    """`error`'s traceback and causes for a log line, without database error messages.

    Frames and source lines as `traceback` prints them; database errors show
    their type, SQLSTATE and statement (no parameters, no message).
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < _MAX_CHAIN and all(c is not current for c in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for exc in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        parts.append(_summary(exc) + "\n")
    return "".join(parts).rstrip()


def log_unexpected(log: logging.Logger, message: str, *args: Any, error: BaseException) -> None:
    """Log a bug at ERROR with a traceback safe for logs (see `describe_exception`)."""
    log.error(message + "\n%s", *args, describe_exception(error))


def _unexpected(error: BaseException | None) -> bool:
    return error is not None and not isinstance(error, ApiError | GraphQLError)


def format_execution_errors(errors: Sequence[GraphQLError]) -> list[dict[str, Any]]:
    """Every error of an execution result, formatted (see `format_execution_error`).

    One unexpected exception that failed many fields (a DataLoader batch that
    failed is raised in every field that awaited it) is logged once, with the
    number of fields it failed, not once per field.
    """
    shared = Counter(id(e.original_error) for e in errors if _unexpected(e.original_error))
    logged: set[int] = set()
    formatted = []
    for error in errors:
        key = id(error.original_error)
        formatted.append(format_execution_error(error, 0 if key in logged else shared[key]))
        logged.add(key)
    return formatted


def format_execution_error(error: GraphQLError, fields_failed: int = 1) -> dict[str, Any]:
    """An error raised while resolving fields; unexpected ones are masked and logged.

    `fields_failed` is how many fields the same unexpected exception failed (it is
    logged with the first of them), 0 when it has been logged already.
    """
    original = error.original_error
    message = error.message
    extensions: dict[str, Any] = {}
    if isinstance(original, ApiError):
        code = original.code
        if original.field is not None:
            extensions["field"] = original.field
        extensions.update(original.extensions)
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
        if fields_failed:
            more = f" (and {fields_failed - 1} more fields)" if fields_failed > 1 else ""
            log_unexpected(logger, "Unexpected error at %s%s", error.path, more, error=original)
    formatted: dict[str, Any] = {"message": message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path is not None:
        formatted["path"] = list(error.path)
    formatted["extensions"] = {"code": code, **extensions}
    return formatted
