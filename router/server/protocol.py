"""GraphQL-over-HTTP: turning HTTP requests into GraphQL requests, and media types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
MAX_OPERATION_NAME = 256
# A name no operation could have is refused here, unechoed: it would otherwise be
# quoted in error messages, logs and metrics labels.
OPERATION_NAME = re.compile(rf"[_A-Za-z][_0-9A-Za-z]{{0,{MAX_OPERATION_NAME - 1}}}")


class BadRequest(Exception):
    """A request the GraphQL-over-HTTP layer refuses, with its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class GraphQLRequest:
    """The fields of a GraphQL request, checked for their types."""

    query: str  # "" when only a persisted query hash was sent
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def _check(query: Any, variables: Any, operation_name: Any, extensions: Any) -> GraphQLRequest:
    if query is None and isinstance(extensions, dict) and "persistedQuery" in extensions:
        query = ""  # an APQ hash stands for the text (router.persisted_queries)
    elif not isinstance(query, str) or not query.strip():
        raise BadRequest("Missing query: the request must have a non-empty 'query' string.")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("'operationName' must be a string.")
    if operation_name and not OPERATION_NAME.fullmatch(operation_name):
        raise BadRequest(
            f"'operationName' must be a GraphQL name of at most {MAX_OPERATION_NAME} characters."
        )
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("'extensions' must be a JSON object.")
    return GraphQLRequest(query, variables, operation_name or None, extensions)


def parse_post(body: bytes, content_type: str) -> GraphQLRequest:
    """The GraphQL request in a POST body (JSON); BadRequest when it is not one."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in (APPLICATION_JSON, "application/graphql+json", ""):
        raise BadRequest(f"Unsupported content type '{media}': send application/json.", 415)
    if media == "":
        raise BadRequest("Missing Content-Type header: send application/json.", 415)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object.")
    return _check(
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
        payload.get("extensions"),
    )


def parse_get(query_string: bytes) -> GraphQLRequest:
    """The GraphQL request in a GET query string; BadRequest when it is not one."""
    params = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)

    def one(name: str) -> str | None:
        """The parameter's first value, if given."""
        values = params.get(name)
        return values[0] if values else None

    def json_param(name: str) -> Any:
        """The parameter parsed as JSON (None when absent or empty)."""
        raw = one(name)
        if raw is None or raw == "":
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise BadRequest(f"The '{name}' parameter is not valid JSON.") from error

    return _check(
        one("query"), json_param("variables"), one("operationName"), json_param("extensions")
    )


def negotiate(accept: str) -> str | None:
    """The response media type for an Accept header; None when none is acceptable."""
    if not accept:
        return APPLICATION_JSON
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON):
            chosen = media
        elif media in ("*/*", "application/*"):
            chosen = APPLICATION_JSON
        else:
            continue
        rank = (quality, -index, chosen)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _qualities(accept: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        media = pieces[0].lower()
        out[media] = max(out.get(media, 0.0), quality)
    return out


def wants_html(accept: str) -> bool:
    """A browser navigating here: text/html acceptable and not ranked below GraphQL JSON."""
    qualities = _qualities(accept)
    html = qualities.get("text/html", 0.0)
    json = max(qualities.get(GRAPHQL_RESPONSE_JSON, 0.0), qualities.get(APPLICATION_JSON, 0.0))
    return html > 0 and html >= json
