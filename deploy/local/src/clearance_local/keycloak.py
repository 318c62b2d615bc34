"""The OpenID Connect identity provider of the local stack: Keycloak from Maven Central.

The distribution (`org.keycloak:keycloak-quarkus-dist`, a tar.gz) is resolved with Maven
like Kafka's and Zipkin's jars, unpacked into `.data/cache/`, and built once for this use
(`kc.sh build --db=dev-file`: an H2 file database) and started with `--cache=local` (no
cluster transport).
Each profile runs it from a home of its own (`.data/<profile>/keycloak/`, whose `lib`
links to the cached build): the database file and the realm import live there. It runs on
the machine's JDK 17 (Keycloak 26.5 still ships Java 17 class files), listening on
loopback only. At start it imports the realm `deploy/local/keycloak/clearance-realm.json`
(roles, the platform's audience and scope claims, clients, SAMPLE users without
passwords). Its bootstrap administrator's password is generated (secrets folder).
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import httpx

from clearance_local.config import StackConfig
from clearance_local.process import listens_on, read_pid, run, spawn, terminate, wait_until
from clearance_local.secrets import Secrets

REALM = "clearance"
AUDIENCE = "clearance"
ADMIN_USER = "clearance-keycloak-admin"
#: The realm's confidential clients whose secrets the local stack generates.
CONSOLE_CLIENT = "clearance-console"
CONFIDENTIAL_CLIENTS = (CONSOLE_CLIENT, "clearance-upstream")


def realm_file(config: StackConfig) -> Path:
    return config.root / "deploy" / "local" / "keycloak" / "clearance-realm.json"


class Keycloak:
    """One Keycloak node; `issuer` is the realm's token issuer."""

    name = "keycloak"
    needs: tuple[str, ...] = ()
    infrastructure = True

    def __init__(self, config: StackConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.home = config.data_dir / "keycloak"
        self.log_path = config.logs_dir / "keycloak.log"
        self.pid_path = config.run_dir / "keycloak.pid"
        self.secrets = Secrets(config.secrets_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    def env(self) -> dict[str, str]:
        return {"CLEARANCE_AUTH_ISSUER": self.issuer}

    def describe(self) -> str:
        return f"Token issuer        {self.issuer}  (bin/clearance token --role ...)"

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def stop(self) -> bool:
        return terminate(self.pid_path, timeout=30)

    def client_secret(self, client_id: str) -> str:
        """The generated secret of one of the realm's confidential clients."""
        return self.secrets.password(f"keycloak-client-{client_id}")

    @property
    def admin_password(self) -> str:
        return self.secrets.password("keycloak-admin")

    @property
    def distribution(self) -> Path:
        version = self.config.keycloak_version
        return self.config.cache_dir / f"keycloak-{version}" / f"keycloak-{version}"

    def install(self) -> None:
        """Fetch, unpack and build the distribution into the cache once (pinned version)."""
        version = self.config.keycloak_version
        marker = self.distribution / ".built"
        if marker.exists():
            return
        cache = self.distribution.parent
        cache.mkdir(parents=True, exist_ok=True)
        archive = cache / f"keycloak-quarkus-dist-{version}.tar.gz"
        if not archive.exists():
            run(
                [
                    "mvn",
                    "-q",
                    "-B",
                    "dependency:copy",
                    f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:tar.gz",
                    f"-DoutputDirectory={cache}",
                ],
                what="fetching the Keycloak distribution from Maven Central",
                cwd=self.config.cache_dir,
            )
        shutil.rmtree(self.distribution, ignore_errors=True)
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
        run(
            [str(self.distribution / "bin" / "kc.sh"), "build", "--db=dev-file", "--cache=local"],
            what="building Keycloak for the local stack",
        )
        archive.unlink()
        marker.write_text(version)

    def _prepare_home(self) -> None:
        """This profile's Keycloak home: the cached build's `lib`, its own data and config."""
        for folder in ("conf", "providers", "data/import"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        lib = self.home / "lib"
        if lib.is_symlink() and lib.resolve() != (self.distribution / "lib").resolve():
            lib.unlink()
        if not lib.exists():
            lib.symlink_to(self.distribution / "lib")
        # The import gets the confidential clients' generated secrets (never in the repository).
        realm = json.loads(realm_file(self.config).read_text())
        for client in realm.get("clients", []):
            if client["clientId"] in CONFIDENTIAL_CLIENTS:
                client["secret"] = self.client_secret(client["clientId"])
        target = self.home / "data" / "import" / "realm.json"
        target.unlink(missing_ok=True)
        target.touch(mode=0o600)
        target.write_text(json.dumps(realm, indent=2))

    def start(self) -> None:
        self._prepare_home()
        home = self.home
        spawn(
            [
                "java",
                f"-Xmx{self.config.keycloak_heap}",
                "-Xms64m",
                "-XX:MetaspaceSize=96M",
                "-XX:MaxMetaspaceSize=256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-XX:+ExitOnOutOfMemoryError",
                "-Dfile.encoding=UTF-8",
                "-Duser.language=en",
                "-Duser.country=US",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                "--add-opens=java.base/java.security=ALL-UNNAMED",
                f"-Dkc.home.dir={home}",
                f"-Djboss.server.config.dir={home / 'conf'}",
                "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                "-Dpicocli.disable.closures=true",
                "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
                "io.quarkus.bootstrap.forkjoin.QuarkusForkJoinWorkerThreadFactory",
                "-cp",
                str(home / "lib" / "quarkus-run.jar"),
                "io.quarkus.bootstrap.runner.QuarkusEntryPoint",
                "start",
                "--optimized",
                "--cache=local",  # no cluster transport: nothing listens beyond loopback
                "--http-enabled=true",
                "--http-host=127.0.0.1",
                f"--http-port={self.port}",
                f"--hostname={self.url}",
                "--import-realm",
            ],
            log_path=self.log_path,
            pid_path=self.pid_path,
            env={
                "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
                "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            },
        )
        wait_until(
            self.is_ready,
            what="Keycloak",
            timeout=180,
            log_path=self.log_path,
            pid_path=self.pid_path,
        )

    def is_ready(self) -> bool:
        try:
            well_known = f"{self.issuer}/.well-known/openid-configuration"
            answers = httpx.get(well_known, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False
        return answers and listens_on(read_pid(self.pid_path), self.port)
