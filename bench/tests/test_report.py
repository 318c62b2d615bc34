"""Numbers, table, JSON and plot from a synthetic measurement (no servers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clearance_bench.load import Arrival, Measurement, Schedule
from clearance_bench.report import build_results, format_table, machine, write_outputs
from clearance_bench.sampling import Sample, parse_metrics
from clearance_bench.stats import per_second, percentile, summarize

pytestmark = pytest.mark.unit


def test_percentile_interpolates_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 99) == 3.0
    summary = summarize([10.0, 20.0, 30.0])
    assert summary is not None
    assert summary.max == 30.0
    assert per_second([0.1, 0.9, 1.2, 3.5]) == [2, 1, 0, 1]


def test_metrics_text_is_summed_per_service() -> None:
    text = """# HELP clearance_consumer_lag Records behind
clearance_consumer_lag{partition="0",service="be-intake",topic="a"} 12.0
clearance_consumer_lag{partition="1",service="be-intake",topic="a"} 3.0
clearance_outbox_backlog{service="be-intake"} 7.0
clearance_events_handled_total{event_type="x",outcome="handled",service="be-intake"} 40.0
clearance_events_handled_total{event_type="x",outcome="duplicate",service="be-intake"} 2.0
"""
    metrics = parse_metrics(text)
    assert (metrics.consumer_lag, metrics.outbox_backlog, metrics.events_handled) == (15, 7, 40)


def synthetic(label: str, count: int, latency_s: float, kind: str) -> Measurement:
    m = Measurement(
        label=label,
        schedule=Schedule("burst"),
        keys=[f"INNSA1/{i:07d}/2021-02-01".encode() for i in range(count)],
        payload_bytes=[3000] * count,
    )
    m.started_at, m.wall_at_start = 100.0, 1_600_000_000.0
    m.submitted_at = [100.0 + i * 0.001 for i in range(count)]
    m.sent_at = list(m.submitted_at)
    m.acked_at = [t + 0.005 for t in m.submitted_at]
    m.published_at = m.submitted_at[-1] + 0.005
    for i, key in enumerate(m.keys):
        received = m.submitted_at[i] + latency_s
        m.arrivals[key] = Arrival(kind, received, int(m.wall(received) * 1000))
    m.finished_at = max(a.received_at for a in m.arrivals.values())
    m.samples = [
        Sample(
            at=100.0 + t / 2,
            cpu_percent={"be-intake": 50.0, "bench-driver": 100.0},
            rss_mb={"be-intake": 90.0 + t, "bench-driver": 300.0},
        )
        for t in range(6)
    ]
    return m


def test_results_table_and_files(tmp_path: Path) -> None:
    pipeline = synthetic("pipeline", 300, 0.2, "held")
    baseline = synthetic("baseline", 300, 0.05, "relayed")
    config = {"mode": "burst", "count": 300, "seed": 1, "partitions": 3, "rate": None}
    results = build_results(
        config=config, machine_info=machine(), pipeline=pipeline, baseline=baseline
    )
    p = results["pipeline"]
    assert p["terminal_kinds"] == {"held": 300}
    assert p["latency_ms"]["p50"] == pytest.approx(200.0, abs=0.01)
    assert p["drain_time_s"] == pytest.approx(0.499, abs=0.001)
    assert results["throughput_ratio_vs_baseline"] > 0
    assert p["resources"]["be-intake"]["rss_peak_mb"] == 95.0
    # Half a core for 0.499 s over 300 BEs; the load generator is no part of the pipeline.
    assert p["cpu_ms_per_be"]["be-intake"] == pytest.approx(0.83, abs=0.01)
    assert p["cpu_ms_per_be"]["all"] == p["cpu_ms_per_be"]["be-intake"]
    names = [t["name"] for t in results["targets"]]
    assert names == [
        "burst throughput",
        "national day drained",
        "throughput vs bare relay",
        "CPU per BE, all processes",
        "ratio to bare relay (18)",
        "peak RSS per service",
    ]
    table = format_table(results)
    assert "latency p99" in table
    assert "CPUs" in table
    assert results["machine"]["commit"]  # the code measured
    paths = write_outputs(tmp_path, results, [pipeline, baseline])
    assert json.loads(paths["results"].read_text())["pipeline"]["sent"] == 300
    small = json.loads(paths["summary"].read_text())
    assert small["pipeline"]["cpu_ms_per_be"] == p["cpu_ms_per_be"]
    assert "timeline" not in small["pipeline"]
    assert "per_second" not in small["baseline"]
    assert small["baseline"]["sent"] == 300
    assert paths["timeline"].stat().st_size > 10_000
    assert len(paths["bes"].read_text().splitlines()) == 601


def test_a_process_first_seen_counts_no_cpu_until_its_next_sample() -> None:
    """A process that appears between samples (a PostgreSQL backend) is primed, not read:
    reading it microseconds after priming divided its CPU time by almost nothing, and one
    such sample put PostgreSQL at 4,334 % of a core in a burst."""
    import subprocess
    import sys
    import time

    import psutil
    from clearance_bench.sampling import _ProcessTree

    tree = _ProcessTree()
    busy = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    children = []
    try:
        assert tree.measure(os.getpid())[0] == 0.0  # everything is new: nothing read yet
        for _ in range(3):
            children.append(subprocess.Popen([sys.executable, "-c", busy]))
            time.sleep(0.3)
            cpu, _ = tree.measure(os.getpid())
            assert cpu <= 100 * (psutil.cpu_count() or 1) + 1, cpu
    finally:
        for child in children:
            child.kill()
            child.wait()
