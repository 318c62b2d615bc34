"""Prometheus metrics of the runtime, labelled by service (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_HANDLED = Counter(
    "clearance_events_handled_total",
    "Events consumed, by type and outcome (handled, duplicate, dead_lettered)",
    ["service", "event_type", "outcome"],
)
HANDLER_RETRIES = Counter(
    "clearance_handler_retries_total",
    "Batches retried after a handler or infrastructure error",
    ["service", "kind"],
)
DEAD_LETTERS = Counter(
    "clearance_dead_letters_total",
    "Records sent to a dead-letter topic, by source topic and reason kind",
    ["service", "topic", "reason"],
)
CONSUMER_LAG = Gauge(
    "clearance_consumer_lag",
    "Records behind the partition's high watermark",
    ["service", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge(
    "clearance_outbox_backlog", "Outbox rows not yet published to Kafka", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "clearance_outbox_published_total", "Outbox rows published to Kafka", ["service"]
)
DECISIONS = Counter(
    "clearance_decisions_total",
    "Domain decisions by kind and outcome (e.g. rms / facilitated)",
    ["service", "decision", "outcome"],
)
TIMERS_FIRED = Counter(
    "clearance_timers_total",
    "Timers (due work) by kind and outcome (fired, failed)",
    ["service", "kind", "outcome"],
)
DELIVERIES = Counter(
    "clearance_deliveries_total",
    "Delivery attempts to outside parties by kind and outcome (delivered, retry, failed)",
    ["service", "kind", "outcome"],
)
DELIVERY_BACKLOG = Gauge(
    "clearance_delivery_backlog",
    "Deliveries not yet made, by destination; blocked destinations are those retrying",
    ["service", "destination"],
)
STUCK = Gauge(
    "clearance_stuck_bills_of_entry",
    "Bills of Entry one of whose events was dead-lettered and not yet replayed",
    ["service"],
)
NOT_TERMINAL = Gauge(
    "clearance_bills_of_entry_not_terminal",
    "BEs neither out of charge, held nor rejected longer than the allowed time after they "
    "were first seen (be-intake's not_terminal_after_s); alert BillsOfEntryNotTerminal",
    ["service"],
)
OLDEST_NOT_TERMINAL = Gauge(
    "clearance_oldest_not_terminal_age_seconds",
    "Age of the oldest BE neither out of charge, held nor rejected (0 when none)",
    ["service"],
)
# clearance_registry_up{service} (1 while the BIS registry answers, else 0) is bis-verifier's
# gauge; the alert RegistryOutage reads it.
