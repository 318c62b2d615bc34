"""Shared event runtime: outbox, inbox, Kafka consumer loop, tracing, settings."""
