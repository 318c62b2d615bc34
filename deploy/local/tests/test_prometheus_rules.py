"""The alert rules, unit-tested by Prometheus' own `promtool test rules`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clearance_local.config import StackConfig
from clearance_local.prometheus import RULE_TESTS, RULES, Prometheus, binary

pytestmark = pytest.mark.unit


def test_the_alert_rules_are_valid() -> None:
    result = subprocess.run(
        [binary("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_each_alert_fires_when_it_should_and_not_before() -> None:
    """alerts_test.yml: service down, BEs not terminal, dead letters, stuck BEs, consumer
    lag, outbox backlog, blocked custodian deliveries, registry outage."""
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_scrape_configuration_names_every_service_and_the_rules(tmp_path: Path) -> None:
    config = StackConfig(profile="x", root=tmp_path)
    targets = {"be-intake": "127.0.0.1:8001", "ooc-issuer": "127.0.0.1:8005"}
    prometheus = Prometheus(config, 9090, targets)
    assert prometheus.write_config() is True
    assert prometheus.write_config() is False  # unchanged: no reload needed
    written = (prometheus.home / "prometheus.yml").read_text()
    assert "targets: ['127.0.0.1:8001']" in written
    assert "labels: {service: ooc-issuer}" in written
    assert str(RULES) in written
    checked = subprocess.run(
        [binary("promtool"), "check", "config", str(prometheus.home / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
