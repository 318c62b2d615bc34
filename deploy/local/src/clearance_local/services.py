"""The five services (and the operations console) as local processes: migrate, start,
wait for /readyz, stop or kill.

Every start gets a fresh instance id (`CLEARANCE_INSTANCE_ID`, kept in
`run/<name>.instance`); a process is ready only when its `/readyz` answers 200
with that id, so another copy of the platform answering on the port is never
taken for ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from clearance_runtime.kafka import KafkaSecurity

from clearance_local.config import DEFAULT_PORTS as CONFIG_PORTS
from clearance_local.config import StackConfig
from clearance_local.postgres import service_dsn
from clearance_local.process import StackError, read_pid, spawn, terminate, wait_until
from clearance_local.secrets import signing_keys

if TYPE_CHECKING:
    from clearance_local.stack import Endpoints

# (service name, Python package) in pipeline order.
SERVICES = (
    ("be-intake", "be_intake"),
    ("bis-verifier", "bis_verifier"),
    ("rms-router", "rms_router"),
    ("warehouse-seal", "warehouse_seal"),
    ("ooc-issuer", "ooc_issuer"),
)
#: The services' ports in the developer's stack (config.DEFAULT_PORTS has every component's).
DEFAULT_PORTS = {name: CONFIG_PORTS[name] for name, _ in SERVICES}

# The operations console: a web app like the services, but with no database of its own.
CONSOLE = ("console", "clearance_console")


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
    #: Alembic revisions to apply before the first start (the console has none).
    migrates: bool = True
    #: The page `up` points people to.
    landing: str = "/docs"
    needs: tuple[str, ...] = field(default=("postgres", "topics"))
    infrastructure = False
    #: The service's own Kafka principal (None: no authentication).
    kafka_security: KafkaSecurity | None = None
    #: The service role's PostgreSQL password.
    database_password: str = ""
    #: The issuer whose bearer tokens the service accepts.
    auth_issuer: str = ""
    #: The service this process is a replica of (`be-intake-2` of `be-intake`); "" = `name`.
    replica_of: str = ""

    @classmethod
    def of(
        cls,
        name: str,
        package: str,
        port: int,
        config: StackConfig,
        endpoints: Endpoints,
        extra_env: dict[str, str] | None = None,
        **options: Any,
    ) -> ServiceProcess:
        """The service `name` on a stack's endpoints, with its own credentials."""
        return cls(
            name=name,
            package=package,
            port=port,
            config=config,
            kafka_bootstrap=endpoints.kafka_bootstrap,
            postgres_admin_dsn=endpoints.postgres_admin_dsn,
            zipkin_url=endpoints.zipkin_url,
            extra_env=extra_env,
            kafka_security=endpoints.kafka(name),
            database_password=endpoints.service_db_passwords.get(package, ""),
            auth_issuer=endpoints.auth_issuer,
            **options,
        )

    @property
    def log_path(self) -> Path:
        return self.config.logs_dir / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.config.run_dir / f"{self.name}.pid"

    @property
    def instance_path(self) -> Path:
        return self.config.run_dir / f"{self.name}.instance"

    @property
    def instance_id(self) -> str:
        """The id of the instance last started (empty before the first start)."""
        try:
            return self.instance_path.read_text().strip()
        except FileNotFoundError:
            return ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env_name(self) -> str:
        """Its address variable in `stack.env`, e.g. CLEARANCE_BE_INTAKE_URL."""
        return f"CLEARANCE_{self.name.upper().replace('-', '_')}_URL"

    def addresses(self) -> dict[str, str]:
        return {self.env_name: self.url}

    def describe(self) -> str:
        return f"{self.name:<19} {self.url}{self.landing}"

    def install(self) -> None:
        """Nothing to fetch: the workspace has the service's code."""

    def env(self) -> dict[str, str]:
        env = {
            "CLEARANCE_DATABASE_URL": service_dsn(
                self.postgres_admin_dsn, self.package, self.database_password
            ),
            "CLEARANCE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLEARANCE_HTTP_PORT": str(self.port),
            "CLEARANCE_INSTANCE_ID": self.instance_id,
            "CLEARANCE_AUTH_ISSUER": self.auth_issuer,
            # Usernames cannot be edited in the local realm: readable officer ids.
            "CLEARANCE_AUTH_SUBJECT_CLAIM": "preferred_username",
            "OTEL_SERVICE_NAME": self.replica_of or self.name,
            "PYTHONUNBUFFERED": "1",  # log lines reach the log file as they are written
        }
        if self.kafka_security is not None:
            env |= self.kafka_security.as_env()
        if self.name == "be-intake":  # brokers' ICES 1.5 flat files dropped here (issue 9)
            env["CLEARANCE_ICES_INBOX_DIR"] = str(self.config.data_dir / "ices-inbox")
        # OOC-EOOC-1: its signing keys (every replica's), never committed
        if (self.replica_of or self.name) == "ooc-issuer":
            env["CLEARANCE_EOOC_SIGNING_KEYS"] = signing_keys(
                self.config.data_dir, self.config.profile
            )
        if self.zipkin_url:
            env["OTEL_TRACES_EXPORTER"] = "zipkin"
            env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = f"{self.zipkin_url}/api/v2/spans"
            env["OTEL_BSP_SCHEDULE_DELAY"] = "500"
        return {**env, **(self.extra_env or {})}

    def migrate(self) -> None:
        if not self.migrates:
            return
        result = subprocess.run(
            [sys.executable, "-m", self.package, "migrate"],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"migrating {self.name} failed:\n{result.stdout}\n{result.stderr}")

    def start(self, timeout: float = 120, *, wait: bool = True, migrate: bool = False) -> None:
        """Start the process with a fresh instance id; `migrate`: apply its migrations
        first, in the same process (`serve --migrate`)."""
        self.instance_path.parent.mkdir(parents=True, exist_ok=True)
        self.instance_path.write_text(f"{self.config.profile}/{self.name}/{uuid.uuid4()}")
        command = ["serve", "--migrate"] if migrate and self.migrates else []
        spawn(
            [sys.executable, "-m", self.package, *command],
            log_path=self.log_path,
            pid_path=self.pid_path,
            env=self.env(),
        )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 120) -> None:
        wait_until(
            self.is_ready,
            what=self.name,
            timeout=timeout,
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

    def is_ready(self) -> bool:
        """Our instance answers /readyz with 200 (another process on the port is not us)."""
        try:
            response = httpx.get(f"{self.url}/readyz", timeout=1.0)
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return False
        expected = self.instance_id
        answered = body.get("instance_id") if isinstance(body, dict) else None
        return response.status_code == 200 and bool(expected) and answered == expected

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
