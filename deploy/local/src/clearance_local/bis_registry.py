"""The BIS registry server (deploy/bis-registry) as a local component: the real BIS-CRS
register and sample CM/L licences over HTTP, where bis-verifier's adapter points
(`CLEARANCE_BIS_REGISTRY_URL`). It stands in for the BIS portal; a deployment points
bis-verifier at its BIS source behind the same API."""

from __future__ import annotations

import sys

import httpx

from clearance_local.config import StackConfig
from clearance_local.process import listens_on, read_pid, spawn, terminate, wait_until


class BisRegistry:
    name = "bis-registry"
    needs: tuple[str, ...] = ()
    infrastructure = False  # started with the services; the tests' fixture starts its own

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.log_path = config.logs_dir / "bis-registry.log"
        self.pid_path = config.run_dir / "bis-registry.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"CLEARANCE_BIS_REGISTRY_URL": self.url}

    def describe(self) -> str:
        return f"BIS registry        {self.url}/docs"

    def install(self) -> None:
        """Nothing to fetch: the workspace has the server, shared/ the register."""

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
        """The registry answers on the port, and the process listening there is ours."""
        try:
            ready = httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
        return ready and listens_on(read_pid(self.pid_path), self.port)

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def stop(self) -> bool:
        return terminate(self.pid_path, timeout=10)
