"""Apache Kafka in KRaft mode, single node, from Maven Central jars, with authentication.

The broker is installed the way OpenZipkin's Kafka images do it: a throwaway
POM naming `kafka_2.13` plus an SLF4J binding, resolved with Maven's
`dependency:copy-dependencies`, then started with the machine's JDK.

Clients authenticate with SASL/SCRAM-SHA-512 (`SASL_PLAINTEXT` on loopback; production puts
the same inside TLS, `SASL_SSL`), and the KRaft standard authorizer allows only what the
ACLs say (`kafka_acl.derive_acls`, from the AsyncAPI document). The bootstrap administrator
`clearance-admin` is written into the storage when it is formatted (`--add-scram`); it then
creates one SCRAM user per party with a generated password and the derived ACLs
(`ClearanceKafkaAccess.java`, Kafka's Admin client). The controller listener uses SASL/PLAIN
with a generated password (KRaft controllers cannot use SCRAM). Passwords live in
`.data/<profile>/secrets/` (owner-only).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from clearance_contracts import topics
from clearance_runtime.kafka import KafkaSecurity, client_options

from clearance_local.config import LOG4J_VERSION, SLF4J_VERSION, StackConfig
from clearance_local.kafka_acl import ADMIN_PRINCIPAL, CONTROLLER_PRINCIPAL, derive_acls, parties
from clearance_local.process import port_is_open, read_pid, run, spawn, terminate, wait_until
from clearance_local.secrets import Secrets

_ACCESS_TOOL = Path(__file__).parent / "java" / "ClearanceKafkaAccess.java"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.clearance</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafkaclients.name = org.apache.kafka
logger.kafkaclients.level = WARN
logger.server.name = kafka.server.KafkaServer
logger.server.level = INFO
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
"""


