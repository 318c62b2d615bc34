"""The local stack as a whole: its components, ports, start order, state and addresses.

A component is an object with a `name`, `port`, `needs` (the components and
steps it starts after), `infrastructure` (True: the tests' `infra` fixture
starts it too), and `install()`, `start()` (start and wait until ready, or
raise StackError with its log tail), `is_running()` (our process lives),
`is_ready()` (it answers AND it is ours: an instance id, cluster id, data
directory or listening pid says so), `stop()`, `env()` (its addresses for
`stack.env`) and `describe()` (one line for `up`). To add one, give it a port
in `config.DEFAULT_PORTS` and a line in `Stack._build` and `Stack.components`.

`up` starts everything whose needs are met at once, in parallel, and reports
ready only when every component answering is its own; one that exits or is
not ready in time is reported with its log tail, and `up` fails.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from clearance_runtime.kafka import PLAINTEXT, KafkaSecurity

from clearance_local.bis_registry import BisRegistry
from clearance_local.config import StackConfig, replica_names
from clearance_local.kafka import Kafka, ensure_topics
from clearance_local.kafka_acl import ADMIN_PRINCIPAL
from clearance_local.keycloak import CONSOLE_CLIENT, Keycloak
from clearance_local.ports import PortBook
from clearance_local.postgres import Postgres
from clearance_local.process import StackError, log_tail, port_is_open
from clearance_local.prometheus import Prometheus
from clearance_local.services import CONSOLE, SERVICES, ServiceProcess
from clearance_local.topics import platform_topic_configs, platform_topics
from clearance_local.zipkin import Zipkin

Log = Callable[[str], None]


class Component(Protocol):
    name: str
    port: int
    needs: tuple[str, ...]
    infrastructure: bool

    @property
    def log_path(self) -> Path: ...

    def install(self) -> None: ...
    def start(self) -> None: ...
    def is_running(self) -> bool: ...
    def is_ready(self) -> bool: ...
    def stop(self) -> bool: ...
    def env(self) -> dict[str, str]: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Endpoints:
    """Where a running stack answers, and the credentials of its parties; what tests and
    services connect with.

    `kafka_admin` is the bootstrap Kafka administrator (operators' tools, the test
    harness); `kafka_parties` each party's own SCRAM credentials (services, upstream,
    custodians); `service_db_passwords` each service role's PostgreSQL password;
    `auth_issuer` the token issuer, and `keycloak_*` how to reach its administration
    (tokens by hand, test tokens).
    """

    kafka_bootstrap: str
    postgres_admin_dsn: str
    zipkin_url: str
    kafka_admin: KafkaSecurity = PLAINTEXT
    kafka_parties: Mapping[str, KafkaSecurity] = field(default_factory=dict)
    service_db_passwords: Mapping[str, str] = field(default_factory=dict)
    auth_issuer: str = ""
    keycloak_url: str = ""
    keycloak_admin_password: str = field(default="", repr=False)
    #: The operations console's own client secret (client credentials grant).
    console_client_secret: str = field(default="", repr=False)

    def kafka(self, party: str) -> KafkaSecurity:
        """The Kafka credentials of one party (KeyError for a party the contract lacks)."""
        return self.kafka_parties[party] if self.kafka_parties else PLAINTEXT

    def as_env(self) -> dict[str, str]:
        """Addresses only: secrets stay in the secrets folder."""
        return {
            "CLEARANCE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "CLEARANCE_KAFKA_SECURITY_PROTOCOL": self.kafka_admin.protocol,
            "CLEARANCE_KAFKA_SASL_MECHANISM": self.kafka_admin.mechanism,
            "CLEARANCE_POSTGRES_URL": self.postgres_admin_dsn.split("@", 1)[1],
            "CLEARANCE_ZIPKIN_URL": self.zipkin_url,
            "CLEARANCE_AUTH_ISSUER": self.auth_issuer,
            "OTEL_TRACES_EXPORTER": "zipkin",
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{self.zipkin_url}/api/v2/spans",
        }


def _refuse_a_stack_from_before_passwords(config: StackConfig) -> None:
    """A stack made before Kafka and PostgreSQL required generated passwords (issue 14) has
    their data but not the passwords: fail now with the way out, not later in a wait."""
    data = config.data_dir
    made = (data / "kafka").exists() or (data / "postgres").exists()
    if made and not (config.secrets_dir / f"kafka-{ADMIN_PRINCIPAL}").exists():
        raise StackError(
            f"the stack in {data} was made before Kafka and PostgreSQL required passwords; "
            f"make it anew with `bin/clearance reset` (`clearance-local --profile "
            f"{config.profile} reset`; the downloads are kept)"
        )


class Stack:
    """Every component of one profile, with the ports the profile remembers."""

    def __init__(self, config: StackConfig, *, keycloak: Keycloak | None = None) -> None:
        """`keycloak`: another stack's running identity provider to trust instead of one of
        this stack's own (a test stack beside the session's); it is neither started nor
        stopped here."""
        self.config = config
        self._shared_keycloak = keycloak
        self.ports = PortBook(
            config.run_dir / "ports.json", config.wanted_ports, config.fixed_ports
        )
        self._build()

    def _build(self) -> None:
        """(Re)create the components from the port book (after a port was replaced)."""
        ports = self.ports
        self.kafka = Kafka(self.config, ports["kafka"], ports["kafka_controller"])
        self.postgres = Postgres(self.config, ports["postgres"])
        self.zipkin = Zipkin(self.config, ports["zipkin"])
        self.keycloak = self._shared_keycloak or Keycloak(self.config, ports["keycloak"])
        self.bis_registry = BisRegistry(self.config, ports["bis-registry"])
        self.services = {name: self._app(name, package) for name, package in SERVICES}
        packages = dict(SERVICES)
        for replica in replica_names(self.config.replicas):
            service = replica.rsplit("-", 1)[0]
            self.services[replica] = self._app(replica, packages[service], replica_of=service)
        # bis-verifier asks the BIS registry server as a deployment asks the BIS source.
        self.services["bis-verifier"].extra_env = self.bis_registry.env()
        self.console = self._app(*CONSOLE, migrates=False, needs=())
        self.console.landing = "/"
        self.console.extra_env = {
            **{svc.env_name: svc.url for svc in self.services.values()},
            # It reads the services as itself (client credentials of its Keycloak client).
            "CLEARANCE_AUTH_CLIENT_ID": CONSOLE_CLIENT,
            "CLEARANCE_AUTH_CLIENT_SECRET": self.keycloak.client_secret(CONSOLE_CLIENT),
            "CLEARANCE_ZIPKIN_URL": self.zipkin.url,
        }
        self.prometheus = Prometheus(
            self.config,
            ports["prometheus"],
            {svc.name: f"127.0.0.1:{svc.port}" for svc in self.services.values()},
        )

    def _app(
        self,
        name: str,
        package: str,
        *,
        migrates: bool = True,
        needs: tuple[str, ...] = ("postgres", "topics"),
        replica_of: str = "",
    ) -> ServiceProcess:
        """`replica_of`: another process of that service (its principal, group and traces'
        service name); the first process alone watches be-intake's ICES inbox."""
        return ServiceProcess(
            name=name,
            package=package,
            port=self.ports[name],
            config=self.config,
            kafka_bootstrap=self.kafka.bootstrap,
            postgres_admin_dsn=self.postgres.admin_dsn,
            zipkin_url=self.zipkin.url,
            migrates=migrates,
            needs=needs,
            kafka_security=self.kafka.security(replica_of or name),
            database_password=self.postgres.service_passwords.get(package, ""),
            auth_issuer=self.keycloak.issuer,
            replica_of=replica_of,
        )

    @property
    def components(self) -> dict[str, Component]:
        """Every component, in the order `status` lists them."""
        listed: list[Component] = [
            self.postgres,
            self.kafka,
            self.zipkin,
            self.prometheus,
        ]
        if self._shared_keycloak is None:
            listed.insert(3, self.keycloak)
        listed.append(self.bis_registry)
        listed += [*self.services.values(), self.console]
        return {component.name: component for component in listed}

    @property
    def endpoints(self) -> Endpoints:
        from clearance_contracts import topics

        from clearance_local.kafka_acl import parties

        services, external = parties(topics())
        return Endpoints(
            kafka_bootstrap=self.kafka.bootstrap,
            postgres_admin_dsn=self.postgres.admin_dsn,
            zipkin_url=self.zipkin.url,
            kafka_admin=self.kafka.admin_security,
            kafka_parties={p: self.kafka.security(p) for p in (*services, *external)},
            service_db_passwords=self.postgres.service_passwords,
            auth_issuer=self.keycloak.issuer,
            keycloak_url=self.keycloak.url,
            keycloak_admin_password=self.keycloak.admin_password,
            console_client_secret=self.keycloak.client_secret(CONSOLE_CLIENT),
        )

    def addresses(self) -> dict[str, str]:
        """Every address of the stack, services included, as `stack.env` has them."""
        env: dict[str, str] = {}
        for component in self.components.values():
            env.update(component.env() if not isinstance(component, ServiceProcess) else {})
        for app in [*self.services.values(), self.console]:
            env.update(app.addresses())
        return env

    def _save_state(self) -> None:
        self.ports.save()
        lines = [
            f"# Addresses of the '{self.config.profile}' stack, written by `up`:",
            "#   source .data/<profile>/stack.env  (then e.g. $CLEARANCE_BE_INTAKE_URL)",
            *(f"{key}={value}" for key, value in self.addresses().items()),
        ]
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        (self.config.data_dir / "stack.env").write_text("\n".join(lines) + "\n")

    def _claim_ports(self, chosen: Iterable[Component], log: Log) -> None:
        """Replace the remembered port of a component that is not running when another
        process holds it; rebuild the components if any changed."""
        changed = False
        for component in chosen:
            running = component.is_running()
            names = [component.name]
            if isinstance(component, Kafka):
                names.append("kafka_controller")
            for name in names:
                before = self.ports[name]
                changed |= self.ports.replace_if_taken(name, running, log) != before
        if changed:
            self._build()

    def up(self, log: Log = print, *, services: bool = True) -> Endpoints:
        """Install what is missing and start what is not running, in parallel where the
        components allow; idempotent. `services=False`: the infrastructure alone."""
        self.config.cache_dir.mkdir(parents=True, exist_ok=True)
        _refuse_a_stack_from_before_passwords(self.config)
        for note in self.ports.notes:
            log(note)
        self.ports.notes.clear()
        chosen = [c for c in self.components.values() if services or c.infrastructure]
        self._claim_ports(chosen, log)
        chosen = [self.components[c.name] for c in chosen]
        self._save_state()
        if services:
            self.prometheus.reload_if_changed()
        steps: dict[str, Callable[[], None]] = {c.name: _starter(c, log) for c in chosen}
        needs = {c.name: c.needs for c in chosen}
        steps["topics"] = lambda: self._ensure_topics(log)
        needs["topics"] = ("kafka",)
        _run_steps(steps, needs)
        self._check_all_ours(chosen)
        return self.endpoints

    def _ensure_topics(self, log: Log) -> None:
        created = asyncio.run(
            ensure_topics(
                self.kafka.bootstrap,
                platform_topics(self.config.partitions),
                platform_topic_configs(),
                self.kafka.admin_security,
            )
        )
        if created:
            log(f"  topics created: {len(created)} ({', '.join(created[:3])}, …)")
        users, acls = self.kafka.provision()
        log(f"  kafka          {users} principals, {acls} ACLs from the AsyncAPI document")

    def _check_all_ours(self, chosen: Iterable[Component]) -> None:
        """After the start: every component still runs and answers as ours."""
        failures = [
            f"{c.name} is not ready on port {c.port} (log tail below)\n{log_tail(c.log_path)}"
            for c in chosen
            if not c.is_ready()
        ]
        if failures:
            raise StackError("\n\n".join(failures))

    def start_services(self, log: Log = print) -> None:
        """Migrate and start the services not yet running, in parallel, and wait for them."""
        steps = {name: _starter(svc, log) for name, svc in self.services.items()}
        _run_steps(steps, {name: () for name in steps})

    def down(self) -> list[str]:
        """Stop every component of this profile, dependents first; return the names stopped."""
        return [name for name, c in reversed(self.components.items()) if c.stop()]

    def status(self) -> dict[str, tuple[bool, int]]:
        return {c.name: (c.is_ready(), c.port) for c in self.components.values()}

    def reset(self) -> None:
        """Stop everything and delete this profile's state (downloads are kept)."""
        self.down()
        self.postgres.remove()
        shutil.rmtree(self.config.data_dir, ignore_errors=True)


