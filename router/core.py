"""The router in-process: supergraph -> planner -> executor, with the per-operation cache.

router = Router.from_supergraph(sdl)
response = await router.execute("{ topProducts { name inStock } }")
"""

from __future__ import annotations

import random
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from router.astnodes import copy_node
from router.executor import ResponseShape, SubgraphClient, compile_shape, execute_plan
from router.executor.shape import abstract_names
from router.operation import Operation, OperationError, normalize
from router.planner.build import PlanningError, QueryPlanner
from router.planner.nodes import QueryPlan
from router.supergraph import Supergraph, load_supergraph


class _LabelPolicy:
    """Which progressive-override labels are enabled: `percent(n)` for n % of the
    requests, any other label when the configuration enables it."""

    def __init__(self, labels: frozenset[str], enabled: frozenset[str]) -> None:
        self.enabled = frozenset(label for label in labels if label in enabled)
        self.percents: list[tuple[str, float]] = []
        for label in labels:
            match = re.fullmatch(r"percent\((\d+(?:\.\d+)?)\)", label)
            if match:
                self.percents.append((label, float(match.group(1))))

    def roll(self) -> frozenset[str]:
        if not self.percents:
            return self.enabled
        return self.enabled | {
            label for label, percent in self.percents if random.random() * 100 < percent
        }

    def settled(self) -> frozenset[str]:
        return self.enabled | {label for label, percent in self.percents if percent >= 100}


