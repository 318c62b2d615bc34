"""The load through the real pipeline: intake topic in, one terminal event per BE out.

A `PipelineTarget` is an already-running pipeline: the broker's address and,
per service, how to find its pid and its `/metrics`. It comes from the `bench`
stack (`target_from_stack`) or from a test's own service processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from clearance_contracts import (
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_REJECTED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
)
from clearance_local.services import ServiceProcess
from clearance_local.stack import Stack

from clearance_bench.load import Log, Measurement, Message, Schedule, measure, topic_partitions
from clearance_bench.sampling import Watched, pid_file, postmaster_pid

# Terminal topic -> what it means for the BE. A filing be-intake cannot even read
# (contract violation) lands on the intake dead-letter topic: terminal too, and a bug here.
TERMINAL_KINDS: Mapping[str, str] = {
    # The e-Gatepass goes to each custodian's own topic (OOC-GP-1); the OOC is the release.
    OUT_OF_CHARGE_ISSUED: "cleared",
    BILL_OF_ENTRY_REJECTED: "rejected",
    OUT_OF_CHARGE_HELD: "held",
    f"{BILL_OF_ENTRY_FILED}.dlq": "dead_lettered",
}


@dataclass(frozen=True)
class PipelineTarget:
    """A running pipeline: where to publish, what to sample."""

    kafka_bootstrap: str
    services: Sequence[Watched]  # the five services, with their /metrics
    infrastructure: Sequence[Watched] = field(default_factory=tuple)  # Kafka, PostgreSQL
    # The administrator's DSN, when the database keeps statement statistics (statements.py).
    postgres_admin_dsn: str | None = None
    # Services run as several processes (`CLEARANCE_REPLICAS`): name -> processes.
    replicas: Mapping[str, int] = field(default_factory=dict)


def service_watch(services: Mapping[str, ServiceProcess]) -> list[Watched]:
    return [
        Watched(name, pid_file(svc.pid_path), f"{svc.url}/metrics")
        for name, svc in services.items()
    ]


def target_from_stack(stack: Stack) -> PipelineTarget:
    return PipelineTarget(
        kafka_bootstrap=stack.endpoints.kafka_bootstrap,
        services=service_watch(stack.services),
        infrastructure=(
            Watched("kafka", pid_file(stack.kafka.pid_path)),
            Watched("postgres", postmaster_pid(stack.postgres.pid_path)),
            Watched("bis-registry", pid_file(stack.bis_registry.pid_path)),
            # The trace viewer takes in every BE's spans: part of "every BE traced".
            Watched("zipkin", pid_file(stack.zipkin.pid_path)),
        ),
        postgres_admin_dsn=stack.postgres.admin_dsn,
        replicas=stack.config.replicas,
    )


async def intake_partitions(bootstrap: str) -> int:
    """How many partitions the intake topic has (the baseline uses as many)."""
    counts = await topic_partitions(bootstrap, [BILL_OF_ENTRY_FILED])
    return counts.get(BILL_OF_ENTRY_FILED, 0)


async def run_pipeline(
    target: PipelineTarget,
    messages: Sequence[Message],
    schedule: Schedule,
    *,
    extra_watched: Sequence[Watched] = (),
    timeout_s: float,
    log: Log = print,
    companions: Sequence[Message | None] = (),
) -> Measurement:
    """Publish the filings to the intake topic (each followed by its payment, if any) and
    time each BE to its terminal event."""
    return await measure(
        label="pipeline",
        bootstrap=target.kafka_bootstrap,
        publish_topic=BILL_OF_ENTRY_FILED,
        terminal_kinds=TERMINAL_KINDS,
        messages=messages,
        schedule=schedule,
        watched=[*target.services, *target.infrastructure, *extra_watched],
        timeout_s=timeout_s,
        log=log,
        companions=companions,
    )
