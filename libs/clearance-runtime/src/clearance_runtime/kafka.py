"""Kafka clients configured the one way the platform uses them.

Every client authenticates the same way (`KafkaSecurity`): SASL/SCRAM-SHA-512 as the
service's own principal in the local stack (`SASL_PLAINTEXT` on loopback), the same inside
TLS in production (`SASL_SSL`); what a principal may read and write is the broker's
business (ACLs derived from the AsyncAPI document, see deploy/local/.../kafka_acl.py).
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client authenticates: protocol, SASL mechanism and credentials, TLS CA."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = ""
    ssl_cafile: str = ""

    @classmethod
    def from_settings(cls, settings: Any) -> KafkaSecurity:
        """From a `ServiceSettings` (its `kafka_*` fields)."""
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            ssl_cafile=settings.kafka_ssl_cafile,
        )

    @classmethod
    def from_env(cls, prefix: str = "CLEARANCE_KAFKA_") -> KafkaSecurity:
        """From `CLEARANCE_KAFKA_SECURITY_PROTOCOL`, `..._USERNAME`, `..._PASSWORD`, ... (the
        same variables as the services' settings), for tools and tests."""
        env = os.environ
        return cls(
            protocol=env.get(f"{prefix}SECURITY_PROTOCOL", "PLAINTEXT"),
            mechanism=env.get(f"{prefix}SASL_MECHANISM", "SCRAM-SHA-512"),
            username=env.get(f"{prefix}SASL_USERNAME", ""),
            password=env.get(f"{prefix}SASL_PASSWORD", ""),
            ssl_cafile=env.get(f"{prefix}SSL_CAFILE", ""),
        )

    def as_env(self, prefix: str = "CLEARANCE_KAFKA_") -> dict[str, str]:
        """The environment variables `from_env` and the services' settings read."""
        env = {f"{prefix}SECURITY_PROTOCOL": self.protocol}
        if self.protocol.startswith("SASL"):
            env |= {
                f"{prefix}SASL_MECHANISM": self.mechanism,
                f"{prefix}SASL_USERNAME": self.username,
                f"{prefix}SASL_PASSWORD": self.password,
            }
        if self.ssl_cafile:
            env[f"{prefix}SSL_CAFILE"] = self.ssl_cafile
        return env

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol.startswith("SASL"):
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile or None)
        return options

    def librdkafka_options(self, mechanism: str | None = None) -> list[str]:
        """The same as kcat / librdkafka `-X` options; `mechanism` overrides the SASL
        mechanism (the local stack's kcat signs in with PLAIN: librdkafka before 2.6.1
        cannot do SCRAM with Kafka 4)."""
        options = [f"security.protocol={self.protocol.lower()}"]
        if self.protocol.startswith("SASL"):
            options += [
                f"sasl.mechanisms={mechanism or self.mechanism}",
                f"sasl.username={self.username}",
                f"sasl.password={self.password}",
            ]
        if self.ssl_cafile:
            options.append(f"ssl.ca.location={self.ssl_cafile}")
        return options


PLAINTEXT = KafkaSecurity()


def client_options(security: KafkaSecurity | None = None) -> dict[str, Any]:
    """`security`'s client options; without one, those the environment names
    (`CLEARANCE_KAFKA_*`, as tools and the test process set them)."""
    return (security or KafkaSecurity.from_env()).client_options()


def idempotent_producer(
    bootstrap: str, client_id: str, security: KafkaSecurity | None = None
) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send is never written twice."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30000,
        **client_options(security),
    )


def manual_commit_consumer(
    bootstrap: str, group_id: str, client_id: str, security: KafkaSecurity | None = None
) -> AIOKafkaConsumer:
    """Offsets are committed by the runtime after the database commit, never
    automatically. The caller subscribes (with its rebalance listener)."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        fetch_max_wait_ms=50,
        **client_options(security),
    )
