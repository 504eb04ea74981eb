"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand:
a few counters and histograms with labels, rendered at scrape time."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Operation names come from clients: past this many distinct ones they share one label.
MAX_OPERATION_NAMES = 200
OTHER = "__other__"
UNKNOWN_OPERATION = "__unknown__"  # requests refused before an operation was found

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Labels, values: Labels, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    def __init__(self, name: str, help_text: str, label_names: Labels = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = label_names
        self.values: dict[Labels, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label_names, labels)} {_number(value)}"


class Histogram:
    def __init__(
        self,
        name: str,
        help_text: str,
        label_names: Labels = (),
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> None:
        self.name = name
        self.help = help_text
        self.label_names = label_names
        self.buckets = buckets
        # per label set: [count per bucket (non-cumulative, last = +Inf)], sum
        self.series: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, *labels: str) -> None:
        series = self.series.get(labels)
        if series is None:
            series = ([0] * (len(self.buckets) + 1), [0.0])
            self.series[labels] = series
        series[0][bisect.bisect_left(self.buckets, value)] += 1
        series[1][0] += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, (counts, total) in sorted(self.series.items()):
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.label_names, labels, le)} {running}"
            yield f"{self.name}_sum{_labels(self.label_names, labels)} {_number(total[0])}"
            yield f"{self.name}_count{_labels(self.label_names, labels)} {running}"


class RouterMetrics:
    def __init__(self) -> None:
        self.requests = Counter(
            "shopgraph_requests_total",
            "GraphQL requests by operation name and HTTP status.",
            ("operation", "status"),
        )
        self.request_seconds = Histogram(
            "shopgraph_request_duration_seconds",
            "GraphQL request latency by operation name.",
            ("operation",),
        )
        self.fetch_seconds = Histogram(
            "shopgraph_subgraph_fetch_duration_seconds",
            "Subgraph fetch latency by subgraph and outcome (ok or the error code).",
            ("subgraph", "outcome"),
        )
        self.errors = Counter(
            "shopgraph_errors_total", "GraphQL errors returned to clients, by code.", ("code",)
        )
        self.plan_cache = Counter(
            "shopgraph_plan_cache_total",
            "Plan cache lookups of the router now serving, by result (hit or miss).",
            ("result",),
        )
        self._operations: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        label = name or "anonymous"
        if label in self._operations:
            return label
        if len(self._operations) >= MAX_OPERATION_NAMES:
            return OTHER
        self._operations.add(label)
        return label

    def request_done(self, operation: str, status: int, seconds: float) -> None:
        self.requests.inc(operation, str(status))
        self.request_seconds.observe(seconds, operation)

    def render(self, cache_hits: int, cache_misses: int) -> bytes:
        # The router keeps these counts; a reload starts a new router (and new counts).
        self.plan_cache.values[("hit",)] = cache_hits
        self.plan_cache.values[("miss",)] = cache_misses
        lines: list[str] = []
        for metric in (
            self.requests,
            self.request_seconds,
            self.fetch_seconds,
            self.errors,
            self.plan_cache,
        ):
            lines.extend(metric.render())
        return ("\n".join(lines) + "\n").encode()
