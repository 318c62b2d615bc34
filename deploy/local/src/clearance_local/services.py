"""The five services as local processes: migrate, start, wait for /readyz, stop or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from clearance_local.config import StackConfig
from clearance_local.postgres import service_dsn
from clearance_local.process import StackError, read_pid, spawn, terminate, wait_until

# (service name, Python package) in pipeline order.
SERVICES = (
    ("be-intake", "be_intake"),
    ("bis-verifier", "bis_verifier"),
    ("rms-router", "rms_router"),
    ("warehouse-seal", "warehouse_seal"),
    ("ooc-issuer", "ooc_issuer"),
)
DEFAULT_PORTS = {name: 8001 + index for index, (name, _) in enumerate(SERVICES)}


@dataclass
class ServiceProcess:
    name: str
    package: str
    port: int
    config: StackConfig
    kafka_bootstrap: str
    postgres_admin_dsn: str
    zipkin_url: str
    extra_env: dict[str, str] | None = None
    # Where bis-verifier reaches the BIS registry (the others ignore it).
    bis_registry_url: str = ""

    @property
    def log_path(self) -> Path:
        return self.config.logs_dir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.config.run_dir / f"{self.name}.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            "CLEARANCE_DATABASE_URL": service_dsn(self.postgres_admin_dsn, self.package),
            "CLEARANCE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLEARANCE_HTTP_PORT": str(self.port),
            "OTEL_SERVICE_NAME": self.name,
        }
        if self.bis_registry_url:
            env["CLEARANCE_BIS_REGISTRY_URL"] = self.bis_registry_url
        if self.zipkin_url:
            env["OTEL_TRACES_EXPORTER"] = "zipkin"
            env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = f"{self.zipkin_url}/api/v2/spans"
            env["OTEL_BSP_SCHEDULE_DELAY"] = "500"
        return {**env, **(self.extra_env or {})}

    def migrate(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", self.package, "migrate"],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"migrating {self.name} failed:\n{result.stdout}\n{result.stderr}")

    def start(self, timeout: float = 60, *, wait: bool = True) -> None:
        spawn(
            [sys.executable, "-m", self.package],
            log_path=self.log_path,
            pid_path=self.pid_path,
            env=self.env(),
        )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(
            self.is_ready,
            what=self.name,
            timeout=timeout,
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def stop(self) -> bool:
        """SIGTERM: the service finishes its batch in hand and leaves its group."""
        return terminate(self.pid_path, timeout=30)

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed, nothing committed."""
        pid = read_pid(self.pid_path)
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
            terminate(self.pid_path, timeout=5)
