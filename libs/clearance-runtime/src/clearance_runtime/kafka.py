"""Kafka clients configured the one way the platform uses them."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def idempotent_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send is never written twice."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30000,
    )


def manual_commit_consumer(bootstrap: str, group_id: str, client_id: str) -> AIOKafkaConsumer:
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
    )
