"""The fault suite's own path, short: 300 BEs of the benchmark's day, kill -9 of ooc-issuer
once a fifth are terminal, on a stack of its own (profile `faults-slow`, reset first).
Slow (a stack from scratch, about two minutes on a busy 2-core machine): `--run-slow`."""

from __future__ import annotations

import pytest
from clearance_bench import faults
from clearance_bench.benchmark import Plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


def test_kill_9_of_ooc_issuer_under_300_bes_loses_and_duplicates_nothing() -> None:
    """OOC-GP-1: every BE one terminal decision, one OOC and one gatepass at most, no
    unexplained dead letter, and the pipeline drains after the restart."""
    plan = Plan("burst", 300, baseline=False)
    try:
        result = faults.run_on_fresh_stack(
            faults.SCENARIOS["kill-ooc-issuer"], plan, profile="faults-slow", log=lambda _: None
        )
    finally:
        faults.fault_stack("faults-slow").down()
    assert result.terminal_before_fault >= 60  # it struck under load
    assert result.terminal_before_fault < 300
    assert result.terminal == 300
    assert result.recovery_s is not None, result.notes
    assert result.verdict["violation_counts"] == dict.fromkeys(result.verdict["violations"], 0)
    assert result.verdict["holds"]
    assert sum(result.verdict["terminal_kinds"].values()) >= 300
