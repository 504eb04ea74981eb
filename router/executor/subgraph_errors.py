"""What the router reports of the `errors` in a subgraph's answer.

A subgraph's answer is checked once, where the executor merges it (an HTTP fetch's answer
and a subscription event alike): `errors` must be a list of error objects, each with a
string `message`, an object `extensions` and a `path` of keys and indexes (any of them may
be left out). Anything else is not passed on piece by piece: a string of a million
characters would otherwise become a million errors. It is one coded error for that answer
instead, saying the subgraph's `errors` was invalid, beside whatever well-formed errors it
held. And one answer adds at most MAX_SUBGRAPH_ERRORS errors to the response, then one
error saying the rest were left out, so a subgraph cannot make a response grow by more
than a bounded number of errors per fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from router.executor.fetcher import HTTP_ERROR

MAX_SUBGRAPH_ERRORS = 100

DOWNSTREAM_ERROR = "DOWNSTREAM_SERVICE_ERROR"

ErrorList = list[dict[str, Any]]


def plain_path(path: Any) -> bool:
    """Whether a subgraph error's path is a list of keys and indexes (it is not checked
    by anyone before us)."""
    return isinstance(path, list) and all(isinstance(step, str | int) for step in path)


def add_subgraph_errors(
    out: ErrorList,
    errors: Any,
    service: str,
    report: Callable[[ErrorList], Iterable[dict[str, Any]]],
) -> None:
    """Append to `out` what the router reports of a subgraph answer's `errors` value (not
    None): `report` of its well-formed error objects, in order, at most
    MAX_SUBGRAPH_ERRORS of them and then one error for the rest; and one coded error when
    the value is not a list or some of its items are not well-formed error objects."""
    if not isinstance(errors, list):
        found: ErrorList = []
        problem = f"{_kind(errors)}, not a list of error objects"
    else:
        found = [error for error in errors if _well_formed(error)]
        left = len(errors) - len(found)
        problem = f"{left} of its {len(errors)} items are not error objects" if left else ""
    reported = list(islice(report(found), MAX_SUBGRAPH_ERRORS + 1))
    if len(reported) > MAX_SUBGRAPH_ERRORS:
        reported[MAX_SUBGRAPH_ERRORS:] = [_left_out(service)]
    out.extend(reported)
    if problem:
        message = f"Subgraph '{service}' returned an invalid 'errors' value: {problem}."
        out.append(_router_error(message, HTTP_ERROR, service))


def subgraph_error(
    error: dict[str, Any], service: str, path: list[str | int] | None
) -> dict[str, Any]:
    """A well-formed subgraph error as the client gets it: its message, `path` (the
    client's, or none), and its extensions with `serviceName` and a default `code`."""
    out: dict[str, Any] = {"message": error.get("message") or "Subgraph error"}
    if path is not None:
        out["path"] = path
    extensions = dict(error.get("extensions") or {})
    extensions.setdefault("code", DOWNSTREAM_ERROR)
    extensions["serviceName"] = service
    out["extensions"] = extensions
    return out


def _well_formed(error: Any) -> bool:
    """An error object whose `message`, `extensions` and `path` (each optional) have
    the types the response format gives them."""
    if not isinstance(error, dict):
        return False
    message = error.get("message")
    extensions = error.get("extensions")
    path = error.get("path")
    return (
        (message is None or isinstance(message, str))
        and (extensions is None or isinstance(extensions, dict))
        and (path is None or plain_path(path))
    )


def _kind(value: Any) -> str:
    """A decoded value's JSON type with its article ("null", "an object", "a number"), for
    a message that never quotes the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    # nothing else comes out of a JSON document
    return {str: "a string", dict: "an object", list: "a list"}.get(type(value), "a value")


def _left_out(service: str) -> dict[str, Any]:
    message = (
        f"Subgraph '{service}' returned more errors than the router reports for one "
        f"fetch ({MAX_SUBGRAPH_ERRORS}); the rest were left out."
    )
    return _router_error(message, DOWNSTREAM_ERROR, service)


def _router_error(message: str, code: str, service: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, "serviceName": service}}
