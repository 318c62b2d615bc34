"""The benchmark itself, small: 300 BEs through the real pipeline and the bare relays.

Not a performance test (no timing is asserted): it keeps the benchmark from
rotting. Every BE must reach its terminal event, the outputs must be complete.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clearance_bench.benchmark import Plan, run_benchmark
from clearance_bench.pipeline_run import PipelineTarget, service_watch
from clearance_local.config import StackConfig
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints

SMOKE_COUNT = 300


@pytest.mark.e2e
@pytest.mark.timeout(300)
async def test_smoke_burst_through_pipeline_and_baseline(
    infra: Endpoints,
    service_processes: dict[str, ServiceProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in infra.kafka_admin.as_env().items():  # the bench's clients authenticate
        monkeypatch.setenv(name, value)
    target = PipelineTarget(infra.kafka_bootstrap, service_watch(service_processes))
    plan = Plan("burst", SMOKE_COUNT, seed=7, timeout_s=120)
    outcome = await run_benchmark(
        plan,
        target,
        numbering_path=StackConfig.from_env("test").data_dir / "bench-be-numbers.json",
        out_dir=tmp_path,
        log=lambda _line: None,
    )
    results = outcome.results
    print(outcome.table)

    pipeline = results["pipeline"]
    assert pipeline["missing"] == 0, pipeline["notes"]
    kinds = pipeline["terminal_kinds"]
    assert sum(kinds.values()) == SMOKE_COUNT
    assert set(kinds) <= {"cleared", "held", "rejected"}, kinds
    invalid = {f.key.encode() for f in outcome.filings if not f.valid}
    arrivals = outcome.pipeline.arrivals
    assert {key for key, a in arrivals.items() if a.kind == "rejected"} == invalid
    assert kinds.get("cleared", 0) > 0
    assert kinds.get("held", 0) > 0

    for field in ("latency_ms", "throughput_be_s", "drain_time_s", "resources", "timeline"):
        assert pipeline[field], field
    assert set(pipeline["latency_ms"]) >= {"p50", "p95", "p99", "max"}
    assert set(pipeline["resources"]) >= set(service_processes)
    assert all(r["rss_peak_mb"] > 0 for r in pipeline["resources"].values())
    assert {"nproc", "memory_gib", "cpu_model"} <= set(results["machine"])
    assert len(results["targets"]) == 6  # issue 4's four and issue 18's two (burst)
    assert pipeline["cpu_ms_per_be"]["all"] > 0

    baseline = results["baseline"]
    assert baseline is not None
    assert baseline["missing"] == 0, baseline["notes"]
    assert baseline["payload_bytes"] == pipeline["payload_bytes"]
    assert results["throughput_ratio_vs_baseline"] > 0

    assert outcome.paths["results"].exists()
    assert outcome.paths["timeline"].stat().st_size > 10_000
