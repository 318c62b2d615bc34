"""The fault suite (issue 17): the benchmark's day through the pipeline while one fault
strikes, then the invariants read back from the topics and the time to drain.

One scenario per run, on the `faults` profile stack (reset before each). The day is the
benchmark's (`prepare_day`: the seeded mix, its AEO certificates, arrivals, seal sales
and payments) published in one burst; the fault starts once a share of the BEs has
reached its terminal event, so it strikes a pipeline under load, and runs in a thread
(the provisioner's start/stop calls block). Its end is when the last component it
touched is back (ready again, or resumed). Then:

- **drained**: every BE has its terminal event and every consumer group of the five
  services has committed every record of the topics it reads (lag 0); the recovery time
  is drained minus the fault's end;
- **invariants** (`invariants.check`): every record of the terminal, gatepass,
  duty-demand and dead-letter topics, read from the start (the stack is fresh).

No network namespaces here (the suite runs unprivileged, beside others' stacks): a
"dropped network" is the broker's or the database's process tree paused with SIGSTOP and
resumed with SIGCONT. Connections stay open and nothing answers, as when packets are
dropped; unlike a real partition, the kernel still accepts new TCP connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg
import httpx
import orjson
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from clearance_contracts import BILL_OF_ENTRY_FILED, DUTY_DEMAND_RAISED, E_GATEPASS_ISSUED
from clearance_local.config import StackConfig
from clearance_local.identity import IdentityProvider
from clearance_local.process import read_pid, terminate
from clearance_local.stack import Stack
from clearance_runtime.kafka import client_options

from clearance_bench import invariants
from clearance_bench.benchmark import Plan, prepare_day
from clearance_bench.load import Log, Measurement, measure, topic_partitions
from clearance_bench.pipeline_run import TERMINAL_KINDS, target_from_stack
from clearance_bench.sampling import parse_metrics

PROFILE = "faults"
SERVICES = ("be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer")
MONTH_S = 31 * 24 * 3600


class ScenarioInput(Protocol):
    """Input a scenario adds to the day (hostile records): the keys its dead letters may
    carry, and what became of it once drained -> (violations by name, its report)."""

    def explained_keys(self) -> Iterable[str]: ...

    async def account(
        self, stack: Stack, records: Sequence[invariants.Record]
    ) -> tuple[dict[str, list[str]], dict[str, Any]]: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    strike: Callable[[Stack, Log], None]  # blocking: the fault from start to end
    strike_at: float | None = None  # overrides the run's share (0: from the first filing)
    input: ScenarioInput | None = None  # what the scenario adds, accounted for at the end


def _kill(names: Sequence[str]) -> Callable[[Stack, Log], None]:
    def strike(stack: Stack, log: Log) -> None:
        for name in names:
            log(f"  fault: kill -9 {name} (pid {read_pid(stack.services[name].pid_path)})")
            stack.services[name].kill()
        for name in names:
            stack.services[name].start(wait=False)
        for name in names:
            stack.services[name].wait_ready()

    return strike


def _kafka_down(seconds: float) -> Callable[[Stack, Log], None]:
    def strike(stack: Stack, log: Log) -> None:
        log("  fault: Kafka stopped")
        terminate(stack.kafka.pid_path, timeout=60)
        time.sleep(seconds)
        log("  fault: Kafka starting")
        stack.kafka.start()

    return strike


def _postgres_down(seconds: float) -> Callable[[Stack, Log], None]:
    def strike(stack: Stack, log: Log) -> None:
        log("  fault: PostgreSQL stopped")
        stack.postgres.stop()
        time.sleep(seconds)
        log("  fault: PostgreSQL starting")
        stack.postgres.start()

    return strike


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        raise RuntimeError("the process to pause does not run")
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _pause(which: str, seconds: float) -> Callable[[Stack, Log], None]:
    def strike(stack: Stack, log: Log) -> None:
        pid = read_pid(stack.kafka.pid_path) if which == "kafka" else stack.postgres.pid
        processes = _tree(pid)
        log(f"  fault: SIGSTOP {which} ({len(processes)} processes) for {seconds:.0f}s")
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.send_signal(signal.SIGCONT)
            log(f"  fault: SIGCONT {which}")

    return strike


def _registry_down(seconds: float) -> Callable[[Stack, Log], None]:
    def strike(stack: Stack, log: Log) -> None:
        log("  fault: BIS registry stopped")
        stack.bis_registry.stop()
        time.sleep(seconds)
        stack.bis_registry.start()

    return strike


def _clock_month(stack: Stack, log: Log) -> None:
    log("  fault: every service's clock moved 31 days forward")
    endpoints = stack.endpoints
    identity = IdentityProvider(endpoints.keycloak_url, endpoints.keycloak_admin_password)
    try:
        headers = identity.headers("administrator")
    finally:
        identity.close()
    for name in SERVICES:
        response = httpx.post(
            f"{stack.services[name].url}/admin/clock",
            json={"advance_seconds": MONTH_S},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()


SCENARIOS: dict[str, Scenario] = {
    **{
        f"kill-{name}": Scenario(f"kill-{name}", f"kill -9 of {name}, restarted", _kill([name]))
        for name in SERVICES
    },
    "kill-two": Scenario(
        "kill-two",
        "kill -9 of bis-verifier and ooc-issuer at once, restarted",
        _kill(["bis-verifier", "ooc-issuer"]),
    ),
    "kafka-stop-30s": Scenario("kafka-stop-30s", "Kafka stopped 30 s, restarted", _kafka_down(30)),
    "postgres-stop-30s": Scenario(
        "postgres-stop-30s", "PostgreSQL stopped 30 s, restarted", _postgres_down(30)
    ),
    "kafka-pause-20s": Scenario(
        "kafka-pause-20s",
        "Kafka's process tree SIGSTOPped 20 s (network drop)",
        _pause("kafka", 20),
    ),
    "postgres-pause-20s": Scenario(
        "postgres-pause-20s",
        "PostgreSQL's process tree SIGSTOPped 20 s (network drop)",
        _pause("postgres", 20),
    ),
    "bis-registry-stop-60s": Scenario(
        "bis-registry-stop-60s", "BIS registry server stopped 60 s", _registry_down(60)
    ),
    "clock-month": Scenario(
        "clock-month", "every service's clock moved 31 days forward", _clock_month
    ),
}


@dataclass
class ScenarioResult:
    scenario: str
    description: str
    count: int
    terminal: int = 0
    terminal_before_fault: int = 0
    fault_s: float = 0.0  # how long the fault lasted (start to end)
    recovery_s: float | None = None  # fault end -> drained (None: never drained)
    total_s: float = 0.0  # first submission -> drained
    lag_at_end: dict[str, int] = field(default_factory=dict)
    backlog_at_end: dict[str, int] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.recovery_s is not None and bool(self.verdict.get("holds"))

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "description": self.description,
            "count": self.count,
            "terminal": self.terminal,
            "terminal_before_fault": self.terminal_before_fault,
            "fault_s": round(self.fault_s, 1),
            "recovery_s": None if self.recovery_s is None else round(self.recovery_s, 1),
            "total_s": round(self.total_s, 1),
            "lag_at_end": self.lag_at_end,
            "outbox_backlog_at_end": self.backlog_at_end,
            "passed": self.passed,
            "invariants": self.verdict,
            "notes": self.notes,
        }


class LagProbe:
    """Per consumer group: records on its committed partitions not yet committed; per
    service: its outbox backlog (rows not yet relayed to Kafka), from its /metrics."""

    def __init__(self, bootstrap: str, metrics_urls: Mapping[str, str] | None = None) -> None:
        self.metrics_urls = dict(metrics_urls or {})
        self.admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=10000, **client_options()
        )
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options()
        )

    async def __aenter__(self) -> LagProbe:
        await self.admin.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def lags(self) -> dict[str, int]:
        listed = await self.admin.list_consumer_groups()
        groups = sorted(str(g[0]) for g in listed if str(g[0]).startswith(SERVICES))
        lags: dict[str, int] = {}
        for group in groups:
            committed = await self.admin.list_consumer_group_offsets(group)
            partitions = list(committed)
            ends = await self.consumer.end_offsets(partitions) if partitions else {}
            lags[group] = sum(max(ends[tp] - meta.offset, 0) for tp, meta in committed.items())
        return lags

    async def backlogs(self) -> dict[str, int]:
        """A service that does not answer counts as a backlog (-1): not drained."""
        backlogs: dict[str, int] = {}
        async with httpx.AsyncClient(timeout=5) as client:
            for name, url in self.metrics_urls.items():
                try:
                    response = await client.get(url)
                    backlogs[name] = int(parse_metrics(response.text).outbox_backlog)
                except httpx.HTTPError:
                    backlogs[name] = -1
        return backlogs


async def read_back(bootstrap: str) -> list[invariants.Record]:
    """Every record of the topics the invariants read, from the beginning to the end now."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=10000, **client_options()
    )
    await admin.start()
    try:
        topics = [
            t
            for t in await admin.list_topics()
            if t in invariants.TERMINAL_TOPICS
            or t == DUTY_DEMAND_RAISED
            or invariants.is_gatepass_topic(t)
            or t.endswith(".dlq")
        ]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options()
    )
    await consumer.start()
    records: list[invariants.Record] = []
    try:
        counts = await topic_partitions(bootstrap, topics)
        partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10000)
            for tp, batch in batches.items():
                for record in batch:
                    # Dead letters keep what they got, hostile bytes included: read them
                    # tolerantly, and never their bodies (the invariants need their keys);
                    # each header's first 500 characters (a reason says why in fewer).
                    headers = {
                        k: v[:2000].decode("utf-8", "replace")[:500] for k, v in record.headers
                    }
                    body: Any = {}
                    if record.value and not tp.topic.endswith(".dlq"):
                        with contextlib.suppress(orjson.JSONDecodeError):
                            body = orjson.loads(record.value)
                    records.append(
                        invariants.Record(
                            topic=tp.topic,
                            # A key the dead letter could not keep (NUL) is in a header.
                            key=(
                                dict(record.headers).get("dlq_original_key", record.key) or b""
                            ).decode("utf-8", "replace"),
                            event_id=headers.get("ce_id", f"{tp}@{record.offset}"),
                            data=body if isinstance(body, dict) else {},
                            headers=headers,
                        )
                    )
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
    return records


