"""The router in-process: supergraph -> planner -> executor, with the per-operation cache.

router = Router.from_supergraph(sdl)
response = await router.execute("{ topProducts { name inStock } }")
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import httpx
from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    execute_sync,
    validate,
)
from graphql.execution.values import get_variable_values

from router.astnodes import copy_node
from router.authorization import ANONYMOUS, Access, Restriction
from router.authorization.variants import Variants
from router.budget import Budget, BudgetExceeded
from router.config import AuthorizationConfig, LimitsConfig
from router.errors import RequestError, coded_error, from_graphql_error
from router.executor import SubgraphClient, compile_shape, execute_plan
from router.executor.execute import execute_event
from router.executor.fetcher import SubgraphClientSettings, SubgraphFetcher
from router.executor.incremental import deferred_node, stream_defer
from router.executor.shape import abstract_names
from router.executor.trace import TraceRecorder
from router.executor.transport import SubgraphHttp
from router.lru import LruCache
from router.measure import inspect_document, parse_bounded, variables_nesting
from router.operation import Operation, OperationError, normalize
from router.planner.build import PlanningError, QueryPlanner
from router.planner.defer import (
    DeferError,
    DeferPlanner,
    has_defer,
    immediate_plan,
    without_defer,
)
from router.planner.nodes import QueryPlan, Subscribe
from router.planning_queue import PlanningQueue
from router.prepared import CacheKey, PreparedOperation
from router.supergraph import Supergraph, load_supergraph

T = TypeVar("T")


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
        """The labels of one request: each `percent(n)` label drawn with its chance."""
        if not self.percents:
            return self.enabled
        return self.enabled | {
            label for label, percent in self.percents if random.random() * 100 < percent
        }

    def settled(self) -> frozenset[str]:
        """The deterministic labels: `percent(n)` ones only when n reaches 100."""
        return self.enabled | {label for label, percent in self.percents if percent >= 100}


# What a prepared operation costs in memory, estimated from the sizes the limits
# measure: about 2 KB per field (document, normalized form, plan, response shape,
# measured on the bench's operations) and a few copies of the text (the key, the
# string values in the document, the subgraph queries built from them).
BYTES_PER_FIELD = 2048
BYTES_PER_CHARACTER = 4


class Router:
    """One supergraph's router: prepares operations (parse, validate, normalize, plan;
    cached) and executes their plans through its subgraph client."""

    def __init__(
        self,
        supergraph: Supergraph,
        *,
        subgraph_urls: Mapping[str, str] | None = None,
        http_client: SubgraphHttp | httpx.AsyncClient | None = None,
        fetching: SubgraphClientSettings | None = None,
        plan_cache_size: int = 1024,
        plan_cache_mib: int = 40,
        override_labels: Iterable[str] = (),
        limits: LimitsConfig | None = None,
        on_cache_lookup: Callable[[bool], None] | None = None,
        client: SubgraphFetcher | None = None,
        authorization: AuthorizationConfig | None = None,
        on_cache_change: Callable[[int, int], None] | None = None,
        batch_fetches: bool = True,
    ) -> None:
        """`subgraph_urls` override the supergraph's; `http_client` is shared, never closed
        here (without it the subgraph client pools its own); `fetching` is how subgraph
        requests behave; `on_cache_lookup(hit)` hears of every plan cache lookup,
        `on_cache_change(entries, estimated_bytes)` of the cache's size after each change.
        `client`: a subgraph client made by the caller (its URLs, HTTP client and
        settings its own, so none of those three is given), closed with the router.
        `authorization`: how the supergraph's authorization directives are enforced.
        `batch_fetches`: entity fetches to one subgraph that a plan runs in parallel go
        as one request (router/executor/batch.py)."""
        # what `rewired` builds the same router again from
        self._built_with: dict[str, Any] = {
            "subgraph_urls": subgraph_urls,
            "http_client": http_client,
            "plan_cache_size": plan_cache_size,
            "plan_cache_mib": plan_cache_mib,
            "override_labels": override_labels,
            "limits": limits,
            "client": client,
            "authorization": authorization,
            "batch_fetches": batch_fetches,
        }
        self.batch_fetches = batch_fetches
        self.supergraph = supergraph
        self.limits = limits or LimitsConfig()
        self.authorization = authorization or AuthorizationConfig()
        self._init_planners()
        self.fetching = fetching or SubgraphClientSettings()
        self.client_injected = client is not None
        self.client = self._subgraph_client(client, subgraph_urls, http_client, fetching)
        self._init_cache(
            plan_cache_size, plan_cache_mib, override_labels, on_cache_lookup, on_cache_change
        )
        self._init_planning_queue()
        self.variants = self._variants(plan_cache_size, plan_cache_mib)

    def _variants(self, size: int, mib: int) -> Variants:
        """Per authorization outcome, the variant of a prepared operation: cached apart,
        with the same bounds as the operations'."""
        return Variants(
            self.supergraph.authorization,
            self.supergraph.api_schema,
            self.authorization.directives,
            self._plan_restricted,
            self._queue,
            size,
            mib * 1024 * 1024,
        )

    def _init_planners(self) -> None:
        """The query planner and the @defer planner built on it."""
        schema = self.supergraph.api_schema
        self.planner = QueryPlanner(self.supergraph)
        self._abstract_names = abstract_names(schema)
        self.defer_planner = DeferPlanner(self.planner, schema, self._abstract_names)

    def _subgraph_client(
        self,
        client: SubgraphFetcher | None,
        subgraph_urls: Mapping[str, str] | None,
        http_client: SubgraphHttp | httpx.AsyncClient | None,
        fetching: SubgraphClientSettings | None,
    ) -> SubgraphFetcher:
        """The given subgraph client (TypeError if URLs, an HTTP client or fetch settings
        come with it), else one of the router's own."""
        if client is not None:
            if subgraph_urls is not None or http_client is not None or fetching is not None:
                raise TypeError(
                    "a given subgraph client has its own URLs, HTTP client and settings"
                )
            return client
        urls = {name: graph.url for name, graph in self.supergraph.graphs.items()}
        urls.update(subgraph_urls or {})
        return SubgraphClient(urls, self.fetching, client=http_client)

    def _init_cache(
        self,
        size: int,
        mib: int,
        override_labels: Iterable[str],
        on_cache_lookup: Callable[[bool], None] | None,
        on_cache_change: Callable[[int, int], None] | None = None,
    ) -> None:
        """The cache of prepared operations, keyed with the override labels in force."""
        # rejected operations are never kept: only prepared ones, weighed by their size
        self._cache: LruCache[CacheKey, PreparedOperation] = LruCache(
            size, mib * 1024 * 1024, on_cache_change
        )
        self._labels = _LabelPolicy(self.supergraph.override_labels, frozenset(override_labels))
        self._on_cache_lookup = on_cache_lookup
        self.cache_hits = 0
        self.cache_misses = 0

    def _init_planning_queue(self) -> None:
        """Where cold operations are prepared. They are prepared on the planning queue's
        thread, so a costly one never holds the event loop (cached ones are answered
        without it); the planner keeps per-operation state, hence the lock for callers
        preparing synchronously."""
        self._planning = threading.Lock()
        self._queue = PlanningQueue(self.limits.planning_queue, self.limits.planning_wait)
        self._inflight: dict[CacheKey, asyncio.Future[PreparedOperation]] = {}
        self._waiters: dict[CacheKey, int] = {}

    def rewired(
        self,
        fetching: SubgraphClientSettings,
        on_cache_lookup: Callable[[bool], None] | None = None,
        authorization: AuthorizationConfig | None = None,
        on_cache_change: Callable[[int, int], None] | None = None,
    ) -> Router:
        """A new router for the same supergraph, built with the same options but these
        fetch settings and cache listeners (an app serving a router made elsewhere) and,
        if given, this authorization configuration; this one is left as it is, to be
        closed by whoever made it. A router given its own client cannot take other fetch
        settings: TypeError."""
        if self.client_injected:
            raise TypeError("this router's subgraph client was given to it, with its settings")
        options = {k: v for k, v in self._built_with.items() if k != "client"}
        if authorization is not None:
            options["authorization"] = authorization
        return Router(
            self.supergraph,
            fetching=fetching,
            on_cache_lookup=on_cache_lookup,
            on_cache_change=on_cache_change,
            **options,
        )

    @classmethod
    def from_supergraph(cls, sdl: str, **options: Any) -> Router:
        """A router for supergraph SDL text; `options` are the constructor's."""
        return cls(load_supergraph(sdl), **options)

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the subgraph client; operations already queued are still prepared."""
        self._queue.close()
        await self.client.aclose()

    # -- preparation (cached) -----------------------------------------------------------

    def prepare(
        self,
        query: str,
        operation_name: str | None = None,
        labels: frozenset[str] | None = None,
    ) -> PreparedOperation:
        """Parse, measure, validate, normalize and plan, cached per (query,
        operationName, the progressive-override labels in force — rolled per call for
        `percent(n)`). Raises RequestError; nothing refused is cached."""
        key = self._key(query, operation_name, labels)
        prepared = self._cached(key)
        if prepared is None:
            prepared = self._prepare(*key)
            self._cache.put(key, prepared, prepared.weight)
        return prepared

    async def prepare_async(
        self,
        query: str,
        operation_name: str | None = None,
        labels: frozenset[str] | None = None,
    ) -> PreparedOperation:
        """`prepare` for the event loop: a cold operation is prepared on the planning
        queue's thread (shorter texts first), once however many requests ask for it
        meanwhile. RequestError with status 503 when the queue is full or the wait
        longer than `limits.planning_wait` seconds."""
        key = self._key(query, operation_name, labels)
        prepared = self._cached(key)
        if prepared is not None:
            return prepared
        pending = self._inflight.get(key) or self._submit(key)
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            return await self._queue.wait(pending)
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:
                del self._waiters[key]
                if not pending.done():
                    pending.cancel()  # nobody waits: skip it if it has not started

    def _submit(self, key: CacheKey) -> asyncio.Future[PreparedOperation]:
        pending = self._queue.start(len(key[0]), self._prepare, *key)
        self._inflight[key] = pending
        pending.add_done_callback(lambda done: self._settle(key, done))
        return pending

    def _key(
        self, query: str, operation_name: str | None, labels: frozenset[str] | None
    ) -> CacheKey:
        return (query, operation_name, self._labels.roll() if labels is None else labels)

    def _cached(self, key: CacheKey) -> PreparedOperation | None:
        prepared = self._cache.get(key)
        if prepared is not None:
            self.cache_hits += 1
        elif key not in self._inflight:  # joining a preparation under way is no new miss
            self.cache_misses += 1
        else:
            return None
        if self._on_cache_lookup is not None:
            self._on_cache_lookup(prepared is not None)
        return prepared

    def _settle(self, key: CacheKey, done: asyncio.Future[PreparedOperation]) -> None:
        self._inflight.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            prepared = done.result()
            self._cache.put(key, prepared, prepared.weight)

    def _prepare(
        self, query: str, operation_name: str | None, labels: frozenset[str]
    ) -> PreparedOperation:
        limits = self.limits
        document = parse_bounded(query, limits)  # LimitError is a RequestError
        refused, fields = inspect_document(document, operation_name, limits)
        if refused:
            raise RequestError(refused)
        weight = BYTES_PER_FIELD * fields + BYTES_PER_CHARACTER * len(query)

        def planned(budget: Budget) -> PreparedOperation:
            """The document validated, normalized and planned, with its checks."""
            prepared = self._plan_document(document, operation_name, labels, budget, weight)
            # the checks key their variants by it: the two always go together
            checks = self.variants.checks(prepared.operation, document)
            return replace(prepared, key=(query, operation_name, labels), checks=checks)

        return self._budgeted(planned)

    def _budgeted(self, work: Callable[[Budget], T]) -> T:
        """`work` under the planner's lock with a fresh planning budget; RequestError
        PLANNING_BUDGET_EXCEEDED when the budget runs out."""
        with self._planning:
            try:
                return work(Budget(self.limits.planning_budget))
            except BudgetExceeded as error:
                raise RequestError(
                    [
                        coded_error(
                            f"The operation needs {error}: more than this router's planning "
                            "budget allows. Simplify it or split it.",
                            "PLANNING_BUDGET_EXCEEDED",
                        )
                    ]
                ) from None

    def _plan_document(
        self,
        document: DocumentNode,
        operation_name: str | None,
        labels: frozenset[str],
        budget: Budget,
        weight: int,
    ) -> PreparedOperation:
        schema = self.supergraph.api_schema
        errors = validate(schema, document)
        if errors:
            refused = [from_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]
            raise RequestError(refused)
        try:
            operation = normalize(schema, document, operation_name, budget)
        except OperationError as error:
            raise RequestError([coded_error(error.message, error.code)]) from error
        deferred = has_defer(document)
        if deferred:
            plan = self._plan_deferred(document, operation, labels, budget)
        else:
            plan = self._plan_operation(operation, labels, budget)
        introspection_document = None
        introspection = None
        if operation.introspection:
            introspection_document = _introspection_document(document, operation.definition)
            if deferred:  # the router answers introspection at once, with the primary
                introspection_document = without_defer(introspection_document)
            if not operation.definition.variable_definitions:
                introspection = self._introspect(introspection_document, operation.name, {})
        return PreparedOperation(
            document,
            operation,
            plan,
            compile_shape(operation, self._abstract_names),
            introspection_document,
            introspection,
            weight,
        )

    def _plan_operation(
        self, operation: Operation, labels: frozenset[str], budget: Budget
    ) -> QueryPlan:
        try:
            return self.planner.plan(operation, labels, budget)
        except PlanningError as error:
            raise RequestError([coded_error(str(error), "QUERY_PLANNING_FAILED")]) from error

    def _plan_deferred(
        self, document: DocumentNode, operation: Operation, labels: frozenset[str], budget: Budget
    ) -> QueryPlan:
        """The plan of an operation using @defer (router/planner/defer.py)."""
        try:
            return self.defer_planner.plan(
                document, operation, labels, budget, self.limits.max_deferred_parts
            )
        except DeferError as error:
            raise RequestError([coded_error(error.message, error.code)]) from error
        except PlanningError as error:
            raise RequestError([coded_error(str(error), "QUERY_PLANNING_FAILED")]) from error

    def _plan_restricted(self, restriction: Restriction, labels: frozenset[str]) -> QueryPlan:
        """The plan of an authorization restriction's operation (normalized here, within
        the budget), for `variants`."""
        return self._budgeted(
            lambda budget: self._plan_operation(restriction.operation, labels, budget)
        )

    # -- authorization: the variant for the request's outcome (`variants`) ----------------

    def authorize(self, prepared: PreparedOperation, access: Access) -> PreparedOperation:
        """The prepared operation as a request with `access` may run it: itself when it
        may see everything, else its variant (`Variants.authorize`)."""
        return self.variants.authorize(prepared, access)

    async def authorize_async(
        self, prepared: PreparedOperation, access: Access
    ) -> PreparedOperation:
        """`authorize` for the event loop (`Variants.authorize_async`)."""
        return await self.variants.authorize_async(prepared, access)

    def settled_labels(self) -> frozenset[str]:
        """The override labels of the deterministic plan (percent labels at 0 or 100)."""
        return self._labels.settled()

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
        """`plan`, as the text `shopgraph plan` prints."""
        return str(self.plan(query, operation_name, labels))

    # -- execution --------------------------------------------------------------------------

    def coerce_variables(
        self, prepared: PreparedOperation, variables: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The request's variables coerced to the operation's types; RequestError when
        they do not fit (or nest deeper than the limits allow)."""
        definitions = prepared.operation.definition.variable_definitions or ()
        if not definitions:
            return {}
        limit = self.limits.max_nesting
        if variables and variables_nesting(variables, limit) > limit:
            # coercion recurses through the values: refuse before it could overflow
            raise RequestError(
                [
                    coded_error(
                        f"Maximum nesting limit exceeded: the variables nest deeper than "
                        f"{limit} levels.",
                        "MAX_NESTING_LIMIT",
                    )
                ]
            )
        coerced = get_variable_values(
            self.supergraph.api_schema, definitions, dict(variables or {})
        )
        if isinstance(coerced, list):
            raise RequestError([from_graphql_error(e, "BAD_USER_INPUT") for e in coerced])
        # graphql-core 3.3 wraps the values; 3.2 returns the dict itself
        return dict(getattr(coerced, "coerced", coerced))

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        access: Access = ANONYMOUS,
    ) -> dict[str, Any]:
        """The GraphQL response to one request (errors included, never raised); `access`:
        the caller's credentials, for the supergraph's authorization directives."""
        try:
            prepared = self.authorize(self.prepare(query, operation_name), access)
            coerced = self.coerce_variables(prepared, variables)
        except RequestError as error:
            return {"errors": error.errors}
        return await self.execute_prepared(prepared, coerced, headers)

    async def execute_prepared(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        trace: TraceRecorder | None = None,
    ) -> dict[str, Any]:
        """Run a prepared operation's plan with coerced `variables`; `headers` are the
        client's, for the subgraph client's header propagation; `trace` records the
        subgraph calls of a traced request."""
        if prepared.rejected:
            return {"errors": list(prepared.unauthorized), "data": None}
        data, errors = await execute_plan(
            immediate_plan(prepared.plan),
            self.client,
            variables,
            headers,
            trace=trace,
            batch=self.batch_fetches,
        )
        return self._respond(prepared, data, errors, variables)

    def execute_incremental(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        trace: TraceRecorder | None = None,
    ) -> AsyncIterator[dict[str, Any]] | None:
        """The payloads of a request whose plan defers (router/executor/incremental.py),
        or None when it defers nothing with these variables (or authorization changed
        the operation: its variant is answered at once)."""
        if prepared.rejected or prepared.unauthorized:
            return None
        defer = deferred_node(prepared.plan, variables)
        if defer is None:
            return None
        introspection = self._introspection(prepared, variables)
        return stream_defer(defer, self.client, variables, headers, introspection, trace)

    async def execute_event(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any],
        event: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The client's payload for one event of a prepared subscription: the subgraph's
        `event` (a graphql-transport-ws `next` payload) completed by the rest of the plan
        and shaped like a query's response."""
        subscribe = prepared.plan.node
        if not isinstance(subscribe, Subscribe):
            raise TypeError("not a subscription's plan")
        data, errors = await execute_event(subscribe, event, self.client, variables, headers)
        return self._respond(prepared, data, errors, variables)

    def _respond(
        self,
        prepared: PreparedOperation,
        data: dict[str, Any],
        errors: list[dict[str, Any]],
        variables: dict[str, Any],
    ) -> dict[str, Any]:
        """The client's response from the merged subgraph data and their errors."""
        introspection = self._introspection(prepared, variables)
        if introspection is not None:
            errors.extend(introspection[1])
        shaped, completion = prepared.shape.shape(
            data, variables, introspection[0] if introspection else None
        )
        response: dict[str, Any] = {}
        extensions: dict[str, Any] = {}
        if prepared.unauthorized:
            where = self.authorization.directives.errors.response
            if where == "errors":
                errors.extend(prepared.unauthorized)
            elif where == "extensions":
                extensions["authorizationErrors"] = list(prepared.unauthorized)
        if errors:
            response["errors"] = errors
        response["data"] = shaped
        if completion and not errors:
            extensions["valueCompletion"] = completion
        if extensions:
            response["extensions"] = extensions
        return response

    def _introspection(
        self, prepared: PreparedOperation, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]] | None:
        """The answer to the operation's introspection fields and its errors: computed at
        planning time when it has no variables, else now; None when it has none."""
        if prepared.introspection is not None or prepared.introspection_document is None:
            return prepared.introspection
        return self._introspect(prepared.introspection_document, prepared.operation.name, variables)

    def _introspect(
        self, document: DocumentNode, operation_name: str | None, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
        result = execute_sync(
            self.supergraph.api_schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
        )
        return result.data or {}, tuple(error.formatted for error in result.errors or ())


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