class Kafka:
    """One broker+controller node; `port` for clients, `controller_port` for KRaft."""

    name = "kafka"
    needs: tuple[str, ...] = ()
    infrastructure = True

    def __init__(self, config: StackConfig, port: int, controller_port: int) -> None:
        self.config = config
        self.port = port
        self.controller_port = controller_port
        self.home = config.data_dir / "kafka"
        self.log_path = config.logs_dir / "kafka.log"
        self.pid_path = config.run_dir / "kafka.pid"
        self.secrets = Secrets(config.secrets_dir)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def security(self, party: str) -> KafkaSecurity:
        """The credentials of one party (service, upstream, custodian): SCRAM over loopback."""
        return KafkaSecurity(
            protocol="SASL_PLAINTEXT",
            mechanism="SCRAM-SHA-512",
            username=party,
            password=self.secrets.password(f"kafka-{party}"),
        )

    @property
    def admin_security(self) -> KafkaSecurity:
        """The bootstrap administrator (super user): provisioning, operators' tools, tests."""
        return self.security(ADMIN_PRINCIPAL)

    def _plain_parties(self) -> list[str]:
        """Every party (and the administrator) that may sign in with SASL/PLAIN."""
        services, external = parties(topics())
        return [ADMIN_PRINCIPAL, *services, *external]

    def provision(self) -> tuple[int, int]:
        """Create (or update) every party's SCRAM user and the ACLs the AsyncAPI document
        implies, deleting ACLs it no longer implies; return (users, acls)."""
        specs = topics()
        services, external = parties(specs)
        acls = derive_acls(specs)
        lines = [
            "\t".join(("scram", party, self.security(party).password))
            for party in (*services, *external)
        ]
        lines += [acl.line() for acl in acls]
        # Users and ACLs live in the cluster's metadata: nothing to do when this cluster
        # already holds exactly this spec (a second `up` then costs no JVM).
        meta = self.home / "data" / "meta.properties"
        cluster = meta.read_text() if meta.exists() else ""
        digest = hashlib.sha256("\n".join([cluster, *lines]).encode()).hexdigest()
        marker = self.home / "provisioned.sha256"
        if marker.exists() and marker.read_text() == digest:
            return len(services) + len(external), len(acls)
        spec_file = self.secrets.folder / "kafka-access.tsv"
        spec_file.unlink(missing_ok=True)
        self.secrets.file(spec_file.name, lambda: "\n".join(lines).encode())
        try:
            run(
                [
                    "java",
                    "-cp",
                    f"{self.libs}/*",
                    f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                    str(_ACCESS_TOOL),
                    str(self._admin_client_properties()),
                    str(spec_file),
                ],
                what="provisioning Kafka users and ACLs",
            )
        finally:
            spec_file.unlink(missing_ok=True)
        marker.write_text(digest)
        return len(services) + len(external), len(acls)

    def _admin_client_properties(self) -> Path:
        admin = self.admin_security
        path = self.secrets.folder / "kafka-admin-client.properties"
        path.unlink(missing_ok=True)
        return self.secrets.file(
            path.name,
            lambda: "\n".join(
                [
                    f"bootstrap.servers={self.bootstrap}",
                    "security.protocol=SASL_PLAINTEXT",
                    "sasl.mechanism=SCRAM-SHA-512",
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                    f'required username="{admin.username}" password="{admin.password}";',
                    "",
                ]
            ).encode(),
        )

    def env(self) -> dict[str, str]:
        return {"CLEARANCE_KAFKA_BOOTSTRAP": self.bootstrap}

    def describe(self) -> str:
        return f"Kafka bootstrap     {self.bootstrap}"

    @property
    def cluster_id(self) -> str | None:
        """The id this profile's storage was formatted with (`meta.properties`)."""
        meta = self.home / "data" / "meta.properties"
        with contextlib.suppress(OSError):
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
        return None

    def is_running(self) -> bool:
        return read_pid(self.pid_path) is not None

    def stop(self) -> bool:
        return terminate(self.pid_path, timeout=30)

    @property
    def libs(self) -> Path:
        return self.config.cache_dir / f"kafka-{self.config.kafka_version}" / "libs"

    def install(self) -> None:
        """Resolve the broker's jars into the cache once (pinned version)."""
        marker = self.libs / ".complete"
        if marker.exists():
            return
        build = self.libs.parent
        build.mkdir(parents=True, exist_ok=True)
        (build / "pom.xml").write_text(
            _POM.format(kafka=self.config.kafka_version, slf4j=SLF4J_VERSION, log4j=LOG4J_VERSION)
        )
        run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs}",
                "-DincludeScope=runtime",
            ],
            what="resolving the Kafka broker's jars from Maven Central",
            cwd=build,
        )
        marker.write_text(self.config.kafka_version)

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)  # server.properties holds the controller's password
        admin = self.admin_security
        controller = self.secrets.password(f"kafka-{CONTROLLER_PRINCIPAL}")
        props = self.home / "server.properties"
        props.unlink(missing_ok=True)
        props.touch(mode=0o600)
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=SASL_PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    # Production: SASL_SSL on the client listener (see the README, "Security").
                    "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,"
                    "CONTROLLER:SASL_PLAINTEXT",
                    "inter.broker.listener.name=SASL_PLAINTEXT",
                    # PLAIN beside SCRAM, same principals and passwords, for librdkafka tools
                    # older than 2.6.1 (Debian's kcat), whose SCRAM Kafka 4 refuses
                    # (librdkafka#4895); loopback only, like the listener itself.
                    "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                    "listener.name.sasl_plaintext.plain.sasl.jaas.config="
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    + " ".join(
                        f'user_{party}="{self.security(party).password}"'
                        for party in self._plain_parties()
                    )
                    + ";",
                    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
                    "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{admin.username}" password="{admin.password}";',
                    "sasl.mechanism.controller.protocol=PLAIN",
                    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                    "listener.name.controller.plain.sasl.jaas.config="
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f'username="{CONTROLLER_PRINCIPAL}" password="{controller}" '
                    f'user_{CONTROLLER_PRINCIPAL}="{controller}";',
                    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    f"super.users=User:{ADMIN_PRINCIPAL};User:{CONTROLLER_PRINCIPAL}",
                    "allow.everyone.if.no.acl.found=false",
                    f"log.dirs={self.home / 'data'}",
                    # Topics are created explicitly, with partition counts from configuration.
                    "auto.create.topics.enable=false",
                    f"num.partitions={self.config.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=3",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "",
                ]
            )
        )
        (self.home / "log4j2.properties").write_text(_LOG4J2)
        return props

    def _format_storage(self, props: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        run(
            [
                "java",
                # A short-lived tool: the quick JIT and the simple collector start it soonest.
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                f"{self.libs}/*",
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "kafka.tools.StorageTool",
                "format",
                # One argument, so an id starting with "-" (1 in 64) is not read as an option.
                f"--cluster-id={cluster_id}",
                "-c",
                str(props),
                # The bootstrap administrator exists before the broker first starts.
                "--add-scram",
                f"SCRAM-SHA-512=[name={ADMIN_PRINCIPAL},password={self.admin_security.password}]",
            ],
            what="formatting Kafka's KRaft storage",
        )

    def start(self) -> None:
        props = self._write_config()
        self._format_storage(props)
        spawn(
            [
                "java",
                f"-Xmx{self.config.kafka_heap}",
                "-Xms128m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp",
                f"{self.libs}/*",
                "kafka.Kafka",
                str(props),
            ],
            log_path=self.log_path,
            pid_path=self.pid_path,
        )
        wait_until(
            self.is_ready, what="Kafka", timeout=180, log_path=self.log_path, pid_path=self.pid_path
        )

    def is_ready(self) -> bool:
        """This profile's broker answers: the cluster id it reports is the one our storage
        was formatted with (another copy's broker on the port is not ours)."""
        # A closed port first: spares the client's connection-refused noise.
        if not port_is_open(self.port):
            return False
        ours = self.cluster_id
        return (
            ours is not None
            and asyncio.run(_cluster_id(self.bootstrap, self.admin_security)) == ours
        )


async def _cluster_id(bootstrap: str, security: KafkaSecurity | None = None) -> str | None:
    """The id of the cluster answering at `bootstrap`, or None if none answers."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=3000, **client_options(security)
    )
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return str(cluster.get("cluster_id"))
    except (KafkaError, OSError):
        return None
    finally:
        await admin.close()


async def partitions_of(
    bootstrap: str, topic: str, security: KafkaSecurity | None = None
) -> list[int]:
    """The partition numbers of an existing topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **client_options(security))
    await producer.start()
    try:
        return sorted(await producer.partitions_for(topic))
    finally:
        await producer.stop()


def new_topic(name: str, partitions: int, config: Mapping[str, str] | None = None) -> NewTopic:
    """The creation request of one topic on the single-node broker (replication factor 1).

    `config` holds topic-level settings, e.g. `{"cleanup.policy": "compact"}` for a reference
    topic (clearance_local.topics.platform_topic_configs).
    """
    return NewTopic(
        name=name,
        num_partitions=partitions,
        replication_factor=1,
        topic_configs=dict(config or {}),
    )


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    configs: Mapping[str, Mapping[str, str]] | None = None,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create the missing topics (name -> partitions); return the names created.

    `configs` gives topic-level settings by name (e.g. compaction) for topics created now; an
    existing topic is left as it is.
    """
    configs = configs or {}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=10000, **client_options(security)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            new_topic(name, partitions, configs.get(name))
            for name, partitions in sorted(topics.items())
            if name not in existing
        ]
        if missing:
            # Created concurrently by another `up`: the goal is met all the same.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()
