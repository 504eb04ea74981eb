"""Optional OpenTelemetry tracing: a span per GraphQL request and one per subgraph fetch.

OpenTelemetry is imported only when tracing is enabled, so the router runs
without the package installed (pip install 'shopgraph[tracing]' brings it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from router.config import TracingConfig


class TracingUnavailable(RuntimeError):
    """Tracing is enabled but the OpenTelemetry packages it needs are missing."""


def _exporter(config: TracingConfig) -> Any:
    if config.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as error:
        raise TracingUnavailable(
            "telemetry.tracing.exporter: otlp needs the opentelemetry-exporter-otlp-proto-http "
            "package"
        ) from error
    return OTLPSpanExporter(endpoint=config.endpoint) if config.endpoint else OTLPSpanExporter()


def tracer_provider(config: TracingConfig) -> Any:
    """An SDK TracerProvider exporting in batches as configured."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise TracingUnavailable(
            "telemetry.tracing.enabled needs the opentelemetry-sdk package "
            "(pip install 'shopgraph[tracing]')"
        ) from error
    provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(config)))
    return provider


class Tracing:
    """Spans through an OpenTelemetry TracerProvider (the SDK's, or one a test passes in)."""

    def __init__(self, provider: Any, propagate: bool = True) -> None:
        from opentelemetry import trace
        from opentelemetry.propagate import inject

        self._trace = trace
        self._inject = inject
        self.provider = provider
        self.tracer = provider.get_tracer("shopgraph.router")
        self.propagate = propagate

    @contextlib.contextmanager
    def request_span(self, request_id: str) -> Iterator[Any]:
        """The server span of one GraphQL request."""
        with self.tracer.start_as_current_span(
            "graphql.request", kind=self._trace.SpanKind.SERVER
        ) as span:
            span.set_attribute("shopgraph.request_id", request_id)
            yield span

    def fetch_started(self, service: str, url: str, headers: dict[str, str]) -> Any:
        """A client span for a subgraph fetch; its context goes into `headers`."""
        span = self.tracer.start_span(
            "subgraph.fetch",
            kind=self._trace.SpanKind.CLIENT,
            attributes={"shopgraph.subgraph": service, "url.full": url},
        )
        if self.propagate:
            self._inject(headers, context=self._trace.set_span_in_context(span))
        return span

    def fetch_finished(self, span: Any, outcome: str, status: int | None) -> None:
        """End a fetch's span with its outcome and HTTP status."""
        span.set_attribute("shopgraph.outcome", outcome)
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if outcome != "ok":
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, outcome))
        span.end()

    def shutdown(self) -> None:
        """Flush and stop the provider (the spans still buffered are exported)."""
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
