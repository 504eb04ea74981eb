"""What one app is built from: the configuration's fetch settings and the app-wide
objects every router it serves shares across reloads, and the routers built with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.config import RouterConfig
from router.core import Router
from router.executor.fetcher import CircuitBreakers, SubgraphClientSettings, SubgraphPolicy
from router.executor.transport import SubgraphHttp
from router.server.headers import HeaderPropagation
from router.server.metrics import RouterMetrics
from router.server.tracing import Tracing
from router.supergraph import Supergraph, load_supergraph


class _FetchObserver:
    """Subgraph fetches into metrics and (when enabled) trace spans."""

    def __init__(self, metrics: RouterMetrics | None, tracing: Tracing | None) -> None:
        self.metrics = metrics
        self.tracing = tracing

    def started(self, service: str, url: str, headers: dict[str, str]) -> Any:
        """A fetch begins: the trace context goes into its headers (a span's token)."""
        return self.tracing.fetch_started(service, url, headers) if self.tracing else None

    def finished(
        self, token: Any, service: str, seconds: float, outcome: str, status: int | None
    ) -> None:
        """A fetch ended with `outcome` ("ok" or its error code)."""
        if self.metrics is not None:
            self.metrics.fetch_done(service, outcome, seconds)
        if self.tracing is not None:
            self.tracing.fetch_finished(token, outcome, status)


def fetch_settings(config: RouterConfig, **shared: Any) -> SubgraphClientSettings:
    """The subgraph client settings `config` asks for (traffic and per-subgraph sections);
    `shared` are the app-wide objects (breakers, propagate, observer)."""
    traffic = config.traffic
    default = SubgraphPolicy(traffic.subgraph_timeout, traffic.retries, traffic.retry_backoff)
    policies = {
        name: SubgraphPolicy(
            sub.timeout if sub.timeout is not None else default.timeout,
            sub.retries if sub.retries is not None else default.retries,
            default.retry_backoff,
        )
        for name, sub in config.subgraphs.items()
    }
    return SubgraphClientSettings(
        default_policy=default,
        policies=policies,
        deduplicate=traffic.deduplicate_queries,
        max_connections=traffic.max_connections_per_origin,
        max_response_bytes=traffic.max_subgraph_response_bytes,
        **shared,
    )


def pooled_http(config: RouterConfig) -> SubgraphHttp:
    """The keep-alive HTTP pool for subgraph calls, bounded as `config.traffic` says."""
    traffic = config.traffic
    return SubgraphHttp.pooled(
        traffic.subgraph_timeout,
        max_connections=traffic.max_connections_per_origin,
        max_response_bytes=traffic.max_subgraph_response_bytes,
    )


class RouterAssembly:
    """Built once per app from its configuration: circuit breakers, header propagation,
    metrics and the fetch observer, the subgraph client settings holding them, and
    (optionally) one HTTP pool. Every router the app serves is built here with them (the
    first one and each one a reload brings) or, made elsewhere, adopted."""

    def __init__(
        self,
        config: RouterConfig,
        tracing: Tracing | None = None,
        *,
        http: SubgraphHttp | None = None,
        metrics_dir: str | None = None,
    ) -> None:
        """`http`: a pool all routers share (closed by its owner), else each its own;
        `metrics_dir`: prometheus_client's multiprocess directory, for a worker process."""
        self.config = config
        self.tracing = tracing
        self.http = http
        self.propagation = HeaderPropagation(
            config.headers, {name: sub.headers for name, sub in config.subgraphs.items()}
        )
        breaker = config.traffic.circuit_breaker
        self.breakers = (
            CircuitBreakers(breaker.failure_threshold, breaker.open_seconds)
            if breaker.enabled
            else None
        )
        self.metrics = RouterMetrics(metrics_dir) if config.telemetry.metrics else None
        self.fetching = fetch_settings(
            config,
            breakers=self.breakers,
            propagate=self.propagation,
            observer=_FetchObserver(self.metrics, tracing),
        )
        self._subgraph_urls = {
            name: sub.url for name, sub in config.subgraphs.items() if sub.url
        }

    def router(self, supergraph: Supergraph | str) -> Router:
        """A router for `supergraph` (SDL text or loaded) as the configuration says."""
        if isinstance(supergraph, str):
            supergraph = load_supergraph(supergraph)
        config = self.config
        return Router(
            supergraph,
            subgraph_urls=self._subgraph_urls,
            http_client=self.http,
            fetching=self.fetching,
            plan_cache_size=config.plan_cache_size,
            plan_cache_mib=config.plan_cache_mib,
            override_labels=config.override_labels,
            limits=config.limits,
            on_cache_lookup=self._cache_listener(),
            authorization=config.authorization,
            on_cache_change=self._cache_size_listener(),
            batch_fetches=config.traffic.batch_entity_fetches,
        )

    def adopt(self, router: Router) -> Router:
        """The router the app serves from now on: `router` if it was built here, or if it
        was given its own subgraph client (whose settings are its maker's: the bench's
        experiments); one made elsewhere (tests, embedders) is built again with this
        app's fetch settings and authorization configuration, keeping its other options
        (and left to its maker to close)."""
        if router.client_injected:
            return router
        if router.fetching is not self.fetching:
            authorization = self.config.authorization
            router = router.rewired(
                self.fetching, self._cache_listener(), authorization, self._cache_size_listener()
            )
        if self.breakers is not None:  # a reload: forget moved or vanished subgraphs'
            self.breakers.follow(router.client.urls)
        return router

    def _cache_listener(self) -> Callable[[bool], None] | None:
        return self.metrics.cache_lookup if self.metrics is not None else None

    def _cache_size_listener(self) -> Callable[[int, int], None] | None:
        return self.metrics.cache_changed if self.metrics is not None else None
