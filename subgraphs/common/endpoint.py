"""A GraphQL-over-HTTP endpoint: parse+validate once per query text, execute, format.

Strawberry builds the schema; execution goes straight to graphql-core so the
parsed and validated document can be cached per operation text and errors
formatted in one place (`errors.py`). Before a field's resolver runs, an
internal root field checks the service role (`internal.py`) and every argument
passes the input guard (`inputs.py`).

A subgraph's port can be reached without the router, so every document is
measured with the router's own bounded measurement (`router.measure`: tokens,
nesting, fragment count, fragment-weighted size, depth, aliases, root fields)
right after a token-bounded parse and before validation; one over a limit is
a 400 with the limit's code and is never cached.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLSchema,
    MiddlewareManager,
    OperationDefinitionNode,
    OperationType,
    execute,
    validate,
)
from graphql.execution import (
    Executor,
    create_source_event_stream,
    execute_subscription_event,
    map_source_to_response_event,
)
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental

from router.config import LimitsConfig
from router.errors import coded_error, from_graphql_error
from router.lru import LruCache
from router.measure import LimitError, parse_bounded, violations
from router.server.protocol import MAX_OPERATION_NAME, OPERATION_NAME

from .budget import ExecutionBudget, ExecutionStopped, ResolutionBudget, within_budget
from .context import Context
from .errors import INTERNAL_MESSAGE, ApiError, format_execution_errors, log_unexpected
from .inputs import InputGuard
from .internal import InternalFieldGuard
from .limits import subgraph_limits

logger = logging.getLogger("shopgraph.endpoint")

CACHE_SIZE = 512
# The cache is bounded by the length of its texts too: a string literal is one token,
# so the token limit does not bound a text's size. Longer texts are prepared every time.
CACHE_CHARACTERS = 8_000_000
MAX_CACHED_QUERY = 100_000
# Marks a subscribe resolver already wrapped in the middleware (see _guard_subscriptions).
_GUARDED = "_shopgraph_guarded"

CacheKey = tuple[str, str | None]


@dataclass(frozen=True)
class Prepared:
    """A query text's validated document, or the errors that stop it from running."""

    document: DocumentNode | None
    errors: tuple[dict[str, Any], ...] = ()


class RequestError(Exception):
    """The HTTP request itself is malformed or over a limit (status 400)."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.body = {"errors": errors or [coded_error(message, "BAD_REQUEST")]}

    @classmethod
    def refused(cls, errors: list[dict[str, Any]]) -> RequestError:
        """A document over one of the operation limits: `errors` carry the limits' codes."""
        return cls(errors[0]["message"], errors)


class GraphQLEndpoint:
    """One subgraph's GraphQL execution: bounded parse, cached validation, guarded resolvers."""

    def __init__(
        self, schema: strawberry.federation.Schema, limits: LimitsConfig | None = None
    ) -> None:
        # Strawberry keeps the graphql-core schema it builds only as `_schema` (no public
        # accessor as of 0.341); this is the one place we read it, because the endpoint
        # executes with graphql-core directly (bounded parse, cached validation).
        self.schema: GraphQLSchema = schema._schema
        self.limits = limits or subgraph_limits()
        self._prepared: LruCache[CacheKey, Prepared] = LruCache(CACHE_SIZE, CACHE_CHARACTERS)
        # One manager for the endpoint's life: it caches the wrapped resolvers. The last
        # middleware runs first: a caller without the role learns nothing about inputs, and
        # every resolution, refused ones too, spends the request's budget (budget.py).
        self._middleware = MiddlewareManager(
            InputGuard(), InternalFieldGuard(self.schema), ResolutionBudget()
        )
        _guard_subscriptions(self.schema, self._middleware)

    def prepare(self, query: str, operation_name: str | None = None) -> Prepared:
        """The parsed and validated document for `query` (cached), or its errors.

        Raises RequestError, before any validation, when the document is over a limit.
        """
        key = (query, operation_name)
        cached = self._prepared.get(key)
        if cached is not None:
            return cached
        prepared = self._prepare(query, operation_name)
        if prepared.document is not None and len(query) <= MAX_CACHED_QUERY:
            self._prepared.put(key, prepared, len(query))  # refusals are never kept
        return prepared

    def _prepare(self, query: str, operation_name: str | None) -> Prepared:
        try:
            document = parse_bounded(query, self.limits)
        except LimitError as error:
            if error.errors[0]["extensions"]["code"] != "GRAPHQL_PARSE_FAILED":
                raise RequestError.refused(error.errors) from None
            return Prepared(None, tuple(error.errors))  # a syntax error, as before
        refused = violations(document, operation_name, self.limits)
        if refused:
            raise RequestError.refused(refused)
        errors = validate(self.schema, document)
        return Prepared(
            None if errors else document,
            tuple(from_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors),
        )

    async def run(
        self, payload: Any, context: Any, *, allow_mutations: bool = True
    ) -> dict[str, Any]:
        """The JSON answer to one request `payload`; RequestError when the request itself is bad."""
        query, variables, operation_name = request_parts(payload)
        prepared = self.prepare(query, operation_name)
        if prepared.document is None:
            return {"errors": list(prepared.errors)}
        if not allow_mutations and _is_mutation(prepared.document, operation_name):
            raise RequestError("Mutations must be sent with POST")
        if _is_subscription(prepared.document, operation_name):
            raise RequestError(
                "Subscriptions are served over a WebSocket (graphql-transport-ws) on this path"
            )

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
        return _body(result)

    async def stream(
        self, payload: Any, context: Context, budget: ExecutionBudget
    ) -> AsyncIterator[dict[str, Any]]:
        """The results of one operation sent over a WebSocket: a subscription's events, one
        by one (each executed under `budget`, as a request is), or a query's or mutation's
        single result. RequestError when the request is bad; StreamRefused when it does
        not validate (graphql-transport-ws `error`)."""
        query, variables, operation_name = request_parts(payload)
        prepared = self.prepare(query, operation_name)
        if prepared.document is None:
            raise StreamRefused(list(prepared.errors))
        if not _is_subscription(prepared.document, operation_name):
            yield await within_budget(budget, lambda: self.run(payload, context))
            return
        executor = ExecutorThrowingOnIncremental.build(
            self.schema,
            prepared.document,
            context_value=context,
            raw_variable_values=variables,
            operation_name=operation_name,
            middleware=self._middleware,
        )
        if isinstance(executor, list):  # the variables do not fit the operation
            yield _body(ExecutionResult(None, executor))
            return
        # The subscribe resolver (its argument checks, its reads) runs as a request does.
        try:
            source = await within_budget(
                budget, lambda: _awaited(create_source_event_stream(executor))
            )
        except ExecutionStopped as stopped:
            yield {"errors": stopped.body["errors"]}
            return
        if isinstance(source, ExecutionResult):  # refused before its first event
            yield _body(source)
            return
        events = map_source_to_response_event(executor, source, _EventRunner(context, budget))
        async for body in _event_bodies(events):
            yield body


