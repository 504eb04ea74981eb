"""The router's Prometheus metrics, kept and written by prometheus_client (text format
0.0.4); totals across worker processes when they share a multiprocess directory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Operation names come from clients: past this many distinct ones they share one label.
MAX_OPERATION_NAMES = 200
OTHER = "__other__"
UNKNOWN_OPERATION = "__unknown__"  # requests refused before an operation was found
# prometheus_client's own variable: set (before it is imported) in every process whose
# metrics are written to files there and summed at scrape time
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# The router's metrics never had `_created` series; they would double the scrape and cost
# a clock read for every new label set.
prometheus_client.disable_created_metrics()


class RouterMetrics:
    """The router's metrics, registered in a registry of their own (several apps may
    live in one process); `/metrics` renders it, or every process's files in
    multiprocess mode. Label children are cached: `.labels()` takes a lock and checks
    its arguments, too much to pay several times per request."""

    def __init__(self, shared_dir: str | None = None) -> None:
        """`shared_dir`: prometheus_client's multiprocess directory, when this process is
        one of several workers: `/metrics` then sums every worker's files there. The
        values go to files only if $PROMETHEUS_MULTIPROC_DIR named that directory before
        prometheus_client was imported (the parent of the workers sets it), so another
        directory is refused rather than scraped empty."""
        if shared_dir is not None and os.environ.get(MULTIPROCESS_DIR) != shared_dir:
            raise ValueError(
                f"multiprocess metrics in {shared_dir} need {MULTIPROCESS_DIR}={shared_dir} "
                "in the environment before prometheus_client is imported"
            )
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "shopgraph_requests_total",
            "GraphQL requests by operation name and HTTP status.",
            ("operation", "status"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "shopgraph_request_duration_seconds",
            "GraphQL request latency by operation name.",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fetch_seconds = Histogram(
            "shopgraph_subgraph_fetch_duration_seconds",
            "Subgraph fetch latency by subgraph and outcome (ok or the error code).",
            ("subgraph", "outcome"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "shopgraph_errors_total",
            "GraphQL errors returned to clients, by code.",
            ("code",),
            registry=self.registry,
        )
        self.plan_cache = Counter(
            "shopgraph_plan_cache_total",
            "Plan cache lookups of the router now serving, by result (hit or miss).",
            ("result",),
            registry=self.registry,
        )
        self.plan_cache_entries = Gauge(
            "shopgraph_plan_cache_entries",
            "Operations in the plan cache of the router now serving (all workers').",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.plan_cache_bytes = Gauge(
            "shopgraph_plan_cache_bytes",
            "Estimated bytes of the plan cache of the router now serving (all workers'); "
            "bounded by plan_cache_mib per worker.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.unauthorized = Counter(
            "shopgraph_unauthorized_fields_total",
            "Fields and type branches authorization directives removed from operations "
            "(with dry_run: reported without removing them).",
            registry=self.registry,
        )
        self.unlisted = Counter(
            "shopgraph_persisted_query_not_in_list_total",
            "Operations not in the persisted query manifest let through by safelist: log.",
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "shopgraph_subscriptions_active",
            "Subscriptions running (WebSocket and SSE).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.subscription_events = Counter(
            "shopgraph_subscription_events_total",
            "Subscription events delivered to clients.",
            registry=self.registry,
        )
        self._plan_cache = {
            True: self.plan_cache.labels("hit"),
            False: self.plan_cache.labels("miss"),
        }
        self._operations: set[str] = set()
        self._request_children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._fetch_children: dict[tuple[str, str], Histogram] = {}
        self._error_children: dict[str, Counter] = {}
        self._scraped = self.registry
        lookups: Collector = self.plan_cache
        if shared_dir is not None:
            self._scraped = CollectorRegistry(auto_describe=False)
            lookups = prometheus_multiprocess.MultiProcessCollector(
                self._scraped, path=shared_dir
            )
        self._scraped.register(HitRatio(lookups))

    def operation_label(self, name: str | None) -> str:
        """The label for operation `name`: itself, unless too many names were seen."""
        label = name or "anonymous"
        if label in self._operations:
            return label
        if len(self._operations) >= MAX_OPERATION_NAMES:
            return OTHER
        self._operations.add(label)
        return label

    def request_done(self, operation: str, status: int, seconds: float) -> None:
        """Count a GraphQL request (an `operation_label`) and observe its latency."""
        children = self._request_children.get((operation, status))
        if children is None:
            children = (
                self.requests.labels(operation, str(status)),
                self.request_seconds.labels(operation),
            )
            self._request_children[(operation, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def error_returned(self, code: str) -> None:
        """Count one GraphQL error returned to a client, by its code."""
        child = self._error_children.get(code)
        if child is None:
            child = self._error_children[code] = self.errors.labels(code)
        child.inc()

    def unauthorized_removed(self, count: int) -> None:
        """Count what authorization removed from one request's operation."""
        self.unauthorized.inc(count)

    def persisted_query_unlisted(self) -> None:
        """Count an operation the safelist would refuse (log-only mode)."""
        self.unlisted.inc()

    def fetch_done(self, subgraph: str, outcome: str, seconds: float) -> None:
        """Observe one subgraph fetch's latency, by outcome ("ok" or its error code)."""
        child = self._fetch_children.get((subgraph, outcome))
        if child is None:
            child = self._fetch_children[(subgraph, outcome)] = self.fetch_seconds.labels(
                subgraph, outcome
            )
        child.observe(seconds)

    def subscription_started(self) -> None:
        """One more subscription running."""
        self.subscriptions.inc()

    def subscription_ended(self) -> None:
        """One subscription fewer running."""
        self.subscriptions.dec()

    def subscription_event(self) -> None:
        """One event sent to a subscriber."""
        self.subscription_events.inc()

    def cache_lookup(self, hit: bool) -> None:
        """Count one plan cache lookup (a Router's `on_cache_lookup`)."""
        self._plan_cache[hit].inc()

    def cache_changed(self, entries: int, estimated_bytes: int) -> None:
        """The plan cache's size after a change (a Router's `on_cache_change`)."""
        self.plan_cache_entries.set(entries)
        self.plan_cache_bytes.set(estimated_bytes)

    def new_router(self) -> None:
        """A reload swapped in a new router: its plan cache counts start again at zero,
        and its cache is empty."""
        for child in self._plan_cache.values():
            child.reset()
        self.cache_changed(0, 0)

    def render(self) -> bytes:
        """The exposition text: this process's metrics, or all workers' in multiprocess mode."""
        return generate_latest(self._scraped)


