"""bis-verifier's own metrics (`/metrics`, beside the runtime's)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REGISTRY_CALLS = Counter(
    "clearance_bis_registry_calls_total",
    "Calls to the BIS registry by kind and outcome (found, not_found, unavailable, "
    "circuit_open); retries inside one call are not counted apart",
    ["service", "kind", "outcome"],
)
REGISTRY_SECONDS = Histogram(
    "clearance_bis_registry_call_seconds",
    "Duration of a call to the BIS registry, retries included",
    ["service", "kind"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REGISTRY_CACHE = Counter(
    "clearance_bis_registry_cache_total",
    "Registry answers a registered BE version needed, from the cache: hit (fresh enough to "
    "decide at once), stale (older than the maximum status age), miss (asked of the registry)",
    ["service", "kind", "result"],
)
CIRCUIT_OPEN = Gauge(
    "clearance_bis_registry_circuit_open",
    "1 while the circuit breaker in front of the BIS registry is open",
    ["service"],
)
PENDING = Gauge(
    "clearance_bis_verifications_pending",
    "BE versions waiting for their BIS verification: queued (registry not asked yet) or "
    "retrying (the registry did not answer)",
    ["service", "state"],
)
PENDING_AGE = Gauge(
    "clearance_bis_verification_pending_oldest_seconds",
    "How long the oldest BE version waiting for its BIS verification has waited",
    ["service"],
)
ITEMS_VERIFIED = Counter(
    "clearance_bis_items_verified_total",
    "Items verified, by result (not_covered, passed, failed, conditional)",
    ["service", "result"],
)
VERIFY_SECONDS = Histogram(
    "clearance_bis_verify_seconds",
    "CPU time of the BIS rules for one BE version (registry answers in hand)",
    ["service"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
)
SAMPLES = Counter(
    "clearance_bis_samples_total",
    "Sample cases by event (drawn, conforming, non_conforming)",
    ["service", "event"],
)