class RequestError(Exception):
    """The request cannot be executed; carries GraphQL-formatted errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "request error")
        self.errors = errors


def _error(
    message: str, code: str, locations: list[dict[str, int]] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if locations:
        out["locations"] = locations
    out["extensions"] = {"code": code}
    return out


def _graphql_error(error: GraphQLError, code: str) -> dict[str, Any]:
    locations = (
        [{"line": loc.line, "column": loc.column} for loc in error.locations]
        if error.locations
        else None
    )
    return _error(error.message, code, locations)


@dataclass(frozen=True)
class PreparedOperation:
    """Everything derived from (query text, operation name); shared across requests."""

    document: DocumentNode
    operation: Operation
    plan: QueryPlan
    shape: ResponseShape
    introspection_document: DocumentNode | None


class Router:
    def __init__(
        self,
        supergraph: Supergraph,
        *,
        subgraph_urls: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        plan_cache_size: int = 1024,
        subgraph_timeout: float = 30.0,
        override_labels: Iterable[str] = (),
    ) -> None:
        self.supergraph = supergraph
        self.planner = QueryPlanner(supergraph)
        self._abstract_names = abstract_names(supergraph.api_schema)
        urls = {name: graph.url for name, graph in supergraph.graphs.items()}
        urls.update(subgraph_urls or {})
        self.client = SubgraphClient(urls, client=http_client, timeout=subgraph_timeout)
        self._cache: OrderedDict[tuple[str, str | None], PreparedOperation | RequestError] = (
            OrderedDict()
        )
        self._cache_size = plan_cache_size
        self._labels = _LabelPolicy(supergraph.override_labels, frozenset(override_labels))
        self.cache_hits = 0
        self.cache_misses = 0

    @classmethod
    def from_supergraph(cls, sdl: str, **options: Any) -> Router:
        return cls(load_supergraph(sdl), **options)

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- preparation (cached) -----------------------------------------------------------

    def prepare(
        self,
        query: str,
        operation_name: str | None = None,
        labels: frozenset[str] | None = None,
    ) -> PreparedOperation:
        """Parse, validate, normalize and plan, cached per (query, operationName, the
        progressive-override labels in force — rolled per call for `percent(n)`)."""
        if labels is None:
            labels = self._labels.roll()
        key = (query, operation_name, labels)
        cached = self._cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            self._cache.move_to_end(key)
        else:
            self.cache_misses += 1
            try:
                cached = self._prepare(query, operation_name, labels)
            except RequestError as error:
                cached = error
            self._cache[key] = cached
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if isinstance(cached, RequestError):
            raise cached
        return cached

    def _prepare(
        self, query: str, operation_name: str | None, labels: frozenset[str]
    ) -> PreparedOperation:
        try:
            document = parse(query)
        except GraphQLError as error:
            raise RequestError([_graphql_error(error, "GRAPHQL_PARSE_FAILED")]) from error
        schema = self.supergraph.api_schema
        errors = validate(schema, document)
        if errors:
            raise RequestError([_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors])
        try:
            operation = normalize(schema, document, operation_name)
        except OperationError as error:
            raise RequestError([_error(error.message, error.code)]) from error
        if operation.kind == "subscription":
            raise RequestError(
                [
                    _error(
                        "Subscriptions are not supported by this router.",
                        "SUBSCRIPTIONS_NOT_SUPPORTED",
                    )
                ]
            )
        try:
            plan = self.planner.plan(operation, labels)
        except PlanningError as error:
            raise RequestError([_error(str(error), "QUERY_PLANNING_FAILED")]) from error
        introspection_document = None
        if operation.introspection:
            introspection_document = _introspection_document(document, operation.definition)
        return PreparedOperation(
            document,
            operation,
            plan,
            compile_shape(operation, self._abstract_names),
            introspection_document,
        )

    def plan(
        self, query: str, operation_name: str | None = None, labels: frozenset[str] | None = None
    ) -> QueryPlan:
        """The plan; without `labels`, the deterministic one (percent labels at 0 or 100)."""
        if labels is None:
            labels = self._labels.settled()
        return self.prepare(query, operation_name, labels).plan

    def plan_text(
        self, query: str, operation_name: str | None = None, labels: frozenset[str] | None = None
    ) -> str:
        return str(self.plan(query, operation_name, labels))

    # -- execution --------------------------------------------------------------------------

    def coerce_variables(
        self, prepared: PreparedOperation, variables: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        definitions = prepared.operation.definition.variable_definitions or ()
        if not definitions:
            return {}
        coerced = get_variable_values(
            self.supergraph.api_schema, definitions, dict(variables or {})
        )
        if isinstance(coerced, list):
            raise RequestError([_graphql_error(e, "BAD_USER_INPUT") for e in coerced])
        # graphql-core 3.3 wraps the values; 3.2 returns the dict itself
        return dict(getattr(coerced, "coerced", coerced))

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            prepared = self.prepare(query, operation_name)
            coerced = self.coerce_variables(prepared, variables)
        except RequestError as error:
            return {"errors": error.errors}
        return await self.execute_prepared(prepared, coerced, headers)

    async def execute_prepared(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data, errors = await execute_plan(prepared.plan, self.client, variables, headers)
        introspection = None
        if prepared.introspection_document is not None:
            introspection = self._introspect(prepared, variables, errors)
        shaped, completion = prepared.shape.shape(data, variables, introspection)
        response: dict[str, Any] = {}
        if errors:
            response["errors"] = errors
        response["data"] = shaped
        if completion and not errors:
            response["extensions"] = {"valueCompletion": completion}
        return response

    def _introspect(
        self, prepared: PreparedOperation, variables: dict[str, Any], errors: list[dict[str, Any]]
    ) -> dict[str, Any]:
        result = execute_sync(
            self.supergraph.api_schema,
            prepared.introspection_document,  # type: ignore[arg-type]
            variable_values=variables,
            operation_name=prepared.operation.name,
        )
        for error in result.errors or ():
            errors.append(error.formatted)
        return result.data or {}


def _introspection_document(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DocumentNode:
    """The operation reduced to its root `__schema` / `__type` fields."""
    selections = tuple(
        s
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and s.name.value in ("__schema", "__type")
    )
    selection_set = copy_node(operation.selection_set, selections=selections)
    reduced = copy_node(operation, selection_set=selection_set)
    definitions = tuple(reduced if d is operation else d for d in document.definitions)
    return copy_node(document, definitions=definitions)
