"""The BIS registry server (deploy/bis-registry) as a local process: the real BIS-CRS
register and sample CM/L licences over HTTP, where bis-verifier's adapter points."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from clearance_local.config import StackConfig
from clearance_local.process import read_pid, spawn, terminate, wait_until


class BisRegistry:
    """Stands in for the BIS portal; a deployment points bis-verifier at the real source."""

    name = "bis-registry"

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.config.logs_dir / "bis-registry.log"

    @property
    def pid_path(self) -> Path:
        return self.config.run_dir / "bis-registry.pid"

    def start(self, timeout: float = 120) -> None:
        spawn(
            [sys.executable, "-m", "clearance_bis_registry"],
            log_path=self.log_path,
            pid_path=self.pid_path,
            env={"CLEARANCE_BIS_REGISTRY_PORT": str(self.port)},
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 120) -> None:
        wait_until(
            self.is_ready,
            what="BIS registry",
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
        return terminate(self.pid_path, timeout=10)
