"""The local stack as a whole: ports, start order, state and addresses."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from clearance_local.config import StackConfig
from clearance_local.kafka import Kafka, ensure_topics
from clearance_local.postgres import Postgres
from clearance_local.process import free_port, read_pid, terminate
from clearance_local.topics import platform_topics
from clearance_local.zipkin import Zipkin


@dataclass(frozen=True)
class Endpoints:
    """Where a running stack answers; what tests and services connect to."""

    kafka_bootstrap: str
    postgres_admin_dsn: str
    zipkin_url: str

    def as_env(self) -> dict[str, str]:
        return {
            "CLEARANCE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLEARANCE_POSTGRES_ADMIN_DSN": self.postgres_admin_dsn,
            "CLEARANCE_ZIPKIN_URL": self.zipkin_url,
            "OTEL_TRACES_EXPORTER": "zipkin",
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{self.zipkin_url}/api/v2/spans",
        }


class Stack:
    """Kafka, PostgreSQL and Zipkin of one profile, started in dependency order."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state_path = config.run_dir / "ports.json"
        ports = self._resolve_ports()
        self.kafka = Kafka(config, ports["kafka"], ports["kafka_controller"])
        self.postgres = Postgres(config, ports["postgres"])
        self.zipkin = Zipkin(config, ports["zipkin"])

    def _resolve_ports(self) -> dict[str, int]:
        """Keep the ports of a running stack; otherwise take the wanted or a free one."""
        if self.state_path.exists():
            recorded: dict[str, int] = json.loads(self.state_path.read_text())
            if self._anything_running():
                return recorded
        chosen: dict[str, int] = {}
        for name, wanted in self.config.wanted_ports.items():
            port = free_port(wanted)
            while port in chosen.values():
                port = free_port(0)
            chosen[name] = port
        return chosen

    def _anything_running(self) -> bool:
        run_dir = self.config.run_dir
        pg_pid = self.config.data_dir / "postgres" / "data" / "postmaster.pid"
        return any(
            [
                read_pid(run_dir / "kafka.pid") is not None,
                read_pid(run_dir / "zipkin.pid") is not None,
                pg_pid.exists(),
            ]
        )

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            kafka_bootstrap=self.kafka.bootstrap,
            postgres_admin_dsn=self.postgres.admin_dsn,
            zipkin_url=self.zipkin.url,
        )

    def _save_state(self) -> None:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        ports = {
            "kafka": self.kafka.port,
            "kafka_controller": self.kafka.controller_port,
            "postgres": self.postgres.port,
            "zipkin": self.zipkin.port,
        }
        self.state_path.write_text(json.dumps(ports, indent=2))
        env = "".join(f"{key}={value}\n" for key, value in self.endpoints.as_env().items())
        (self.config.data_dir / "stack.env").write_text(env)

    def up(self, log: Callable[[str], None] = print) -> Endpoints:
        """Install what is missing and start what is not running; idempotent."""
        self.config.cache_dir.mkdir(parents=True, exist_ok=True)
        self._save_state()
        self.kafka.install()
        self.zipkin.install()
        for component in (self.postgres, self.kafka, self.zipkin):
            if component.is_ready():
                log(f"  {component.name:<9} already running on port {component.port}")
                continue
            log(f"  {component.name:<9} starting on port {component.port} ...")
            component.start()
        created = asyncio.run(
            ensure_topics(self.kafka.bootstrap, platform_topics(self.config.partitions))
        )
        if created:
            log(f"  topics created: {', '.join(created)}")
        return self.endpoints

    def down(self) -> list[str]:
        """Stop every component of this profile; return the names stopped."""
        stopped = []
        for name in ("zipkin", "kafka"):
            if terminate(self.config.run_dir / f"{name}.pid", timeout=30):
                stopped.append(name)
        if self.postgres.stop():
            stopped.append("postgres")
        return stopped

    def status(self) -> dict[str, tuple[bool, int]]:
        return {
            component.name: (component.is_ready(), component.port)
            for component in (self.postgres, self.kafka, self.zipkin)
        }

    def reset(self) -> None:
        """Stop everything and delete this profile's state (downloads are kept)."""
        self.down()
        shutil.rmtree(self.config.data_dir, ignore_errors=True)