def _starter(component: Component, log: Log) -> Callable[[], None]:
    """Start `component` unless it already runs and answers as ours."""

    def start() -> None:
        if component.is_running() and _answers_soon(component):
            log(f"  {component.name:<14} already running on port {component.port}")
            return
        if component.is_running():
            component.stop()
            log(f"  {component.name:<14} was running but not answering: restarting")
        if port_is_open(component.port):
            raise StackError(f"{component.name}: port {component.port} is held by another process")
        component.install()
        started = time.monotonic()
        if isinstance(component, ServiceProcess):
            component.start(migrate=True)  # one interpreter start-up: migrate, then serve
        else:
            component.start()
        log(
            f"  {component.name:<14} started on port {component.port} "
            f"in {time.monotonic() - started:.1f}s"
        )

    return start


def _answers_soon(component: Component, timeout: float = 20.0) -> bool:
    """A running component of ours may be busy: give it a little while to answer."""
    deadline = time.monotonic() + timeout
    while not component.is_ready():
        if time.monotonic() > deadline or not component.is_running():
            return False
        time.sleep(0.5)
    return True


def _run_steps(steps: dict[str, Callable[[], None]], needs: dict[str, tuple[str, ...]]) -> None:
    """Run every step in its own thread as soon as the steps it needs are done; a step
    whose need failed does not run. Raise one StackError naming every failure."""
    failures: dict[str, str] = {}
    done = {name: threading.Event() for name in steps}

    def run(name: str) -> None:
        try:
            for need in needs.get(name, ()):
                if need in done:
                    done[need].wait()
                    if need in failures:
                        failures[name] = f"not started: {need} failed"
                        return
            steps[name]()
        except Exception as error:
            failures[name] = str(error)
        finally:
            done[name].set()

    with ThreadPoolExecutor(max_workers=max(len(steps), 1)) as pool:
        list(pool.map(run, steps))
    if failures:
        raise StackError("\n\n".join(f"{name}: {why}" for name, why in failures.items()))
