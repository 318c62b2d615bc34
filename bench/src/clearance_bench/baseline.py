"""The bare relay baseline: what the broker and aiokafka alone allow on this machine.

Four relays, as many hops as the pipeline has (intake, BIS, RMS, OOC), chain
`bench.baseline.hop0` → … → `bench.baseline.hop4`. Each relay is its own OS
process (the services are too) with one plain aiokafka consumer (a consumer
group of its own, manual commits, the services' fetch settings) and the
platform's idempotent producer (acks=all), forwarding key, value and headers
unchanged: no database, no parsing, no logic. Per fetched batch it sends every
record, waits for the acknowledgements, then commits, as a service commits
after its transaction.

    python -m clearance_bench.baseline relay --bootstrap HOST:PORT --hop N
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from clearance_local.kafka import ensure_topics
from clearance_runtime.kafka import client_options, idempotent_producer

from clearance_bench.load import Log, Measurement, Message, Schedule, measure, topic_partitions
from clearance_bench.sampling import Watched, fixed_pid

HOPS = 4
TOPICS = tuple(f"bench.baseline.hop{n}" for n in range(HOPS + 1))
READY = "ready"


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Sets `event` once the group has given this relay its partitions."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def on_partitions_revoked(self, revoked: object) -> None:
        pass

    async def on_partitions_assigned(self, assigned: object) -> None:
        self.event.set()


async def relay(bootstrap: str, hop: int, group: str) -> None:
    """Forward hop N to hop N+1 until SIGTERM; print `ready` once positioned at the end."""
    source, sink = TOPICS[hop], TOPICS[hop + 1]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        **client_options(),
        group_id=group,
        client_id=f"{group}-consumer",
        enable_auto_commit=False,
        auto_offset_reset="latest",  # a fresh group per run: start at the end, like the listener
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        fetch_max_wait_ms=50,
    )
    producer = idempotent_producer(bootstrap, f"{group}-producer")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await producer.start()
    assigned = _Assigned()
    consumer.subscribe([source], listener=assigned)
    await consumer.start()
    try:
        await assigned.event.wait()
        for tp in consumer.assignment():
            await consumer.position(tp)  # resolves "latest" before we say ready
        print(READY, flush=True)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            futures = [
                await producer.send(sink, value=r.value, key=r.key, headers=list(r.headers))
                for records in batches.values()
                for r in records
            ]
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def prepare_topics(bootstrap: str, partitions: int, log: Log = print) -> None:
    """Create the hop topics with `partitions` each, re-creating any of another count."""
    existing = await topic_partitions(bootstrap, TOPICS)
    wrong = [topic for topic, count in existing.items() if count != partitions]
    if wrong:
        log(f"  re-creating {', '.join(wrong)} with {partitions} partitions")
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
        await admin.start()
        try:
            await admin.delete_topics(wrong)
            for _ in range(60):  # deletion is asynchronous in the broker
                if not set(wrong) & set(await admin.list_topics()):
                    break
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
    await ensure_topics(bootstrap, dict.fromkeys(TOPICS, partitions))


async def start_relays(bootstrap: str, run_id: str) -> list[asyncio.subprocess.Process]:
    """One OS process per hop; returns once every relay is positioned."""
    relays = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clearance_bench.baseline",
            "relay",
            "--bootstrap",
            bootstrap,
            "--hop",
            str(hop),
            "--group",
            f"bench-baseline-hop{hop}-{run_id}",
            stdout=asyncio.subprocess.PIPE,
        )
        for hop in range(HOPS)
    ]
    try:
        async with asyncio.timeout(90):
            for process in relays:
                assert process.stdout is not None
                while (line := await process.stdout.readline()).decode().strip() != READY:
                    if not line:
                        raise RuntimeError(f"baseline relay {process.pid} exited before ready")
    except BaseException:
        await stop_relays(relays)
        raise
    return relays


async def stop_relays(relays: Sequence[asyncio.subprocess.Process]) -> None:
    for process in relays:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    for process in relays:
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def run_baseline(
    *,
    bootstrap: str,
    messages: Sequence[Message],
    schedule: Schedule,
    partitions: int,
    extra_watched: Sequence[Watched] = (),
    timeout_s: float,
    log: Log = print,
) -> Measurement:
    """The same messages on the same schedule through the bare relay chain."""
    await prepare_topics(bootstrap, partitions, log)
    relays = await start_relays(bootstrap, uuid.uuid4().hex[:8])
    watched = [
        *(Watched(f"relay-hop{n}", fixed_pid(p.pid)) for n, p in enumerate(relays)),
        *extra_watched,
    ]
    try:
        return await measure(
            label="baseline",
            bootstrap=bootstrap,
            publish_topic=TOPICS[0],
            terminal_kinds={TOPICS[-1]: "relayed"},
            messages=messages,
            schedule=schedule,
            watched=watched,
            timeout_s=timeout_s,
            log=log,
        )
    finally:
        await stop_relays(relays)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clearance_bench.baseline")
    verbs = parser.add_subparsers(dest="verb", required=True)
    one = verbs.add_parser("relay", help="run one relay of the chain")
    one.add_argument("--bootstrap", required=True)
    one.add_argument("--hop", type=int, required=True, choices=range(HOPS))
    one.add_argument("--group", required=True)
    args = parser.parse_args(argv)
    asyncio.run(relay(args.bootstrap, args.hop, args.group))


if __name__ == "__main__":
    main()
