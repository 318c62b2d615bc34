"""What the console reads, and from where: the services over HTTP (never their
databases), the dead-letter topics from Kafka, the services' /metrics.

An officers' queue is one line in `QUEUES`: the service, the path of its queue
endpoint, and the names of the fields giving each item's location, group and
time of queuing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from clearance_contracts import topics
from clearance_runtime.dlq import DeadLetter
from clearance_runtime.kafka import client_options
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class QueueSource:
    """An officers' queue a service serves: GET `path` answers a list of items."""

    service: str
    path: str
    queue: str
    location_field: str = "port_code"
    group_field: str = "assessment_group"
    since_field: str = "queued_at"


#: Every officers' queue the console shows; a new queue endpoint is one line here.
QUEUES: tuple[QueueSource, ...] = (QueueSource("rms-router", "/queues/examination", "examination"),)


class ServiceError(RuntimeError):
    """A service did not answer as expected; the message says which and how."""


async def get_json(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], **params: Any
) -> Any:
    query = {name: value for name, value in params.items() if value not in (None, "")}
    try:
        response = await client.get(url, params=query, headers=dict(headers), timeout=10)
    except httpx.HTTPError as error:
        raise ServiceError(f"{url} did not answer: {error!r}") from error
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise ServiceError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return response.json()


async def queue_depths(
    client: httpx.AsyncClient, services: Mapping[str, str], headers: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Per queue, location and group: how many BEs wait and since when the oldest."""
    rows: list[dict[str, Any]] = []
    for source in QUEUES:
        url = services[source.service] + source.path
        try:
            items = await get_json(client, url, headers, limit=1000) or []
        except ServiceError as error:
            rows.append({"queue": source.queue, "service": source.service, "error": str(error)})
            continue
        groups: dict[tuple[str, str], list[str]] = {}
        for item in items:
            where = str(item.get(source.location_field) or "—")
            group = str(item.get(source.group_field) or "—")
            groups.setdefault((where, group), []).append(str(item.get(source.since_field) or ""))
        for (where, group), since in sorted(groups.items()):
            rows.append(
                {
                    "queue": source.queue,
                    "service": source.service,
                    "location": where,
                    "group": group,
                    "depth": len(since),
                    "oldest": min((s for s in since if s), default=None),
                    "truncated": len(items) >= 1000,
                }
            )
        if not items:
            rows.append(
                {
                    "queue": source.queue,
                    "service": source.service,
                    "location": "—",
                    "group": "—",
                    "depth": 0,
                    "oldest": None,
                    "truncated": False,
                }
            )
    return rows


#: Metrics of the runtime the console shows per service.
_FLOW = {
    "clearance_consumer_lag": "consumer_lag",
    "clearance_outbox_backlog": "outbox_backlog",
    "clearance_dead_letters_total": "dead_letters",
    "clearance_stuck_bills_of_entry": "stuck",
    "clearance_delivery_backlog": "delivery_backlog",
}


def flow_of(metrics_text: str) -> dict[str, float]:
    """Sum each runtime metric of one service's /metrics over its labels."""
    totals = dict.fromkeys(_FLOW.values(), 0.0)
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            name = sample.name
            if name in _FLOW:
                totals[_FLOW[name]] += sample.value
    return totals


async def flow(client: httpx.AsyncClient, services: Mapping[str, str]) -> list[dict[str, Any]]:
    """Consumer lag, outbox backlog, dead letters and stuck BEs of every service."""

    async def one(name: str, url: str) -> dict[str, Any]:
        try:
            response = await client.get(f"{url}/metrics", timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as error:
            return {"service": name, "up": False, "error": repr(error)}
        return {"service": name, "up": True, **flow_of(response.text)}

    return list(await asyncio.gather(*(one(n, u) for n, u in services.items())))


async def dead_letters(bootstrap: str, timeout_s: float = 10.0) -> list[DeadLetter]:
    """Every record on every dead-letter topic, read once from start to end."""
    names = [spec.name for spec in topics() if spec.dead_letter]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        **client_options(),  # the console's own principal (CLEARANCE_KAFKA_*)
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        await consumer.topics()  # loads the cluster's metadata: the partitions of each
        partitions = [
            TopicPartition(name, number)
            for name in names
            for number in sorted(consumer.partitions_for_topic(name) or {0})
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        deadline = asyncio.get_running_loop().time() + timeout_s
        while remaining and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batches.items():
                letters += [DeadLetter.of(r) for r in records if r.offset < ends[tp]]
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
    return letters


def letter_data(letter: DeadLetter) -> dict[str, Any]:
    return {
        "topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "key": letter.key,
        "original_topic": letter.original_topic,
        "consumer": letter.consumer,
        "reason": letter.reason,
    }


async def trace_ids(client: httpx.AsyncClient, zipkin_url: str, key: str) -> list[str]:
    """Ids of the traces whose spans carry the BE's key (clearance.bill_of_entry)."""
    if not zipkin_url:
        return []
    try:
        response = await client.get(
            f"{zipkin_url}/api/v2/traces",
            params={
                "annotationQuery": f"clearance.bill_of_entry={key}",
                "lookback": str(7 * 86400 * 1000),
                "limit": "10",
            },
            timeout=5,
        )
        response.raise_for_status()
    except httpx.HTTPError:
        return []
    return [trace[0]["traceId"] for trace in response.json() if trace]