def _guard_subscriptions(schema: GraphQLSchema, middleware: MiddlewareManager) -> None:
    """Put the middleware in front of each root subscription field's `subscribe` resolver,
    which graphql-core calls without middleware: its arguments pass the input guard, an
    internal field the role check, and the call spends from the budget, as any field's.

    Done once per schema (apps built from one schema share it; the middleware is the same
    for all of them, so the first endpoint's manager serves every one)."""
    root = schema.subscription_type
    for field in root.fields.values() if root is not None else ():
        if field.subscribe is not None and not getattr(field.subscribe, _GUARDED, False):
            guarded = middleware.get_field_resolver(field.subscribe)
            setattr(guarded, _GUARDED, True)
            field.subscribe = guarded


@dataclass(frozen=True)
class _EventRunner:
    """Executes one subscription event as a request of its own: fresh DataLoaders (no answer
    of the previous event is reused), the resolution budget and the deadline."""

    context: Context
    budget: ExecutionBudget

    async def __call__(self, executor: Executor) -> ExecutionResult:
        """The event's result."""
        self.context.forget_loaders()
        result: ExecutionResult = await within_budget(
            self.budget, lambda: _awaited(execute_subscription_event(executor))
        )
        return result


class StreamRefused(Exception):
    """An operation sent over a WebSocket that does not validate: its errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "refused")
        self.errors = errors


def request_parts(payload: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    """The query, variables and operation name of a request `payload`; RequestError when
    one of them is missing or malformed."""
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
    if operation_name is not None and not OPERATION_NAME.fullmatch(operation_name):
        # never a match for any operation; refused here so no error message echoes it
        raise RequestError(
            f"`operationName` must be a GraphQL name of at most {MAX_OPERATION_NAME} characters"
        )
    return query, variables, operation_name


def _body(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = format_execution_errors(result.errors)
    if (
        result.data is not None
        or not result.errors
        or any(e.path is not None for e in result.errors)
    ):
        body["data"] = result.data
    return body


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _event_bodies(
    events: AsyncGenerator[ExecutionResult, None],
) -> AsyncIterator[dict[str, Any]]:
    """Each event's body; an event stopped by its budget, or a failure of the event source,
    ends the stream with its error."""
    try:
        async for result in events:
            yield _body(result)
    except ExecutionStopped as stopped:
        yield {"errors": stopped.body["errors"]}
    except ApiError as error:
        yield {"errors": [coded_error(error.message, error.code)]}
    except Exception as error:
        log_unexpected(logger, "subscription event source failed", error=error)
        yield {"errors": [coded_error(INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR")]}
    finally:
        await events.aclose()


def _operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name and definition.name.value == operation_name)
        ):
            return definition
    return None


def _is_subscription(document: DocumentNode, operation_name: str | None) -> bool:
    operation = _operation(document, operation_name)
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


def _is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    operation = _operation(document, operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION
