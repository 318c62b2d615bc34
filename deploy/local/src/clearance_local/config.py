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
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.17"

# The five services; each gets a PostgreSQL schema and a login role of this name.
SERVICE_SCHEMAS = ("be_intake", "bis_verifier", "rms_router", "warehouse_seal", "ooc_issuer")

# Fixed ports for the developer's stack (so bookmarks work); 0 means "any free port".
_DEFAULT_PORTS = {
    "local": {
        "kafka": 19092,
        "kafka_controller": 19093,
        "postgres": 15432,
        "zipkin": 9411,
        "bis_registry": 8010,
    },
    "test": {"kafka": 0, "kafka_controller": 0, "postgres": 0, "zipkin": 0, "bis_registry": 0},
}


def repo_root() -> Path:
    """The repository root: the folder holding the workspace pyproject.toml."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "deploy").is_dir():
            return parent
    return Path.cwd()


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
    kafka_heap: str = "512m"
    zipkin_heap: str = "512m"
    partitions: int = 3
    wanted_ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, profile: str | None = None) -> StackConfig:
        profile = profile or os.environ.get("CLEARANCE_PROFILE", "local")
        defaults = _DEFAULT_PORTS.get(profile, _DEFAULT_PORTS["test"])
        ports = {
            name: _env_int(f"CLEARANCE_{name.upper()}_PORT", port)
            for name, port in defaults.items()
        }
        root = Path(os.environ.get("CLEARANCE_ROOT", str(repo_root())))
        return cls(
            profile=profile,
            root=root,
            kafka_heap=os.environ.get("CLEARANCE_KAFKA_HEAP", "512m"),
            partitions=_env_int("CLEARANCE_KAFKA_PARTITIONS", 3),
            wanted_ports=ports,
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
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"
