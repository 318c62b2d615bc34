"""One benchmark run: the national day through the pipeline, then through the bare relays."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clearance_bench import facts, seal_sales, statements
from clearance_bench.baseline import run_baseline
from clearance_bench.catalogue import REGISTER_SNAPSHOT_DATE
from clearance_bench.load import (
    Log,
    Measurement,
    Message,
    Schedule,
    encode,
    encode_event,
    publish_reference,
    wait_consumed,
)
from clearance_bench.numbering import reserve_be_numbers
from clearance_bench.pipeline_run import PipelineTarget, intake_partitions, run_pipeline
from clearance_bench.report import build_results, format_table, machine, write_outputs
from clearance_bench.sampling import Watched, fixed_pid
from clearance_bench.workload import Filing, MixParameters, generate


@dataclass(frozen=True)
class Plan:
    """What to run: `burst` (all at once) or `steady` (open loop at `rate` BE/s)."""

    mode: str
    count: int
    seed: int = 42
    rate: float | None = None
    baseline: bool = True
    timeout_s: float | None = None
    mix: MixParameters = field(default_factory=MixParameters)

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.mode, self.rate if self.mode == "steady" else None)

    @property
    def wait_s(self) -> float:
        """How long to wait for the last terminal event before reporting the missing ones."""
        if self.timeout_s is not None:
            return self.timeout_s
        if self.mode == "steady" and self.rate:
            return self.count / self.rate + 120
        return 60 + self.count / 20  # a slow machine still drains 20 BE/s


@dataclass(frozen=True)
class Outcome:
    results: dict[str, Any]
    paths: dict[str, Path]
    pipeline: Measurement
    baseline: Measurement | None
    filings: list[Filing]

    @property
    def table(self) -> str:
        return format_table(self.results)

    @property
    def complete(self) -> bool:
        runs = [self.pipeline, *([self.baseline] if self.baseline else [])]
        return all(run.missing == 0 for run in runs)


def workload_summary(filings: list[Filing]) -> dict[str, Any]:
    """What was generated, to read the terminal counts against."""
    count = max(len(filings), 1)
    tiers = Counter(f.bill_of_entry["aeo_tier"] or "none" for f in filings)
    return {
        "profiles": dict(Counter(f.profile for f in filings)),
        "invalid": dict(Counter(f.invalid_rule for f in filings if f.invalid_rule)),
        "be_types": dict(Counter(f.bill_of_entry["be_type"] for f in filings)),
        "aeo_tiers": dict(tiers),
        "aeo_share": round(1 - tiers["none"] / count, 4),
        "items_mean": round(sum(f.item_count for f in filings) / count, 3),
        "items_max": max((f.item_count for f in filings), default=0),
    }


@dataclass(frozen=True)
class Day:
    """A generated day, encoded, with its facts already known to the pipeline."""

    filings: list[Filing]
    messages: list[Message]
    companions: list[Message | None]
    first_be_no: int


async def prepare_day(
    plan: Plan, target: PipelineTarget, *, numbering_path: Path, log: Log = print
) -> Day:
    """Generate the day, publish the AEO certificates and arrivals and wait until be-intake
    has them, preload the seal sales; return the filings and payments to publish."""
    first_be_no = reserve_be_numbers(numbering_path, REGISTER_SNAPSHOT_DATE, plan.count)
    filings = generate(plan.count, seed=plan.seed, first_be_no=first_be_no, mix=plan.mix)
    messages = encode(filings)
    reference = [
        encode_event(*event, source="/bench/reference-data")
        for event in [*facts.certificates(filings), *facts.arrivals(filings)]
    ]
    companions = [
        None
        if (payment := facts.payment(filing)) is None
        else encode_event(*payment, source="/bench/e-payment")
        for filing in filings
    ]
    log(f"reference data: {len(reference):,} AEO certificates and arrivals")
    await publish_reference(target.kafka_bootstrap, reference)
    await wait_consumed(
        target.kafka_bootstrap, "be-intake", [facts.AEO_CERTIFICATE, facts.ARRIVAL], log=log
    )
    await seal_sales.preload(target.kafka_bootstrap, seal_sales.seal_sales(filings), log, 600)
    return Day(filings, messages, companions, first_be_no)


async def run_benchmark(
    plan: Plan,
    target: PipelineTarget,
    *,
    numbering_path: Path,
    out_dir: Path,
    log: Log = print,
) -> Outcome:
    """Generate, run the pipeline, run the baseline, write the outputs; never asserts targets."""
    info = machine()  # before our own load moves the load average
    day = await prepare_day(plan, target, numbering_path=numbering_path, log=log)
    filings, messages, companions, first_be_no = (
        day.filings,
        day.messages,
        day.companions,
        day.first_be_no,
    )
    partitions = await intake_partitions(target.kafka_bootstrap)
    driver = Watched("bench-driver", fixed_pid(os.getpid()), with_children=False)
    log(f"pipeline: {plan.count:,} BEs ({plan.mode}), BE numbers from {first_be_no:07d}")
    if target.postgres_admin_dsn:
        await statements.reset(target.postgres_admin_dsn)
    pipeline = await run_pipeline(
        target,
        messages,
        plan.schedule,
        extra_watched=[driver],
        timeout_s=plan.wait_s,
        log=log,
        companions=companions,
    )
    database = None
    if target.postgres_admin_dsn:
        database = await statements.top(target.postgres_admin_dsn)
        log(statements.format_top(database, plan.count))
    baseline = None
    if plan.baseline:
        log(f"baseline: the same {plan.count:,} messages through 4 bare relays")
        baseline = await run_baseline(
            bootstrap=target.kafka_bootstrap,
            messages=messages,
            schedule=plan.schedule,
            partitions=partitions,
            extra_watched=[*target.infrastructure[:1], driver],
            timeout_s=plan.wait_s,
            log=log,
        )
    config = {
        "mode": plan.mode,
        "count": plan.count,
        "rate": plan.rate if plan.mode == "steady" else None,
        "seed": plan.seed,
        "partitions": partitions,
        "replicas": dict(target.replicas),  # processes per service beyond one
        "first_be_no": f"{first_be_no:07d}",
        "be_date": REGISTER_SNAPSHOT_DATE.isoformat(),
        "mix": asdict(plan.mix),
        "workload": workload_summary(filings),
    }
    results = build_results(config=config, machine_info=info, pipeline=pipeline, baseline=baseline)
    results["pipeline"]["postgres_statements"] = database
    runs = [pipeline, *([baseline] if baseline else [])]
    paths = write_outputs(out_dir, results, runs)
    return Outcome(results, paths, pipeline, baseline, filings)
