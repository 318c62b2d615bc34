"""The hostile input, short: 2,000 hostile records on every topic an outside party writes,
beside 100 good BEs of the benchmark's day, on a stack of its own (profile
`hostile-slow`, reset first). Slow (a stack from scratch, minutes on a busy 2-core
machine): `--run-slow`."""

from __future__ import annotations

import pytest
from clearance_bench import faults, hostile
from clearance_bench.benchmark import Plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]


def test_2000_hostile_records_crash_nothing_lose_nothing_and_good_bes_still_clear() -> None:
    """Every hostile record accepted, rejected citing its rule (INTAKE-IEC-1, INTAKE-BE-2,
    INTAKE-AMEND-1) or dead-lettered with a reason; no service restarted or answered 5xx;
    every good BE has its one terminal event (OOC-GP-1: no second OOC or gatepass).
    Without NUL bytes: a dead letter holding one cannot be written and stops the consumer
    (FAULTS.md, Findings), which this test would only time out on."""
    plan = Plan("burst", 100, baseline=False)
    try:
        result = faults.run_on_fresh_stack(
            hostile.scenario(2000, seed=42, nul_bytes=False),
            plan,
            profile="hostile-slow",
            log=lambda _: None,
        )
    finally:
        faults.fault_stack("hostile-slow").down()
    assert result.terminal == 100
    assert result.recovery_s is not None, result.notes
    counts = result.verdict["violation_counts"]
    assert counts == dict.fromkeys(counts, 0), result.verdict["violations"]
    assert result.verdict["holds"]
    report = result.verdict["input"]
    assert report["count"] == 2000
    assert set(report["by_kind"]) == set(hostile.KINDS)
    outcomes = {o for by in report["by_kind"].values() for o in by}
    assert "lost" not in outcomes
    assert set(report["by_kind"]["rule_breaking"]) == {"rejected"}
    assert report["health"]["crashes"] == {}
    assert report["health"]["http_5xx"] == {}
    assert report["health"]["samples"] > 0