class HitRatio(Collector):
    """`shopgraph_plan_cache_hit_ratio`: hits / lookups of the router now serving, from
    the lookup counter's totals at scrape time. In multiprocess mode those are every
    worker's summed, so the ratio is the fleet's, not one worker's."""

    NAME = "shopgraph_plan_cache_hit_ratio"

    def __init__(self, lookups: Collector) -> None:
        """`lookups`: what yields `shopgraph_plan_cache_total` (the counter, or the
        multiprocess collector summing the workers' files)."""
        self.lookups = lookups

    def collect(self) -> Iterator[Metric]:
        """The ratio now (0 before the first lookup)."""
        totals = {"hit": 0.0, "miss": 0.0}
        for family in self.lookups.collect():
            for sample in family.samples:
                if sample.name == "shopgraph_plan_cache_total":
                    result = sample.labels.get("result", "")
                    totals[result] = totals.get(result, 0.0) + sample.value
        lookups = totals["hit"] + totals["miss"]
        yield GaugeMetricFamily(
            self.NAME,
            "Plan cache hits / lookups of the router now serving (all workers').",
            value=totals["hit"] / lookups if lookups else 0.0,
        )


def mark_process_dead(pid: int, shared_dir: str) -> None:
    """A worker is gone: drop its files of gauges that count live processes only
    (counters and histograms keep its share, so totals never go back)."""
    prometheus_multiprocess.mark_process_dead(pid, shared_dir)
