"""Where the local stack lives and which versions and ports it uses.

Every value can be overridden from the environment (`CLEARANCE_*`), so two
stacks (the developer's `local` one and the tests' `test` one) can run side by
side on one machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_VERSION = "4.1.1"
ZIPKIN_VERSION = "3.5.1"
# The newest Keycloak line that still runs on Java 17 (its class files are Java 17).
KEYCLOAK_VERSION = "26.5.6"
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"

# The five services; each gets a PostgreSQL schema and a login role of this name.
SERVICE_SCHEMAS = ("be_intake", "bis_verifier", "rms_router", "warehouse_seal", "ooc_issuer")

# The ports the developer's stack wants (so bookmarks work); other profiles take free
# ones. Either way a profile keeps the ports it got first (run/ports.json). A component
# added to the stack adds its line here.
DEFAULT_PORTS = {
    "kafka": 19092,
    "kafka_controller": 19093,
    "postgres": 15432,
    "zipkin": 9411,
    "keycloak": 18080,
    "prometheus": 9090,
    "console": 8000,
    "bis-registry": 8010,
    "be-intake": 8001,
    "bis-verifier": 8002,
    "rms-router": 8003,
    "warehouse-seal": 8004,
    "ooc-issuer": 8005,
}


def port_variable(name: str) -> str:
    """The environment variable that overrides a component's port: CLEARANCE_KAFKA_PORT,
    CLEARANCE_BE_INTAKE_PORT, ..."""
    return f"CLEARANCE_{name.upper().replace('-', '_')}_PORT"


def repo_root() -> Path:
    """The repository root: the folder holding the workspace pyproject.toml."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "deploy").is_dir():
            return parent
    return Path.cwd()


def parse_replicas(text: str) -> dict[str, int]:
    """`be-intake=2,ooc-issuer=2` -> {"be-intake": 2, "ooc-issuer": 2} (services only)."""
    replicas: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition("=")
        if name not in DEFAULT_PORTS or not count.isdigit() or int(count) < 1:
            raise ValueError(f"CLEARANCE_REPLICAS: {part!r} is not <service>=<count>")
        replicas[name] = int(count)
    return replicas


def replica_names(replicas: dict[str, int]) -> list[str]:
    """The extra processes' names: be-intake-2, be-intake-3, ..."""
    return [f"{name}-{i}" for name, count in replicas.items() for i in range(2, count + 1)]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class StackConfig:
    """Versions, folders and wanted ports of one local stack (a "profile")."""

    profile: str = "local"
    root: Path = field(default_factory=repo_root)
    kafka_version: str = KAFKA_VERSION
    zipkin_version: str = ZIPKIN_VERSION
    keycloak_version: str = KEYCLOAK_VERSION
    kafka_heap: str = "512m"
    zipkin_heap: str = "512m"
    keycloak_heap: str = "512m"
    partitions: int = 3
    #: Processes per service beyond the first (`CLEARANCE_REPLICAS=be-intake=2`): the
    #: extra ones are named `be-intake-2`, ... and join the service's consumer group.
    replicas: dict[str, int] = field(default_factory=dict)
    wanted_ports: dict[str, int] = field(default_factory=dict)
    #: Ports set in the environment: they win over the remembered ones.
    fixed_ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, profile: str | None = None) -> StackConfig:
        profile = profile or os.environ.get("CLEARANCE_PROFILE", "local")
        wanted = profile == "local"
        fixed = {
            name: int(os.environ[port_variable(name)])
            for name in DEFAULT_PORTS
            if os.environ.get(port_variable(name))
        }
        replicas = parse_replicas(os.environ.get("CLEARANCE_REPLICAS", ""))
        extra = {name: 0 for name in replica_names(replicas)}
        ports = {name: port if wanted else 0 for name, port in DEFAULT_PORTS.items()} | extra
        ports |= fixed
        root = Path(os.environ.get("CLEARANCE_ROOT", str(repo_root())))
        return cls(
            profile=profile,
            root=root,
            kafka_heap=os.environ.get("CLEARANCE_KAFKA_HEAP", "512m"),
            partitions=_env_int("CLEARANCE_KAFKA_PARTITIONS", 3),
            replicas=replicas,
            wanted_ports=ports,
            fixed_ports=fixed,
        )

    @property
    def data_root(self) -> Path:
        return Path(os.environ.get("CLEARANCE_DATA_DIR", str(self.root / ".data")))

    @property
    def data_dir(self) -> Path:
        """State of this profile: broker log, database cluster, process logs."""
        return self.data_root / self.profile

    @property
    def cache_dir(self) -> Path:
        """Downloaded jars, shared by all profiles and kept by `reset`."""
        return self.data_root / "cache"

    @property
    def secrets_dir(self) -> Path:
        """Generated passwords and keys of this profile, owner-only (clearance_local.secrets)."""
        return self.data_dir / "secrets"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"
