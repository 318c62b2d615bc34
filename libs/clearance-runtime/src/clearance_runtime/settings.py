"""Settings common to every service, read from the environment (`CLEARANCE_*`).

Each service subclasses `ServiceSettings` in its own `config.py`, giving its
name, schema and default port; one process runs one service, so one prefix
serves all of them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARANCE_", extra="ignore")

    service_name: str
    db_schema: str
    database_url: str = ""
    kafka_bootstrap: str = "127.0.0.1:19092"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Who started this process (the local provisioner sets one per start): `/readyz`
    # answers with it, so a provisioner never takes another copy's service for its own.
    instance_id: str = ""

    # Kafka authentication (every client of the service: producer, consumer, admin).
    # PLAINTEXT (no authentication), SASL_PLAINTEXT (SCRAM over loopback: the local
    # stack), SASL_SSL (production: SCRAM inside TLS), SSL (TLS only).
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # TLS (SASL_SSL, SSL): the CA that signed the brokers' certificates (default: the system's).
    kafka_ssl_cafile: str = ""

    # Bearer tokens (OpenID Connect): the issuer whose tokens the service accepts, the
    # audience they must name, and where the issuer's keys are (default: the jwks_uri
    # of the issuer's /.well-known/openid-configuration). No issuer: every route but
    # /healthz, /readyz (and /metrics, /docs when exposed) answers 401.
    auth_issuer: str = ""
    auth_audience: str = "clearance"
    auth_jwks_url: str = ""
    auth_algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    auth_leeway_s: float = 30.0
    # The claim listing the roles (a dotted path, e.g. realm_access.roles) and the one
    # naming the caller (recorded as the officer in every officer decision).
    auth_roles_claim: str = "roles"
    auth_subject_claim: str = "sub"

    # Bad input: the largest request body (refused before it is read), the media types a
    # body may have (any application/*+json too), and whether /docs (+ /openapi.json) and
    # /metrics are served.
    http_max_body_bytes: int = 4 * 1024 * 1024
    http_media_types: tuple[str, ...] = ("application/json",)
    http_docs: bool = True
    http_metrics: bool = True

    # Consumer: how many records one transaction may take, and how long to wait for them.
    consumer_batch_size: int = 500
    consumer_fetch_timeout_ms: int = 200
    # "partition": one transaction per partition number of a fetch, run concurrently;
    # "fetch": one transaction for the whole fetch (fewer statements and commits).
    consumer_transaction: Literal["partition", "fetch"] = "partition"
    # A handler that raises is retried this many times before its event is dead-lettered.
    handler_max_attempts: int = 3
    handler_retry_backoff_s: float = 0.2

    # Outbox relay: rows per claim, fallback poll when no NOTIFY arrives, retention of sent rows.
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 1.0
    outbox_retention_s: int = 3600

    # The cyclic garbage collector (issue 18): allocations between collections of the young
    # generation (CPython's default is 700; a batch of events allocates far more, nearly
    # all freed by reference counting). 0 keeps CPython's default.
    gc_young_threshold: int = 20_000

    # Timers (due work): how often the worker looks when nothing is due sooner.
    timer_poll_interval_s: float = 1.0

    # Deliveries to outside parties: first retry after, cap, lease of an attempt, call timeout.
    delivery_first_backoff_s: float = 1.0
    delivery_max_backoff_s: float = 300.0
    delivery_lease_s: float = 60.0
    delivery_call_timeout_s: float = 10.0
    delivery_poll_interval_s: float = 0.5

    # Policies: how often a replica looks for versions another replica stored.
    policy_refresh_s: float = 5.0

    # The clock. Off in production: `true` lets an administrator move it
    # (POST /admin/clock), for tests and replays; `clock_start` (ISO instant)
    # starts it there, e.g. to replay the 2021 BIS register.
    clock_control: bool = False
    clock_start: str | None = None

    log_level: str = "INFO"

    @property
    def sqlalchemy_url(self) -> str:
        """The DSN with SQLAlchemy's asyncpg dialect."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    @property
    def asyncpg_dsn(self) -> str:
        """The DSN for a raw asyncpg connection (LISTEN needs one of its own)."""
        return self.sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)
