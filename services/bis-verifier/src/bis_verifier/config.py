"""Settings of bis-verifier (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "bis-verifier"
    db_schema: str = "bis_verifier"
    http_port: int = 8002

    # The BIS registry (locally: deploy/bis-registry; in a deployment, the BIS source).
    bis_registry_url: str = "http://127.0.0.1:8010"
    bis_registry_timeout_s: float = 2.0
    # Tries after the first, with exponential backoff between them, within one lookup.
    bis_registry_retries: int = 2
    bis_registry_retry_backoff_s: float = 0.2
    # Consecutive failed lookups that open the circuit, and how long it stays open.
    bis_registry_breaker_failures: int = 5
    bis_registry_breaker_reset_s: float = 10.0
    bis_registry_concurrency: int = 8
    # The oldest registry answer a decision may use (by the service clock): the
    # instruction asks for the status at the time of clearance.
    bis_registry_max_status_age_s: float = 300.0

    # BE versions waiting for the registry: retried with backoff from first to max.
    bis_pending_first_backoff_s: float = 1.0
    bis_pending_max_backoff_s: float = 30.0
    bis_pending_batch_size: int = 100
    bis_pending_lease_s: float = 60.0
    bis_pending_poll_interval_s: float = 1.0
