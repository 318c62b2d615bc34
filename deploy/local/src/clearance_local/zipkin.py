"""The trace viewer: Zipkin's executable server jar from Maven Central."""

from __future__ import annotations

from pathlib import Path

import httpx

from clearance_local.config import StackConfig
from clearance_local.process import listens_on, read_pid, run, spawn, terminate, wait_until


class Zipkin:
    """In-memory Zipkin on loopback only; services export spans to `spans_endpoint`."""

    name = "zipkin"
    needs: tuple[str, ...] = ()
    infrastructure = True

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.log_path = config.logs_dir / "zipkin.log"
        self.pid_path = config.run_dir / "zipkin.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "CLEARANCE_ZIPKIN_URL": self.url,
            "OTEL_TRACES_EXPORTER": "zipkin",
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": self.spans_endpoint,
        }

    def describe(self) -> str:
        return f"Trace viewer        {self.url}/zipkin/"

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def stop(self) -> bool:
        return terminate(self.pid_path, timeout=30)

    @property
    def spans_endpoint(self) -> str:
        return f"{self.url}/api/v2/spans"

    @property
    def jar(self) -> Path:
        version = self.config.zipkin_version
        return self.config.cache_dir / f"zipkin-{version}" / f"zipkin-server-{version}-exec.jar"

    def install(self) -> None:
        if self.jar.exists():
            return
        run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact=io.zipkin:zipkin-server:{self.config.zipkin_version}:jar:exec",
                f"-DoutputDirectory={self.jar.parent}",
            ],
            what="fetching the Zipkin server jar from Maven Central",
            cwd=self.config.cache_dir,
        )

    def start(self) -> None:
        spawn(
            [
                "java",
                f"-Xmx{self.config.zipkin_heap}",
                "-Xms64m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",  # C1 only: a faster start on a busy machine
                "-XX:+ExitOnOutOfMemoryError",  # the next `up` starts a fresh one
                "-jar",
                str(self.jar),
                # Loopback only (Zipkin's default listens on every address).
                f"--armeria.ports[0].port={self.port}",
                "--armeria.ports[0].ip=127.0.0.1",
                "--armeria.ports[0].protocols[0]=http",
            ],
            log_path=self.log_path,
            pid_path=self.pid_path,
            env={"QUERY_PORT": str(self.port), "STORAGE_TYPE": "mem", "MEM_MAX_SPANS": "100000"},
        )
        wait_until(
            self.is_ready,
            what="Zipkin",
            timeout=180,
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

    def is_ready(self) -> bool:
        """Zipkin answers on the port, and the process listening there is ours."""
        try:
            healthy = httpx.get(f"{self.url}/health", timeout=3.0).status_code == 200
        except httpx.HTTPError:
            return False
        return healthy and listens_on(read_pid(self.pid_path), self.port)