_GATEPASS_ROWS = (
    "SELECT port_code || '/' || be_no || '/' || be_date::text AS key, count(*) AS n "
    "FROM ooc_issuer.custodian_notification GROUP BY 1"
)


async def gatepass_rows(admin_dsn: str) -> dict[str, int]:
    """ooc-issuer's own state: its gatepass notifications per BE key (OOC-GP-1: one)."""
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        return {str(row["key"]): int(row["n"]) for row in await conn.fetch(_GATEPASS_ROWS)}
    finally:
        await conn.close()


async def until(condition: Callable[[], bool], interval: float = 0.1) -> None:
    """Poll `condition` (state another task moves) until it holds."""
    while True:
        if condition():
            return
        await asyncio.sleep(interval)


async def run_scenario(
    stack: Stack,
    scenario: Scenario,
    plan: Plan,
    *,
    strike_at: float = 0.2,
    drain_timeout_s: float | None = None,
    log: Log = print,
) -> ScenarioResult:
    """The day through the running `stack` with `scenario` striking once `strike_at` of the
    BEs are terminal; then drain, read back, check."""
    # The suite's own clients and the load generator (subprocesses) sign in as the Kafka
    # administrator: they write the upstream's topic and read every service's.
    os.environ.update(stack.endpoints.kafka_admin.as_env())
    target = target_from_stack(stack)
    bootstrap = target.kafka_bootstrap
    result = ScenarioResult(scenario.name, scenario.description, plan.count)
    day = await prepare_day(
        plan, target, numbering_path=stack.config.data_dir / "bench-be-numbers.json", log=log
    )
    box: list[Measurement] = []
    fault: dict[str, float] = {}

    share = strike_at if scenario.strike_at is None else scenario.strike_at

    async def strike() -> None:
        await until(lambda: bool(box))
        m = box[0]
        await until(lambda: len(m.arrivals) >= share * plan.count or bool(m.finished_at))
        result.terminal_before_fault = len(m.arrivals)
        fault["start"] = time.monotonic()
        await asyncio.to_thread(scenario.strike, stack, log)
        fault["end"] = time.monotonic()
        log(f"  fault over after {fault['end'] - fault['start']:.1f}s")

    drain: dict[str, Any] = {"lags": {}}

    async def watch_drain() -> None:
        """From the fault's end: the first moment every BE is terminal, every group's lag
        is 0 and every service's outbox is empty (polled every 0.5 s)."""
        await until(lambda: "end" in fault)
        m = box[0]
        urls = {name: f"{svc.url}/metrics" for name, svc in stack.services.items()}
        async with LagProbe(bootstrap, urls) as probe:
            while True:
                complete = len(m.arrivals) == len(m.keys)
                lags: dict[str, int] = {}
                with contextlib.suppress(Exception):
                    lags = await probe.lags()
                backlogs = await probe.backlogs()
                if lags:
                    drain["lags"] = lags
                drain["backlogs"] = backlogs
                if complete and lags and not any(lags.values()) and not any(backlogs.values()):
                    drain["at"] = time.monotonic()
                    return
                await asyncio.sleep(0.5)

    striking = asyncio.create_task(strike())
    draining = asyncio.create_task(watch_drain())
    # Measured from the first submission: the fault itself (a broker restart under load
    # takes minutes here) comes on top of the day's own drain time.
    wait_s = drain_timeout_s if drain_timeout_s is not None else plan.wait_s + 900
    measurement = await measure(
        label="faults",
        bootstrap=bootstrap,
        publish_topic=BILL_OF_ENTRY_FILED,
        terminal_kinds=TERMINAL_KINDS,
        messages=day.messages,
        schedule=plan.schedule,
        watched=[],
        timeout_s=wait_s,
        stall_s=wait_s,
        log=log,
        companions=day.companions,
        on_start=box.append,
    )
    if not striking.done():
        ended = "its input was all published" if scenario.input else "the fault ended"
        result.notes.append(f"every BE was terminal before {ended}")
    await striking
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(draining), timeout=120)
    draining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await draining
    result.terminal = len(measurement.arrivals)
    result.fault_s = fault["end"] - fault["start"]
    result.lag_at_end = drain["lags"]
    result.backlog_at_end = drain.get("backlogs", {})
    if "at" in drain:
        result.recovery_s = drain["at"] - fault["end"]
        result.total_s = drain["at"] - measurement.started_at
    else:
        result.total_s = time.monotonic() - measurement.started_at
        result.notes.append(
            f"not drained: {measurement.missing} BEs not terminal, lags {drain['lags']}, "
            f"outbox backlogs {drain.get('backlogs')}"
        )
    result.notes.extend(measurement.notes)
    await asyncio.sleep(3)  # any resend surfaces
    records = await read_back(bootstrap)
    explained = [f.key for f in day.filings if f.invalid_rule]
    if scenario.input is not None:
        explained += scenario.input.explained_keys()
    verdict = invariants.check([f.key for f in day.filings], explained, records)
    # The service's state too: one gatepass row per BE in ooc-issuer's database.
    rows = await gatepass_rows(stack.postgres.admin_dsn)
    verdict.violations["duplicate_gatepass"] = sorted(
        {*verdict.violations["duplicate_gatepass"], *(k for k, n in rows.items() if n > 1)}
    )
    report: dict[str, Any] = {}
    if scenario.input is not None:
        added, input_report = await scenario.input.account(stack, records)
        verdict.violations.update(added)
        report = {"input": input_report}
    result.verdict = verdict.to_json() | {"gatepass_rows": sum(rows.values())} | report
    return result


