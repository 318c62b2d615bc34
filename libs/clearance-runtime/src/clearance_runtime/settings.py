"""Settings common to every service, read from the environment (`CLEARANCE_*`).

Each service subclasses `ServiceSettings` in its own `config.py`, giving its
name, schema and default port; one process runs one service, so one prefix
serves all of them.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARANCE_", extra="ignore")

    service_name: str
    db_schema: str
    database_url: str = ""
    kafka_bootstrap: str = "127.0.0.1:19092"
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    # Consumer: how many records one transaction may take, and how long to wait for them.
    consumer_batch_size: int = 500
    consumer_fetch_timeout_ms: int = 200
    # A handler that raises is retried this many times before its event is dead-lettered.
    handler_max_attempts: int = 3
    handler_retry_backoff_s: float = 0.2

    # Outbox relay: rows per claim, fallback poll when no NOTIFY arrives, retention of sent rows.
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 1.0
    outbox_retention_s: int = 3600

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
