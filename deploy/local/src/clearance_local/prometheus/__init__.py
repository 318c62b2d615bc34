"""Prometheus from Debian's package: scrapes every service, evaluates the alert rules.

Listens on loopback only. Its configuration is written at each `up` from the
stack's own service addresses (job `clearance`, one target per service with a
`service` label); a running Prometheus whose targets changed is told to reload
(SIGHUP). The alert rules (`alerts.yml`) are unit-tested with `promtool test
rules` (`alerts_test.yml`, run by the test suite).
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path

import httpx

from clearance_local.config import StackConfig
from clearance_local.process import StackError, read_pid, spawn, terminate, wait_until

RULES = Path(__file__).parent / "alerts.yml"
RULE_TESTS = Path(__file__).parent / "alerts_test.yml"

_CONFIG = """# Written by `clearance-local up` for the '{profile}' stack; rewritten at each `up`.
global:
  scrape_interval: {interval}
  evaluation_interval: {interval}
rule_files:
  - {rules}
scrape_configs:
  - job_name: clearance
    metrics_path: /metrics
    honor_labels: true  # the services' own `service` label stands
    static_configs:
{targets}"""


def binary(name: str = "prometheus") -> str:
    """The path of `prometheus` or `promtool` (Debian's package `prometheus`)."""
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} not found: `apt-get install prometheus` (bin/clearance does)")
    return found


class Prometheus:
    """One Prometheus server of the profile, its time series under the profile's folder."""

    name = "prometheus"
    needs: tuple[str, ...] = ()
    infrastructure = False

    def __init__(
        self, config: StackConfig, port: int, targets: Mapping[str, str], interval_s: int = 5
    ) -> None:
        self.config = config
        self.port = port
        self.targets = dict(targets)  # service name -> host:port
        self.interval_s = interval_s
        self.home = config.data_dir / "prometheus"
        self.log_path = config.logs_dir / "prometheus.log"
        self.pid_path = config.run_dir / "prometheus.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return self.home / "data"

    def env(self) -> dict[str, str]:
        return {"CLEARANCE_PROMETHEUS_URL": self.url}

    def describe(self) -> str:
        return f"Metrics, alerts     {self.url}/classic/alerts"

    def install(self) -> None:
        binary()

    def write_config(self) -> bool:
        """Write the scrape configuration; True if it changed."""
        self.home.mkdir(parents=True, exist_ok=True)
        targets = "".join(
            f"      - targets: ['{address}']\n        labels: {{service: {name}}}\n"
            for name, address in sorted(self.targets.items())
        )
        text = _CONFIG.format(
            profile=self.config.profile,
            interval=f"{self.interval_s}s",
            rules=RULES,
            targets=targets,
        )
        path = self.home / "prometheus.yml"
        if path.exists() and path.read_text() == text:
            return False
        path.write_text(text)
        return True

    def start(self) -> None:
        self.write_config()
        spawn(
            [
                binary(),
                f"--config.file={self.home / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.storage}",
                "--storage.tsdb.retention.time=7d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
            ],
            log_path=self.log_path,
            pid_path=self.pid_path,
            cwd=self.home,
        )
        wait_until(
            self.is_ready,
            what="Prometheus",
            timeout=60,
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

    def reload_if_changed(self) -> bool:
        """Rewrite the configuration of a running Prometheus and reload it if it changed."""
        pid = read_pid(self.pid_path)
        if self.write_config() and pid is not None:
            os.kill(pid, signal.SIGHUP)
            return True
        return False

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def is_ready(self) -> bool:
        """Ready, and ours: the server on the port keeps its series in our folder."""
        try:
            if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code != 200:
                return False
            flags = httpx.get(f"{self.url}/api/v1/status/flags", timeout=1.0).json()["data"]
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        return Path(flags.get("storage.tsdb.path", "")).resolve() == self.storage.resolve()

    def stop(self) -> bool:
        return terminate(self.pid_path, timeout=30)
