"""PostgreSQL from Debian's packages: a private cluster under the data folder.

The server never runs as root: when the provisioner is root it runs the
cluster as the `postgres` system user that Debian's package creates.

Passwords are generated (`.data/<profile>/secrets/`, owner-only): the administrator's
(`clearance_admin`, the cluster's bootstrap superuser, used only to provision) and one per
service role. Service roles are members of `clearance_services`, which `pg_hba.conf` lets
connect to the platform's database alone, over loopback, with SCRAM; they hold no
CONNECT on any other database, are no superusers, create no roles or databases, and each
owns only its own schema.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import asyncpg

from clearance_local.config import SERVICE_SCHEMAS, StackConfig
from clearance_local.process import StackError, port_is_open, run, wait_until
from clearance_local.secrets import Secrets

DATABASE = "clearance"
ADMIN_ROLE = "clearance_admin"
#: The group of every service role: what pg_hba.conf lets in (to the platform's database).
SERVICES_GROUP = "clearance_services"
# What clusters made before passwords were generated used; replaced at the next start.
_LEGACY_ADMIN_PASSWORD = "clearance_admin"

_PG_HBA = f"""# Written by clearance-local: who may connect to what (loopback only).
# TYPE  DATABASE    USER               ADDRESS        METHOD
local   all         {ADMIN_ROLE}       scram-sha-256
host    all         {ADMIN_ROLE}       127.0.0.1/32   scram-sha-256
host    {DATABASE}  +{SERVICES_GROUP}  127.0.0.1/32   scram-sha-256
"""


def service_passwords(
    secrets: Secrets, schemas: tuple[str, ...] = SERVICE_SCHEMAS
) -> dict[str, str]:
    """The generated password of each service role."""
    return {schema: secrets.password(f"postgres-{schema}") for schema in schemas}


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if versions:
        return versions[0].parent
    raise StackError("PostgreSQL server binaries not found (initdb)")


def install() -> Path:
    """Install Debian's `postgresql` package when missing; return its bin folder."""
    try:
        return _bindir()
    except StackError:
        if os.geteuid() != 0:
            raise StackError(
                "PostgreSQL is not installed; run as root or `apt-get install postgresql`"
            ) from None
    run(["apt-get", "update", "-qq"], what="apt-get update")
    run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        what="installing PostgreSQL from Debian's packages",
    )
    return _bindir()


class Postgres:
    """One cluster, one database, one schema and login role per service."""

    name = "postgres"

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.home = config.data_dir / "postgres"
        self.log_path = config.logs_dir / "postgres.log"
        self.pid_path = self.home / "data" / "postmaster.pid"
        self.secrets = Secrets(config.secrets_dir)

    @property
    def admin_password(self) -> str:
        return self.secrets.password("postgres-admin")

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://{ADMIN_ROLE}:{self.admin_password}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def service_passwords(self) -> dict[str, str]:
        return service_passwords(self.secrets)

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def _chown(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        bindir = install()
        data = self.home / "data"
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        self._chown(self.home, self.log_path)
        if not (data / "PG_VERSION").exists():
            pwfile = self.home / "pwfile"
            pwfile.unlink(missing_ok=True)
            pwfile.touch(mode=0o600)
            pwfile.write_text(self.admin_password)
            self._chown(pwfile)
            run(
                self._as_owner(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        ADMIN_ROLE,
                        f"--pwfile={pwfile}",
                        "--auth=scram-sha-256",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                what="initdb",
            )
            pwfile.unlink()
        hba = data / "pg_hba.conf"
        _write_as_owner(hba, _PG_HBA, self._chown)
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.home} -c max_connections=200 "
            "-c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"
        )
        run(
            self._as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(self.log_path),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            what="starting PostgreSQL",
        )
        wait_until(
            lambda: port_is_open(self.port), what="PostgreSQL", timeout=30, log_path=self.log_path
        )
        asyncio.run(self._adopt_legacy_password())
        asyncio.run(ensure_database(self.admin_dsn.rsplit("/", 1)[0] + "/postgres"))
        asyncio.run(provision_database(self.admin_dsn, passwords=self.service_passwords))

    async def _adopt_legacy_password(self) -> None:
        """A cluster made before passwords were generated gets its generated one now."""
        try:
            conn = await asyncpg.connect(self.admin_dsn.rsplit("/", 1)[0] + "/postgres")
        except asyncpg.InvalidPasswordError:
            legacy = self.admin_dsn.replace(self.admin_password, _LEGACY_ADMIN_PASSWORD, 1)
            conn = await asyncpg.connect(legacy.rsplit("/", 1)[0] + "/postgres")
            password = self.admin_password.replace("'", "''")
            await conn.execute(f"ALTER ROLE {ADMIN_ROLE} PASSWORD '{password}'")
        await conn.close()

    def stop(self) -> bool:
        data = self.home / "data"
        if not (data / "postmaster.pid").exists():
            return False
        bindir = _bindir()
        subprocess.run(
            self._as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        return True

    def is_ready(self) -> bool:
        return port_is_open(self.port)


async def provision_database(
    admin_dsn: str,
    schemas: tuple[str, ...] = SERVICE_SCHEMAS,
    *,
    passwords: Mapping[str, str],
) -> None:
    """Give each service a schema and a login role confined to it, with its password.

    Works against any server reachable by `admin_dsn` (local cluster or
    container); idempotent. No role but the administrator may connect to any other
    database of the server (CONNECT revoked from PUBLIC there).
    """
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
        others = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname <> $1 AND datallowconn", database
        )
        for row in others:
            await conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{row[0]}" FROM PUBLIC')
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", SERVICES_GROUP):
            await conn.execute(f"CREATE ROLE {SERVICES_GROUP} NOLOGIN")
        for schema in schemas:
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", schema)
            password = passwords[schema].replace("'", "''")
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(
                f"{verb} ROLE {schema} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                f"NOBYPASSRLS PASSWORD '{password}'"
            )
            await conn.execute(f"GRANT {SERVICES_GROUP} TO {schema}")
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {schema}')
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {schema}")
            await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
            await conn.execute(f"ALTER ROLE {schema} SET search_path = {schema}")
    finally:
        await conn.close()


async def ensure_database(server_dsn: str, database: str = DATABASE) -> None:
    """Create the platform database on a server that lacks it (e.g. a container)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def service_dsn(admin_dsn: str, schema: str, password: str) -> str:
    """The DSN of `schema`'s own role on the server and database of `admin_dsn`."""
    hostpart = admin_dsn.split("@", 1)[1]
    return f"postgresql://{schema}:{password}@{hostpart}"


def _write_as_owner(path: Path, text: str, chown: Callable[..., None]) -> None:
    path.write_text(text)
    os.chmod(path, 0o600)
    chown(path)
