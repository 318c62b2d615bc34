"""PostgreSQL from Debian's packages: a private cluster of the profile.

The server never runs as root: when the provisioner is root it runs the
cluster as the `postgres` system user that Debian's package creates. That user
cannot enter a clone in a private folder (a home directory of mode 700, as
root's is): then the cluster lives in the `postgres` user's own home
(`~postgres/clearance/<clone and profile>/`) and `.data/<profile>/postgres` is a
link to it, so `logs`, `down` and `reset` find it as before.

Passwords are generated (`.data/<profile>/secrets/`, owner-only): the administrator's
(`clearance_admin`, the cluster's bootstrap superuser, used only to provision) and one per
service role. Service roles are members of `clearance_services`, which `pg_hba.conf` lets
connect to the platform's database alone, over loopback, with SCRAM; they hold no
CONNECT on any other database, are no superusers, create no roles or databases, and each
owns only its own schema.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
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
    needs: tuple[str, ...] = ()
    infrastructure = True

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.link = config.data_dir / "postgres"
        self.secrets = Secrets(config.secrets_dir)

    @property
    def home(self) -> Path:
        """The cluster's folder: in the profile, or where the `postgres` user can reach it."""
        return self.link.resolve() if self.link.is_symlink() else self.link

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log_path(self) -> Path:
        return self.config.logs_dir / "postgres.log"

    @property
    def pid_path(self) -> Path:
        """The postmaster's pid file (its first line is the pid)."""
        return self.data / "postmaster.pid"

    @property
    def admin_password(self) -> str:
        return self.secrets.password("postgres-admin")

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://{ADMIN_ROLE}:{self.admin_password}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def service_passwords(self) -> dict[str, str]:
        return service_passwords(self.secrets)

    def env(self) -> dict[str, str]:
        return {"CLEARANCE_POSTGRES_ADMIN_DSN": self.admin_dsn}

    def describe(self) -> str:
        return f"PostgreSQL (admin)  {self.admin_dsn}"

    def install(self) -> None:
        install()

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def _chown(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def _owner_can_enter(self, folder: Path) -> bool:
        if os.geteuid() != 0:
            return True  # the cluster runs as this user
        probe = subprocess.run(
            self._as_owner(["test", "-x", str(folder), "-a", "-w", str(folder)]), check=False
        )
        return probe.returncode == 0

    def _place_cluster(self) -> Path:
        """Create the cluster's folder where its owner can work; return it."""
        if self.link.is_symlink() or (self.link / "data").exists():
            return self.home
        self.link.mkdir(parents=True, exist_ok=True)
        self._chown(self.link)
        if self._owner_can_enter(self.link):
            return self.link
        self.link.rmdir()
        elsewhere = _reachable_home(self.config)
        elsewhere.mkdir(parents=True, exist_ok=True)
        self._chown(elsewhere)
        if not self._owner_can_enter(elsewhere):
            raise StackError(
                f"PostgreSQL runs as the `postgres` user, who can enter neither {self.link} "
                f"nor {elsewhere}. Clone the repository into a folder that user can reach "
                "(e.g. /srv), or set CLEARANCE_POSTGRES_DIR to a folder it may write."
            )
        self.link.symlink_to(elsewhere, target_is_directory=True)
        return elsewhere

    def start(self) -> None:
        bindir = install()
        home = self._place_cluster()
        data = home / "data"
        # The server writes its log itself, so the log lives where it may write.
        server_log = home / "postgres.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.log_path.is_symlink() and server_log != self.log_path:
            self.log_path.unlink(missing_ok=True)
            self.log_path.symlink_to(server_log)
        server_log.touch()
        self._chown(home, server_log)
        if not (data / "PG_VERSION").exists():
            pwfile = home / "pwfile"
            pwfile.unlink(missing_ok=True)
            pwfile.touch(mode=0o600)
            pwfile.write_text(self.admin_password)
            self._chown(pwfile)
            try:
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
                            "--no-sync",
                        ]
                    ),
                    what="initdb",
                )
            finally:
                pwfile.unlink(missing_ok=True)
        hba = data / "pg_hba.conf"
        _write_as_owner(hba, _PG_HBA, self._chown)
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={home} -c max_connections=200 "
            "-c shared_buffers=128MB -c fsync=on -c synchronous_commit=on "
            # PostgreSQL's own statistics per statement, for operations and the benchmark.
            "-c shared_preload_libraries=pg_stat_statements"
        )
        run(
            self._as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(server_log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            what=f"starting PostgreSQL (log {server_log})",
        )
        wait_until(self.is_ready, what="PostgreSQL", timeout=30, log_path=self.log_path)
        asyncio.run(ensure_database(self.admin_dsn.rsplit("/", 1)[0] + "/postgres"))
        asyncio.run(provision_database(self.admin_dsn, passwords=self.service_passwords))
        asyncio.run(keep_statement_statistics(self.admin_dsn))

    def stop(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        bindir = _bindir()
        subprocess.run(
            self._as_owner(
                [str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        return True

    def remove(self) -> None:
        """Delete the cluster's folder, wherever it is (reset)."""
        if self.link.is_symlink():
            shutil.rmtree(self.home, ignore_errors=True)
            self.link.unlink()

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (the first line of its pid file), while it runs."""
        try:
            pid = int(self.pid_path.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, and another user's (the `postgres` user's)
        return pid

    def is_running(self) -> bool:
        return self.pid is not None

    def is_ready(self) -> bool:
        """This profile's cluster answers on the port (its data directory is ours)."""
        if not port_is_open(self.port):
            return False
        try:
            answer = asyncio.run(_data_directory(self.admin_dsn.rsplit("/", 1)[0] + "/postgres"))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        return Path(answer).resolve() == self.data.resolve()


async def _data_directory(server_dsn: str) -> str:
    conn = await asyncpg.connect(server_dsn, timeout=3)
    try:
        return str(await conn.fetchval("SHOW data_directory"))
    finally:
        await conn.close()


def _reachable_home(config: StackConfig) -> Path:
    """A folder for the cluster that the `postgres` user owns: in its home directory,
    named by this clone's data folder and the profile, so clones never share one."""
    chosen = os.environ.get("CLEARANCE_POSTGRES_DIR")
    tag = hashlib.sha256(str(config.data_dir.resolve()).encode()).hexdigest()[:12]
    if chosen:
        return Path(chosen) / f"{config.profile}-{tag}"
    home = Path(pwd.getpwnam("postgres").pw_dir)
    return home / "clearance" / f"{config.profile}-{tag}"


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


async def keep_statement_statistics(admin_dsn: str) -> None:
    """pg_stat_statements in the platform's database: time, calls and rows per statement,
    readable by the administrator (what `clearance-bench` reports per run)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
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
