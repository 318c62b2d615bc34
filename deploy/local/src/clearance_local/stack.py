"""The local stack as a whole: ports, start order, state and addresses."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from clearance_local.bis_registry import BisRegistry
from clearance_local.config import StackConfig
from clearance_local.kafka import Kafka, ensure_topics
from clearance_local.postgres import Postgres
from clearance_local.process import free_port, read_pid, terminate
from clearance_local.services import DEFAULT_PORTS, SERVICES, ServiceProcess
from clearance_local.topics import platform_topic_configs, platform_topics
from clearance_local.zipkin import Zipkin


class Component(Protocol):
    name: str
    port: int

    def is_ready(self) -> bool: ...


@dataclass(frozen=True)
class Endpoints:
    """Where a running stack answers; what tests and services connect to."""

    kafka_bootstrap: str
    postgres_admin_dsn: str
    zipkin_url: str
    bis_registry_url: str = ""

    def as_env(self) -> dict[str, str]:
        env = {
            "CLEARANCE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLEARANCE_POSTGRES_ADMIN_DSN": self.postgres_admin_dsn,
            "CLEARANCE_ZIPKIN_URL": self.zipkin_url,
            "OTEL_TRACES_EXPORTER": "zipkin",
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{self.zipkin_url}/api/v2/spans",
        }
        if self.bis_registry_url:
            env["CLEARANCE_BIS_REGISTRY_URL"] = self.bis_registry_url
        return env


class Stack:
    """Kafka, PostgreSQL and Zipkin of one profile, started in dependency order."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.state_path = config.run_dir / "ports.json"
        ports = self._resolve_ports()
        self.kafka = Kafka(config, ports["kafka"], ports["kafka_controller"])
        self.postgres = Postgres(config, ports["postgres"])
        self.zipkin = Zipkin(config, ports["zipkin"])
        self.bis_registry = BisRegistry(config, ports["bis_registry"])
        self.services = {
            name: ServiceProcess(
                name=name,
                package=package,
                port=ports[name],
                config=config,
                kafka_bootstrap=self.kafka.bootstrap,
                postgres_admin_dsn=self.postgres.admin_dsn,
                zipkin_url=self.zipkin.url,
                bis_registry_url=self.bis_registry.url,
            )
            for name, package in SERVICES
        }

    def _resolve_ports(self) -> dict[str, int]:
        """Keep the ports of a running stack; otherwise take the wanted or a free one."""
        chosen: dict[str, int] = {}
        if self.state_path.exists() and self._anything_running():
            chosen = json.loads(self.state_path.read_text())
        fixed = self.config.profile == "local"
        service_ports = {name: port if fixed else 0 for name, port in DEFAULT_PORTS.items()}
        for name, wanted in {**self.config.wanted_ports, **service_ports}.items():
            if name in chosen:
                continue
            port = free_port(wanted)
            while port in chosen.values():
                port = free_port(0)
            chosen[name] = port
        return chosen

    def _anything_running(self) -> bool:
        run_dir = self.config.run_dir
        pg_pid = self.config.data_dir / "postgres" / "data" / "postmaster.pid"
        names = ["kafka", "zipkin", BisRegistry.name, *(name for name, _ in SERVICES)]
        return pg_pid.exists() or any(read_pid(run_dir / f"{name}.pid") for name in names)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            kafka_bootstrap=self.kafka.bootstrap,
            postgres_admin_dsn=self.postgres.admin_dsn,
            zipkin_url=self.zipkin.url,
            bis_registry_url=self.bis_registry.url,
        )

    def _save_state(self) -> None:
        self.config.run_dir.mkdir(parents=True, exist_ok=True)
        ports = {
            "kafka": self.kafka.port,
            "kafka_controller": self.kafka.controller_port,
            "postgres": self.postgres.port,
            "zipkin": self.zipkin.port,
            "bis_registry": self.bis_registry.port,
        } | {name: service.port for name, service in self.services.items()}
        self.state_path.write_text(json.dumps(ports, indent=2))
        env = "".join(f"{key}={value}\n" for key, value in self.endpoints.as_env().items())
        (self.config.data_dir / "stack.env").write_text(env)

    def up(self, log: Callable[[str], None] = print, *, services: bool = True) -> Endpoints:
        """Install what is missing and start what is not running; idempotent."""
        self.config.cache_dir.mkdir(parents=True, exist_ok=True)
        self._save_state()
        self.kafka.install()
        self.zipkin.install()
        for component in (self.postgres, self.kafka, self.zipkin):
            if component.is_ready():
                log(f"  {component.name:<9} already running on port {component.port}")
                continue
            if terminate(self.config.run_dir / f"{component.name}.pid"):
                log(f"  {component.name:<9} was running but not answering: restarted")
            log(f"  {component.name:<9} starting on port {component.port} ...")
            component.start()
        created = asyncio.run(
            ensure_topics(
                self.kafka.bootstrap,
                platform_topics(self.config.partitions),
                platform_topic_configs(),
            )
        )
        if created:
            log(f"  topics created: {', '.join(created)}")
        if services:
            self.start_services(log)
        return self.endpoints

    def start_services(self, log: Callable[[str], None] = print) -> None:
        """Start the BIS registry the services call, then migrate and start the services
        not yet running, in parallel, and wait for them."""
        if self.bis_registry.is_ready():
            log(f"  {self.bis_registry.name:<14} already running on {self.bis_registry.url}")
        else:
            if terminate(self.bis_registry.pid_path):
                log(f"  {self.bis_registry.name:<14} was running but not answering: restarted")
            log(f"  {self.bis_registry.name:<14} starting on {self.bis_registry.url}")
            self.bis_registry.start()
        todo = [svc for svc in self.services.values() if not svc.is_ready()]
        for svc in self.services.values():
            state = "starting" if svc in todo else "already running"
            log(f"  {svc.name:<14} {state} on {svc.url}")
        with ThreadPoolExecutor(max_workers=len(self.services)) as pool:
            list(pool.map(_migrate_and_start, todo))

    def down(self) -> list[str]:
        """Stop every component of this profile; return the names stopped."""
        stopped = [name for name, svc in reversed(self.services.items()) if svc.stop()]
        if self.bis_registry.stop():
            stopped.append(self.bis_registry.name)
        for name in ("zipkin", "kafka"):
            if terminate(self.config.run_dir / f"{name}.pid", timeout=30):
                stopped.append(name)
        if self.postgres.stop():
            stopped.append("postgres")
        return stopped

    def status(self) -> dict[str, tuple[bool, int]]:
        components: list[Component] = [self.postgres, self.kafka, self.zipkin, self.bis_registry]
        components += self.services.values()
        return {component.name: (component.is_ready(), component.port) for component in components}

    def reset(self) -> None:
        """Stop everything and delete this profile's state (downloads are kept)."""
        self.down()
        shutil.rmtree(self.config.data_dir, ignore_errors=True)


def _migrate_and_start(service: ServiceProcess) -> None:
    if not service.is_running():
        service.migrate()
        service.start()
    else:
        service.wait_ready()
