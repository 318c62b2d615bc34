"""Apache Kafka in KRaft mode, single node, from Maven Central jars.

The broker is installed the way OpenZipkin's Kafka images do it: a throwaway
POM naming `kafka_2.13` plus an SLF4J binding, resolved with Maven's
`dependency:copy-dependencies`, then started with the machine's JDK.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from collections.abc import Mapping
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from clearance_local.config import LOG4J_VERSION, SLF4J_VERSION, StackConfig
from clearance_local.process import port_is_open, read_pid, run, spawn, terminate, wait_until

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

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

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
        props = self.home / "server.properties"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
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
        return ours is not None and asyncio.run(_cluster_id(self.bootstrap)) == ours


async def _cluster_id(bootstrap: str) -> str | None:
    """The id of the cluster answering at `bootstrap`, or None if none answers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return str(cluster.get("cluster_id"))
    except (KafkaError, OSError):
        return None
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """The partition numbers of an existing topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
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
) -> list[str]:
    """Create the missing topics (name -> partitions); return the names created.

    `configs` gives topic-level settings by name (e.g. compaction) for topics created now; an
    existing topic is left as it is.
    """
    configs = configs or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
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
