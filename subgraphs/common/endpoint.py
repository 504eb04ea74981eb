"""A GraphQL-over-HTTP endpoint: parse+validate once per query text, execute, format.

Strawberry builds the schema; execution goes straight to graphql-core so the
parsed and validated document can be cached per operation text and errors
formatted in one place (`errors.py`). Before a field's resolver runs, an
internal root field checks the service role (`internal.py`) and every argument
passes the input guard (`inputs.py`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    MiddlewareManager,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
)

from .errors import error_body, format_execution_error, format_request_error
from .inputs import InputGuard
from .internal import InternalFieldGuard

CACHE_SIZE = 512


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[dict[str, Any], ...] = ()


class RequestError(Exception):
    """The HTTP request itself is malformed (status 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.body = {"errors": [error_body(message, "BAD_REQUEST")]}


class GraphQLEndpoint:
    def __init__(self, schema: strawberry.federation.Schema) -> None:
        self.schema: GraphQLSchema = schema._schema
        self._prepared: OrderedDict[str, Prepared] = OrderedDict()
        # One manager for the endpoint's life: it caches the wrapped resolvers. The last
        # middleware runs first: a caller without the role learns nothing about inputs.
        self._middleware = MiddlewareManager(InputGuard(), InternalFieldGuard(self.schema))

    def prepare(self, query: str) -> Prepared:
        cached = self._prepared.get(query)
        if cached is not None:
            self._prepared.move_to_end(query)
            return cached
        try:
            document = parse(query)
        except GraphQLError as error:
            prepared = Prepared(None, (format_request_error(error, "GRAPHQL_PARSE_FAILED"),))
        else:
            errors = validate(self.schema, document)
            prepared = Prepared(
                None if errors else document,
                tuple(format_request_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors),
            )
        self._prepared[query] = prepared
        if len(self._prepared) > CACHE_SIZE:
            self._prepared.popitem(last=False)
        return prepared

    async def run(
        self, payload: Any, context: Any, *, allow_mutations: bool = True
    ) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise RequestError("Request body must be a JSON object")
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise RequestError("Request must contain a `query` string")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError("`variables` must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestError("`operationName` must be a string")

        prepared = self.prepare(query)
        if prepared.document is None:
            return {"errors": list(prepared.errors)}
        if not allow_mutations and _is_mutation(prepared.document, operation_name):
            raise RequestError("Mutations must be sent with POST")

        result = execute(
            self.schema,
            prepared.document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            middleware=self._middleware,
        )
        if not isinstance(result, dict) and hasattr(result, "__await__"):
            result = await result  # type: ignore[misc]
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_execution_error(e) for e in result.errors]
        if (
            result.data is not None
            or not result.errors
            or any(e.path is not None for e in result.errors)
        ):
            body["data"] = result.data
        return body


def _is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            return definition.operation == OperationType.MUTATION
    return False
