"""GraphQL errors as the router answers them: a message, where known the locations,
and always `extensions.code`."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


def coded_error(
    message: str, code: str, locations: list[dict[str, int]] | None = None
) -> dict[str, Any]:
    """A GraphQL error dict with `extensions.code` (and `locations` when given)."""
    out: dict[str, Any] = {"message": message}
    if locations:
        out["locations"] = locations
    out["extensions"] = {"code": code}
    return out


def from_graphql_error(error: GraphQLError, code: str) -> dict[str, Any]:
    """graphql-core's error as a coded GraphQL error dict, locations kept."""
    locations = [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]
    return coded_error(error.message, code, locations)


class RequestError(Exception):
    """The request cannot be executed; carries GraphQL-formatted errors and the HTTP
    status to answer with when the client asked for application/graphql-response+json
    (400: the request's fault; 503: the router is too busy to prepare it now)."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400) -> None:
        super().__init__(errors[0]["message"] if errors else "request error")
        self.errors = errors
        self.status = status