def fault_stack(profile: str = PROFILE) -> Stack:
    """The profile's stack, its services taking clock moves (the clock scenario)."""
    stack = Stack(StackConfig.from_env(profile))
    for service in stack.services.values():
        service.extra_env = {**(service.extra_env or {}), "CLEARANCE_CLOCK_CONTROL": "true"}
    return stack


def run_on_fresh_stack(
    scenario: Scenario,
    plan: Plan,
    *,
    profile: str = PROFILE,
    strike_at: float = 0.2,
    log: Log = print,
) -> ScenarioResult:
    """Reset the profile's stack, bring it up, run the scenario on it (left running)."""
    log(f"Resetting the '{profile}' stack")
    fault_stack(profile).reset()
    stack = fault_stack(profile)
    stack.up(log=log, services=True)
    return asyncio.run(run_scenario(stack, scenario, plan, strike_at=strike_at, log=log))


def stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def summary_rows(results: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        counts = r["invariants"].get("violation_counts", {})
        broken = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "all hold"
        recovery = "not drained" if r["recovery_s"] is None else f"{r['recovery_s']:.1f}"
        rows.append(
            [
                r["scenario"],
                f"{r['count']:,}",
                f"{r['terminal']:,}",
                f"{r['fault_s']:.1f}",
                recovery,
                f"{r['total_s']:.1f}",
                str(r["invariants"].get("resent", 0)),
                broken,
            ]
        )
    return rows


HEADER = [
    "scenario",
    "BEs",
    "terminal",
    "fault s",
    "recovery s",
    "total s",
    "resent",
    "invariants",
]


def format_table(results: Sequence[Mapping[str, Any]], markdown: bool = False) -> str:
    rows = [HEADER, *summary_rows(results)]
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


__all__ = [
    "E_GATEPASS_ISSUED",
    "SCENARIOS",
    "Scenario",
    "ScenarioInput",
    "ScenarioResult",
    "run_scenario",
]
