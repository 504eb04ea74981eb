"""Prometheus metrics of the events layer (served by every subgraph's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PUBLISHED = Counter(
    "shopgraph_events_published_total",
    "Events the outbox relay published to the broker (acknowledged by JetStream).",
    ["service", "type"],
)
OUTBOX_PENDING = Gauge(
    "shopgraph_events_outbox_pending",
    "Events committed to the outbox and not yet published.",
    ["service"],
)
HANDLED = Counter(
    "shopgraph_events_handled_total",
    "Events a consumer handled (its transaction committed).",
    ["service", "consumer", "type"],
)
REDELIVERED = Counter(
    "shopgraph_events_redelivered_total",
    "Deliveries of a message the consumer had received before.",
    ["service", "consumer"],
)
DEAD_LETTERED = Counter(
    "shopgraph_events_dead_lettered_total",
    "Messages a consumer gave up on and dead-lettered.",
    ["service", "consumer", "type"],
)
DEAD_LETTER_FAILURES = Counter(
    "shopgraph_events_dead_letter_failures_total",
    "Dead letters whose row (stage=store) or DLQ copy (stage=publish) could not be written;"
    " the message was terminated anyway.",
    ["service", "consumer", "stage"],
)
