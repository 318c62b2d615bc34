"""The Kubernetes manifests of the platform (Kustomize base under deploy/k8s/base), generated.

Kafka runs on the Strimzi operator (KafkaNodePools, a KRaft Kafka, a KafkaTopic per channel of
the AsyncAPI document, a KafkaUser per party with the ACLs of `topology.acls`), PostgreSQL on
CloudNativePG (a Cluster with one managed role per service, a Database with one schema per
service, backups to an object store through the Barman Cloud plugin), and each component as a
Deployment with probes, resources, a PodDisruptionBudget, a NetworkPolicy that allows only the
flows the document gives it (and the HTTP calls of `Component.calls`), and a KEDA ScaledObject
on its consumer lag whose maximum is the partition count. Traces go by OTLP to a collector.

Everything that repeats (topics, ACLs, network peers, per-service resources) comes from the
AsyncAPI document and `components.COMPONENTS`; `clearance-deploy generate --check` (and a
test) fails when the files on disk differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearance_local import images
from clearance_local.postgres import ADMIN_ROLE, DATABASE

from clearance_deploy import topology
from clearance_deploy.components import (
    COMPONENTS,
    HTTP_PORT,
    REALM_PATH,
    Component,
    callers,
    common_environment,
)

Manifest = dict[str, Any]

STRIMZI_API = "kafka.strimzi.io/v1"
CNPG_API = "postgresql.cnpg.io/v1"
BARMAN_API = "barmancloud.cnpg.io/v1"
KEDA_API = "keda.sh/v1alpha1"
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
IMAGE_PREFIX = "clearance/"
IMAGE_TAG = "0.1.0"


@dataclass(frozen=True)
class ClusterProfile:
    """Sizes of one Kubernetes installation; deploy/README.md derives the defaults."""

    namespace: str = "clearance"
    kafka_cluster: str = "clearance"
    postgres_cluster: str = "clearance-pg"
    #: CLEARANCE_KAFKA_PARTITIONS of the cluster: partitions of every main topic.
    partitions: int = 12
    brokers: int = 3
    controllers: int = 3
    replication_factor: int = 3
    min_insync_replicas: int = 2
    postgres_instances: int = 3
    #: Replicas of each consuming component when idle (KEDA's minimum): one per zone pair.
    min_replicas: int = 2
    #: Consumer lag per replica that asks KEDA for another (the runtime's batch size).
    lag_threshold: int = 500
    #: Namespaces allowed to reach the components' HTTP port (ingress, Prometheus).
    http_client_namespaces: tuple[str, ...] = ("ingress-nginx", "monitoring")
    keda_namespace: str = "keda"
    cnpg_namespace: str = "cnpg-system"
    otel_collector: str = "otel-collector"
    #: The OpenID Connect issuer whose tokens the services accept (any OIDC provider; a
    #: Keycloak with deploy/local/keycloak/clearance-realm.json imported has this path).
    identity_provider: str = "https://login.clearance.example"
    #: Where the identity provider's keys are fetched from (HTTPS): narrow it to its address.
    identity_provider_cidr: str = "0.0.0.0/0"

    @property
    def token_issuer(self) -> str:
        return f"{self.identity_provider}{REALM_PATH}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_cluster}-kafka-bootstrap:9093"

    @property
    def kafka_bootstrap_fqdn(self) -> str:
        return f"{self.kafka_cluster}-kafka-bootstrap.{self.namespace}.svc:9093"


PROFILE = ClusterProfile()


def _labels(name: str, part: str = "service") -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": "clearance",
        "app.kubernetes.io/component": part,
    }


def _selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def image_of(component: Component) -> str:
    return f"{IMAGE_PREFIX}{component.name}:{IMAGE_TAG}"


def url_of(server: str) -> str:
    """Where a pod reaches the component `server`: its Service (port 80)."""
    return f"http://{server}"


def _kafka_party(component: Component) -> bool:
    return component.name in topology.parties()


# --- Kafka (Strimzi) -------------------------------------------------------------------


def kafka_cluster(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """Two node pools (KRaft controllers, brokers) and the Kafka cluster.

    The TLS listener authenticates with SCRAM-SHA-512 and admits (Strimzi's own
    NetworkPolicy, from `networkPolicyPeers`) only the components that are parties of the
    AsyncAPI document and KEDA's operator; the external listener serves the external parties
    (upstream, custodians) with the same authentication.
    """
    cluster_label = {"strimzi.io/cluster": profile.kafka_cluster}
    clients = [c for c in COMPONENTS if c.name in topology.parties()]
    peers: list[dict[str, Any]] = [
        {"podSelector": {"matchLabels": _selector(c.name)}} for c in clients
    ]
    peers.append(
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": profile.keda_namespace}
            }
        }
    )
    pools = [
        {
            "apiVersion": STRIMZI_API,
            "kind": "KafkaNodePool",
            "metadata": {"name": "controllers", "labels": cluster_label},
            "spec": {
                "replicas": profile.controllers,
                "roles": ["controller"],
                "storage": {
                    "type": "jbod",
                    "volumes": [
                        {
                            "id": 0,
                            "type": "persistent-claim",
                            "size": "20Gi",
                            "kraftMetadata": "shared",
                            "deleteClaim": False,
                        }
                    ],
                },
                "resources": {
                    "requests": {"cpu": "500m", "memory": "2Gi"},
                    "limits": {"memory": "2Gi"},
                },
            },
        },
        {
            "apiVersion": STRIMZI_API,
            "kind": "KafkaNodePool",
            "metadata": {"name": "brokers", "labels": cluster_label},
            "spec": {
                "replicas": profile.brokers,
                "roles": ["broker"],
                "storage": {
                    "type": "jbod",
                    "volumes": [
                        {
                            "id": 0,
                            "type": "persistent-claim",
                            "size": "200Gi",
                            "kraftMetadata": "shared",
                            "deleteClaim": False,
                        }
                    ],
                },
                "resources": {
                    "requests": {"cpu": "2", "memory": "8Gi"},
                    "limits": {"memory": "8Gi"},
                },
                "jvmOptions": {"-Xms": "4g", "-Xmx": "4g"},
            },
        },
    ]
    kafka = {
        "apiVersion": STRIMZI_API,
        "kind": "Kafka",
        "metadata": {"name": profile.kafka_cluster},
        "spec": {
            "kafka": {
                "listeners": [
                    {
                        "name": "tls",
                        "port": 9093,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                        "networkPolicyPeers": peers,
                    },
                    {
                        "name": "external",
                        "port": 9094,
                        "type": "loadbalancer",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                    },
                ],
                "authorization": {"type": "simple"},
                "rack": {"topologyKey": "topology.kubernetes.io/zone"},
                "config": {
                    # Topics come from KafkaTopic resources only (the AsyncAPI document).
                    "auto.create.topics.enable": False,
                    "default.replication.factor": profile.replication_factor,
                    "min.insync.replicas": profile.min_insync_replicas,
                    "offsets.topic.replication.factor": profile.replication_factor,
                    "transaction.state.log.replication.factor": profile.replication_factor,
                    "transaction.state.log.min.isr": profile.min_insync_replicas,
                    "unclean.leader.election.enable": False,
                    "replica.selector.class": (
                        "org.apache.kafka.common.replica.RackAwareReplicaSelector"
                    ),
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }
    return [*pools, kafka]


def kafka_topics(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """A KafkaTopic per channel of the AsyncAPI document: main topics with the cluster's
    partition count, dead-letter topics with the count the document fixes; compacted
    reference topics with `cleanup.policy: compact`."""
    manifests = []
    for spec in topology._topics():
        config: dict[str, Any] = {"min.insync.replicas": profile.min_insync_replicas}
        if spec.compacted:
            config["cleanup.policy"] = "compact"
        manifests.append(
            {
                "apiVersion": STRIMZI_API,
                "kind": "KafkaTopic",
                "metadata": {
                    "name": spec.name,
                    "labels": {"strimzi.io/cluster": profile.kafka_cluster},
                },
                "spec": {
                    "topicName": spec.name,
                    "partitions": topology.partitions_of(spec, profile.partitions),
                    "replicas": profile.replication_factor,
                    "config": config,
                },
            }
        )
    return manifests


def kafka_users(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """A KafkaUser (SCRAM-SHA-512) per party, with exactly the ACLs the document gives it."""
    manifests = []
    for party in topology.parties():
        acls = [
            {
                "resource": {
                    "type": acl.resource_type,
                    "name": acl.name,
                    "patternType": acl.pattern,
                },
                "operations": list(acl.operations),
            }
            for acl in topology.acls(party)
        ]
        manifests.append(
            {
                "apiVersion": STRIMZI_API,
                "kind": "KafkaUser",
                "metadata": {
                    "name": party,
                    "labels": {"strimzi.io/cluster": profile.kafka_cluster},
                },
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": acls},
                },
            }
        )
    return manifests


# --- PostgreSQL (CloudNativePG) --------------------------------------------------------


def db_secret(component: Component) -> str:
    """The basic-auth Secret (username, password) of `component`'s database role; created by
    the operator of the installation (deploy/README.md), never kept in the repository."""
    return f"clearance-db-{component.name}"


def postgres(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """The PostgreSQL cluster: one role per service confined (pg_hba) to the platform
    database, one schema per service owned by its role, WAL archiving and nightly base
    backups to an object store, and a NetworkPolicy admitting only the components."""
    roles = [c for c in COMPONENTS if c.schema is not None]
    hba = []
    for c in roles:
        hba.append(f"hostssl {DATABASE} {c.schema} all scram-sha-256")
        hba.append(f"host all {c.schema} all reject")
    cluster = {
        "apiVersion": CNPG_API,
        "kind": "Cluster",
        "metadata": {"name": profile.postgres_cluster},
        "spec": {
            "instances": profile.postgres_instances,
            "imageName": images.CLOUDNATIVE_PG_POSTGRES.ref,
            "primaryUpdateStrategy": "unsupervised",
            "enableSuperuserAccess": False,
            "storage": {"size": "100Gi"},
            "walStorage": {"size": "20Gi"},
            "resources": {
                "requests": {"cpu": "2", "memory": "8Gi"},
                "limits": {"memory": "8Gi"},
            },
            "affinity": {
                "enablePodAntiAffinity": True,
                "topologyKey": "topology.kubernetes.io/zone",
            },
            "postgresql": {
                "parameters": {
                    "max_connections": "800",
                    "shared_buffers": "2GB",
                    "synchronous_commit": "on",
                },
                "pg_hba": hba,
            },
            "bootstrap": {
                "initdb": {
                    "database": DATABASE,
                    "owner": ADMIN_ROLE,
                    "postInitApplicationSQL": ["REVOKE ALL ON SCHEMA public FROM PUBLIC"],
                }
            },
            "managed": {
                "roles": [
                    {
                        "name": c.schema,
                        "ensure": "present",
                        "login": True,
                        "superuser": False,
                        "createdb": False,
                        "createrole": False,
                        "inherit": False,
                        "replication": False,
                        "passwordSecret": {"name": db_secret(c)},
                    }
                    for c in roles
                ]
            },
            "plugins": [
                {
                    "name": BARMAN_PLUGIN,
                    "isWALArchiver": True,
                    "parameters": {"barmanObjectName": "clearance-backups"},
                }
            ],
        },
    }
    database = {
        "apiVersion": CNPG_API,
        "kind": "Database",
        "metadata": {"name": "clearance"},
        "spec": {
            "name": DATABASE,
            "owner": ADMIN_ROLE,
            "cluster": {"name": profile.postgres_cluster},
            "schemas": [
                {"name": c.schema, "owner": c.schema, "ensure": "present"}
                for c in roles
                if c.schema is not None
            ],
        },
    }
    object_store = {
        "apiVersion": BARMAN_API,
        "kind": "ObjectStore",
        "metadata": {"name": "clearance-backups"},
        "spec": {
            "retentionPolicy": "30d",
            "configuration": {
                # The bucket and its credentials are the installation's (deploy/README.md).
                "destinationPath": "s3://clearance-backups/postgres",
                "s3Credentials": {
                    "accessKeyId": {"name": "clearance-backup-s3", "key": "ACCESS_KEY_ID"},
                    "secretAccessKey": {"name": "clearance-backup-s3", "key": "ACCESS_SECRET_KEY"},
                },
                "wal": {"compression": "gzip"},
                "data": {"compression": "gzip"},
            },
        },
    }
    scheduled = {
        "apiVersion": CNPG_API,
        "kind": "ScheduledBackup",
        "metadata": {"name": "clearance-nightly"},
        "spec": {
            # Six fields (seconds first): every night at 01:00.
            "schedule": "0 0 1 * * *",
            "backupOwnerReference": "self",
            "cluster": {"name": profile.postgres_cluster},
            "method": "plugin",
            "pluginConfiguration": {"name": BARMAN_PLUGIN},
        },
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "postgres"},
        "spec": {
            "podSelector": {"matchLabels": {"cnpg.io/cluster": profile.postgres_cluster}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": _selector(c.name)}} for c in roles],
                    "ports": [{"protocol": "TCP", "port": images.POSTGRES_PORT}],
                },
                {
                    # Replication between the instances, and the operator's status probes.
                    "from": [
                        {
                            "podSelector": {
                                "matchLabels": {"cnpg.io/cluster": profile.postgres_cluster}
                            }
                        },
                        {
                            "namespaceSelector": {
                                "matchLabels": {
                                    "kubernetes.io/metadata.name": profile.cnpg_namespace
                                }
                            }
                        },
                    ],
                },
            ],
        },
    }
    return [cluster, database, object_store, scheduled, policy]


# --- the components --------------------------------------------------------------------


def _env(component: Component, profile: ClusterProfile) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": key, "value": value} for key, value in common_environment(component).items()
    ]
    env += [{"name": call.setting, "value": url_of(call.server)} for call in component.calls]
    if _kafka_party(component):
        env += [
            {"name": "CLEARANCE_KAFKA_BOOTSTRAP", "value": profile.kafka_bootstrap},
            {"name": "CLEARANCE_KAFKA_SECURITY_PROTOCOL", "value": "SASL_SSL"},
            {"name": "CLEARANCE_KAFKA_SASL_MECHANISM", "value": "SCRAM-SHA-512"},
            {"name": "CLEARANCE_KAFKA_SASL_USERNAME", "value": component.name},
            {
                "name": "CLEARANCE_KAFKA_SASL_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": component.name, "key": "password"}},
            },
            {"name": "CLEARANCE_KAFKA_SSL_CAFILE", "value": "/etc/kafka-ca/ca.crt"},
        ]
    if component.runtime:
        env += [
            {"name": "CLEARANCE_AUTH_ISSUER", "value": profile.token_issuer},
            {"name": "OTEL_TRACES_EXPORTER", "value": "otlp"},
            {
                "name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                "value": f"http://{profile.otel_collector}:4318",
            },
            {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"},
            {"name": "OTEL_TRACES_SAMPLER_ARG", "value": "1.0"},
        ]
    if component.schema is not None:
        secret = db_secret(component)
        env += [
            {
                "name": "DATABASE_USER",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "username"}},
            },
            {
                "name": "DATABASE_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
            },
            {
                # Kubernetes expands $(VAR) from the variables above.
                "name": "CLEARANCE_DATABASE_URL",
                "value": (
                    "postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@"
                    f"{profile.postgres_cluster}-rw:{images.POSTGRES_PORT}/{DATABASE}"
                    "?ssl=require"
                ),
            },
        ]
    return env


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def max_replicas(component: Component, profile: ClusterProfile = PROFILE) -> int:
    """Never more replicas than partitions: a replica beyond the partition count of the
    topics its group reads would get none and sit idle."""
    counts = [
        topology.partitions_of(spec, profile.partitions)
        for spec in topology.main_topics_read(component.name)
    ]
    return min(counts) if counts else profile.min_replicas


def component_manifests(component: Component, profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """ServiceAccount, Service, Deployment (migrations first, in an init container),
    PodDisruptionBudget, NetworkPolicy, and (for a consumer) KEDA's ScaledObject with its
    TriggerAuthentication."""
    name = component.name
    labels = _labels(name)
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    env = _env(component, profile)
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if _kafka_party(component):
        mounts.append({"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True})
        volumes.append(
            {
                "name": "kafka-ca",
                "secret": {
                    "secretName": f"{profile.kafka_cluster}-cluster-ca-cert",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                },
            }
        )
    resources = {
        # Peak RSS measured in the benchmark: 143 MB (be-intake); README.md.
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    containers = [
        {
            "name": name,
            "image": image_of(component),
            "args": ["serve"],
            "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
            "env": env,
            "resources": resources,
            "startupProbe": _probe("/healthz", period=2, failures=30),
            "livenessProbe": _probe("/healthz", period=10, failures=3),
            "readinessProbe": _probe("/readyz", period=5, failures=3),
            "securityContext": security,
            "volumeMounts": mounts,
        }
    ]
    init = []
    if component.database:
        # Migrating calls no other component: no URLs of `calls` (an overlay patching one
        # patches the serving container only).
        called = {call.setting for call in component.calls}
        init.append(
            {
                # Every new pod migrates first; replicas serialise on the runtime's advisory
                # lock, and a pod whose migration fails never starts serving.
                "name": "migrate",
                "image": image_of(component),
                "args": ["migrate"],
                "env": [e for e in env if e["name"] not in called],
                "resources": resources,
                "securityContext": security,
                "volumeMounts": mounts,
            }
        )
    consumer = component.consumes_events and bool(topology.receives(name))
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": _selector(name)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": labels,
                # Components on the runtime serve /metrics; others are not scraped.
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(HTTP_PORT),
                    "prometheus.io/path": "/metrics",
                }
                if component.runtime
                else {"prometheus.io/scrape": "false"},
            },
            "spec": {
                "serviceAccountName": name,
                "automountServiceAccountToken": False,
                # uvicorn's graceful shutdown (20 s) finishes the batch in hand and leaves
                # the consumer group before the kubelet's SIGKILL.
                "terminationGracePeriodSeconds": 45,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "runAsGroup": 10001,
                    "fsGroup": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": _selector(name)},
                    }
                ],
                "initContainers": init,
                "containers": containers,
                "volumes": volumes,
            },
        },
    }
    if not consumer:
        deployment_spec["replicas"] = profile.min_replicas
    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "labels": labels},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": _selector(name),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": deployment_spec,
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "labels": labels},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(name)}},
        },
        network_policy(component, profile),
    ]
    if consumer:
        manifests += scaled_object(component, profile)
    return manifests


def network_policy(component: Component, profile: ClusterProfile = PROFILE) -> Manifest:
    """What `component`'s pods may reach and be reached by: its HTTP port from the ingress
    and monitoring namespaces and from the components that call it (`Component.calls`); out,
    DNS, the Kafka brokers only if it is a party of the AsyncAPI document, its database only
    if it has a schema, the HTTP port of the components it calls, and the trace collector if
    it runs on the runtime.

    Components call each other only where `Component.calls` says so (bis-verifier asks the BIS
    registry); every other flow between them is a Kafka topic (and its ACL). Components on
    the runtime also reach the token issuer's keys over HTTPS (`identity_provider_cidr`).
    """
    name = component.name
    egress: list[dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]
    if name in topology.parties():
        egress.append(
            {
                "to": [
                    {
                        "podSelector": {
                            "matchLabels": {
                                "strimzi.io/cluster": profile.kafka_cluster,
                                "strimzi.io/kind": "Kafka",
                            }
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": 9093}],
            }
        )
    if component.database:
        egress.append(
            {
                "to": [
                    {"podSelector": {"matchLabels": {"cnpg.io/cluster": profile.postgres_cluster}}}
                ],
                "ports": [{"protocol": "TCP", "port": images.POSTGRES_PORT}],
            }
        )
    for call in component.calls:
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": _selector(call.server)}}],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
            }
        )
    if component.runtime:
        egress.append(
            {
                "to": [{"podSelector": {"matchLabels": _selector(profile.otel_collector)}}],
                "ports": [{"protocol": "TCP", "port": 4318}],
            }
        )
        # The token issuer's signing keys (JWKS), outside the cluster.
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": profile.identity_provider_cidr}}],
                "ports": [{"protocol": "TCP", "port": 443}],
            }
        )
    ingress: list[dict[str, Any]] = [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
                for namespace in profile.http_client_namespaces
            ],
            "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
        }
    ]
    calling = callers(name)
    if calling:
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": _selector(c.name)}} for c in calling],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}],
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "podSelector": {"matchLabels": _selector(name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def scaled_object(component: Component, profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """KEDA scales the Deployment on the consumer group's lag, one trigger per main topic it
    reads, from `min_replicas` up to the partition count (and idle consumers are refused)."""
    name = component.name
    auth = f"{name}-kafka"
    triggers = [
        {
            "type": "kafka",
            "name": spec.name.replace(".", "-"),
            "metadata": {
                "bootstrapServers": profile.kafka_bootstrap_fqdn,
                "consumerGroup": name,
                "topic": spec.name,
                "lagThreshold": str(profile.lag_threshold),
                "activationLagThreshold": "0",
                "offsetResetPolicy": "earliest",
                "allowIdleConsumers": "false",
                "scaleToZeroOnInvalidOffset": "false",
                "sasl": "scram_sha512",
                "tls": "enable",
            },
            "authenticationRef": {"name": auth},
        }
        for spec in topology.main_topics_read(name)
    ]
    return [
        {
            "apiVersion": KEDA_API,
            "kind": "TriggerAuthentication",
            "metadata": {"name": auth, "labels": _labels(name)},
            "spec": {
                "secretTargetRef": [
                    {"parameter": "password", "name": name, "key": "password"},
                    {
                        "parameter": "ca",
                        "name": f"{profile.kafka_cluster}-cluster-ca-cert",
                        "key": "ca.crt",
                    },
                ],
                "env": [
                    {
                        "parameter": "username",
                        "name": "CLEARANCE_KAFKA_SASL_USERNAME",
                        "containerName": name,
                    },
                ],
            },
        },
        {
            "apiVersion": KEDA_API,
            "kind": "ScaledObject",
            "metadata": {"name": name, "labels": _labels(name)},
            "spec": {
                "scaleTargetRef": {"name": name},
                "minReplicaCount": profile.min_replicas,
                "maxReplicaCount": max_replicas(component, profile),
                "pollingInterval": 15,
                "cooldownPeriod": 300,
                "advanced": {
                    "horizontalPodAutoscalerConfig": {
                        "behavior": {
                            # Each scale step is a consumer-group rebalance: grow fast, shrink
                            # slowly.
                            "scaleDown": {
                                "stabilizationWindowSeconds": 300,
                                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                            }
                        }
                    }
                },
                "triggers": triggers,
            },
        },
    ]


# --- traces ----------------------------------------------------------------------------

COLLECTOR_CONFIG = """\
receivers:
  otlp:
    protocols:
      http:
        endpoint: 0.0.0.0:4318
      grpc:
        endpoint: 0.0.0.0:4317
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch: {}
exporters:
  # The installation's trace store; Zipkin's API here, as the local stack's viewer.
  zipkin:
    endpoint: http://zipkin:9411/api/v2/spans
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [zipkin]
"""


def observability(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """An OpenTelemetry Collector receiving the components' OTLP spans, and Zipkin (in
    memory) behind it as the trace viewer; an installation points the exporter at its own
    trace store."""
    name = profile.otel_collector
    labels = _labels(name, "observability")
    zipkin_labels = _labels("zipkin", "observability")
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "capabilities": {"drop": ["ALL"]},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels},
            "data": {"config.yaml": COLLECTOR_CONFIG},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": _selector(name)},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "collector",
                                "image": images.OTEL_COLLECTOR.ref,
                                "args": ["--config=/etc/otelcol/config.yaml"],
                                "ports": [
                                    {"name": "otlp-http", "containerPort": 4318},
                                    {"name": "otlp-grpc", "containerPort": 4317},
                                    {"name": "health", "containerPort": 13133},
                                ],
                                "resources": {
                                    "requests": {"cpu": "200m", "memory": "256Mi"},
                                    "limits": {"memory": "512Mi"},
                                },
                                "securityContext": security,
                                "volumeMounts": [{"name": "config", "mountPath": "/etc/otelcol"}],
                            }
                        ],
                        "volumes": [{"name": "config", "configMap": {"name": name}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "selector": _selector(name),
                "ports": [
                    {"name": "otlp-http", "port": 4318, "targetPort": "otlp-http"},
                    {"name": "otlp-grpc", "port": 4317, "targetPort": "otlp-grpc"},
                ],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "zipkin", "labels": zipkin_labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": _selector("zipkin")},
                "template": {
                    "metadata": {"labels": zipkin_labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "containers": [
                            {
                                "name": "zipkin",
                                "image": images.ZIPKIN.ref,
                                "env": [
                                    {"name": key, "value": value}
                                    for key, value in images.zipkin_environment().items()
                                ],
                                "ports": [{"name": "http", "containerPort": images.ZIPKIN_PORT}],
                                "readinessProbe": {
                                    "httpGet": {"path": "/health", "port": "http"},
                                    "periodSeconds": 10,
                                },
                                "resources": {
                                    "requests": {"cpu": "200m", "memory": "1Gi"},
                                    "limits": {"memory": "1Gi"},
                                },
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "zipkin", "labels": zipkin_labels},
            "spec": {
                "selector": _selector("zipkin"),
                "ports": [{"name": "http", "port": images.ZIPKIN_PORT, "targetPort": "http"}],
            },
        },
    ]


def namespace_defaults(profile: ClusterProfile = PROFILE) -> list[Manifest]:
    """The namespace, and a default-deny NetworkPolicy: what is not allowed is refused."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": profile.namespace,
                "labels": {
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
    ]


def base_files(profile: ClusterProfile = PROFILE) -> dict[str, list[Manifest]]:
    """Relative path under deploy/k8s/base -> the manifests in that file."""
    files = {
        "namespace.yaml": namespace_defaults(profile),
        "kafka/cluster.yaml": kafka_cluster(profile),
        "kafka/topics.yaml": kafka_topics(profile),
        "kafka/users.yaml": kafka_users(profile),
        "postgres/cluster.yaml": postgres(profile),
        "observability/otel-collector.yaml": observability(profile),
    }
    for component in COMPONENTS:
        files[f"components/{component.name}.yaml"] = component_manifests(component, profile)
    return files


def kustomization(files: dict[str, list[Manifest]], profile: ClusterProfile = PROFILE) -> Manifest:
    """The base's kustomization: every generated file, the namespace, the images by name (an
    overlay sets the registry and tag)."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": profile.namespace,
        "labels": [{"pairs": {"app.kubernetes.io/part-of": "clearance"}}],
        "resources": list(files),
        "images": [{"name": f"{IMAGE_PREFIX}{c.name}", "newTag": IMAGE_TAG} for c in COMPONENTS],
    }
