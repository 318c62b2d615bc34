"""The generated deployment files: current, and saying what the AsyncAPI document and the
settings say (topics, ACLs, network flows, replicas never above partitions)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from clearance_contracts import E_GATEPASS_ISSUED, topic_for, topics, topics_of
from clearance_deploy import compose, generate, kubernetes, topology
from clearance_deploy.components import (
    COMPONENTS,
    HTTP_PORT,
    Component,
    HttpCall,
    callers,
)
from clearance_deploy.components import component as component_named
from clearance_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

PROFILE = kubernetes.PROFILE


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [
        manifest
        for manifests in kubernetes.base_files().values()
        for manifest in manifests
        if manifest["kind"] == kind
    ]


def _named(kind: str) -> dict[str, dict[str, Any]]:
    return {manifest["metadata"]["name"]: manifest for manifest in _by_kind(kind)}


def test_the_generated_files_are_current() -> None:
    """Like generate_asyncapi.py --check: edit the generator or the catalogue, then run
    `uv run clearance-deploy generate`."""
    assert generate.stale() == []


def test_a_changed_generated_file_is_reported_stale(tmp_path: Path) -> None:
    written = generate.write(tmp_path)
    assert set(written) == set(generate.outputs())
    assert generate.stale(tmp_path) == []
    target = tmp_path / "k8s/base/kafka/topics.yaml"
    target.write_text(target.read_text().replace("partitions: 12", "partitions: 64", 1))
    assert generate.stale(tmp_path) == [Path("k8s/base/kafka/topics.yaml")]


def test_every_topic_of_the_asyncapi_document_is_a_kafka_topic_with_its_partitions() -> None:
    kafka_topics = _named("KafkaTopic")
    assert set(kafka_topics) == {spec.name for spec in topics()}
    for spec in topics():
        topic = kafka_topics[spec.name]["spec"]
        expected = spec.partitions if spec.partitions is not None else PROFILE.partitions
        assert topic["topicName"] == spec.name
        assert topic["partitions"] == expected
        assert topic["replicas"] == PROFILE.replication_factor
        assert (topic["config"].get("cleanup.policy") == "compact") == spec.compacted


def _acls(party: str) -> dict[tuple[str, str], set[str]]:
    user = _named("KafkaUser")[party]
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    return {
        (acl["resource"]["type"], acl["resource"]["name"]): set(acl["operations"])
        for acl in user["spec"]["authorization"]["acls"]
    }


def _writers(topic_name: str) -> set[str]:
    return {
        party
        for party in topology.parties()
        if "Write" in _acls(party).get(("topic", topic_name), set())
    }


def test_each_party_of_the_document_is_one_kafka_principal() -> None:
    """One principal per service, one for the upstream, one for the custodians (issue 14)."""
    assert set(_named("KafkaUser")) == set(topology.parties())
    assert {"be-intake", "ooc-issuer", "icegate-upstream", "custodian-INNSA1CFS1"} <= set(
        topology.parties()
    )


def test_only_the_owner_of_a_main_topic_may_write_it() -> None:
    """The contract is the access policy: only be-intake writes clearance.bill-of-entry.*,
    only ooc-issuer the OOC and gatepass topics, the upstream only its icegate.* topics."""
    for spec in topics():
        if spec.dead_letter:
            assert _writers(spec.name) == set(spec.producers)
        else:
            assert _writers(spec.name) == {spec.owner}
    assert _writers("clearance.bill-of-entry.registered.v1") == {"be-intake"}
    assert _writers("clearance.out-of-charge.issued.v1") == {"ooc-issuer"}
    gatepasses = topic_for(E_GATEPASS_ISSUED, custodian_code="INNSA1CFS1")
    assert _writers(gatepasses) == {"ooc-issuer"}
    upstream_writes = {
        name for (kind, name), ops in _acls("icegate-upstream").items() if "Write" in ops
    }
    assert upstream_writes == {
        "icegate.bill-of-entry.filed.v1",
        "icegate.bill-of-entry.amendment-filed.v1",
        "icegate.igm.entered-inward.v1",
    }


def test_a_party_reads_exactly_what_the_document_says_it_receives() -> None:
    for party in topology.parties():
        reads = {
            name for (kind, name), ops in _acls(party).items() if "Read" in ops and kind == "topic"
        }
        assert reads == {spec.name for spec in topics() if party in spec.consumers}


def test_each_custodian_reads_only_its_own_gatepass_topic_with_groups_of_its_own() -> None:
    """OOC-GP-1: a topic per custodian, so no custodian reads another's gatepasses."""
    for spec in topics_of(E_GATEPASS_ISSUED):
        [reader] = spec.consumers
        acls = _acls(reader)
        assert {name for (kind, name) in acls if kind == "topic"} == {spec.name}
        assert acls[("topic", spec.name)] == {"Describe", "Read"}
        group = next(
            acl
            for acl in _named("KafkaUser")[reader]["spec"]["authorization"]["acls"]
            if acl["resource"]["type"] == "group"
        )
        assert group["resource"] == {"type": "group", "name": reader, "patternType": "prefix"}


def test_a_service_reads_only_its_own_consumer_group() -> None:
    for candidate in COMPONENTS:
        if candidate.name not in topology.parties():
            continue
        groups = {name for (kind, name) in _acls(candidate.name) if kind == "group"}
        assert groups == ({candidate.name} if topology.receives(candidate.name) else set())


def test_the_bis_registry_is_no_kafka_party() -> None:
    """The registry server only answers HTTP: no principal, no brokers' listener for it."""
    assert "bis-registry" not in topology.parties()
    assert "bis-registry" not in _named("KafkaUser")


def test_replicas_never_exceed_the_partitions_of_the_topics_a_group_reads() -> None:
    scaled = _named("ScaledObject")
    consumers = [c for c in COMPONENTS if topology.receives(c.name)]
    assert set(scaled) == {c.name for c in consumers}
    for component in consumers:
        spec = scaled[component.name]["spec"]
        main = topology.main_topics_read(component.name)
        assert spec["maxReplicaCount"] <= min(
            topology.partitions_of(t, PROFILE.partitions) for t in main
        )
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"]
        assert {t["metadata"]["topic"] for t in spec["triggers"]} == {t.name for t in main}
        for trigger in spec["triggers"]:
            assert trigger["metadata"]["consumerGroup"] == component.name
            assert trigger["metadata"]["allowIdleConsumers"] == "false"


def test_every_component_is_a_hardened_deployment_with_probes_resources_and_a_budget() -> None:
    deployments = _named("Deployment")
    budgets = _named("PodDisruptionBudget")
    for component in COMPONENTS:
        pod = deployments[component.name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == kubernetes.image_of(component)
        assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(container)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["ports"] == [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}
        ]
        assert (
            budgets[component.name]["spec"]["selector"]
            == deployments[component.name]["spec"]["selector"]
        )


def test_migrations_run_before_the_new_version_serves() -> None:
    """Every pod migrates in an init container (replicas serialise on the runtime's advisory
    lock); the rollout never takes a serving replica away before a new one is ready."""
    for component in COMPONENTS:
        spec = _named("Deployment")[component.name]["spec"]
        init = spec["template"]["spec"]["initContainers"]
        if component.database:
            assert [(c["name"], c["args"]) for c in init] == [("migrate", ["migrate"])]
        assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def _egress_targets(component: Component) -> list[dict[str, Any]]:
    policy = _named("NetworkPolicy")[component.name]
    return [peer for rule in policy["spec"]["egress"] for peer in rule["to"]]


def _pod_names(peers: list[dict[str, Any]]) -> set[str]:
    return {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for peer in peers
        if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})
        and "namespaceSelector" not in peer
    }


def _ingress_sources(component: Component) -> list[dict[str, Any]]:
    policy = _named("NetworkPolicy")[component.name]
    return [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]


def test_network_policies_allow_only_the_flows_of_the_document() -> None:
    """Components reach Kafka (when they are parties), their database, DNS and the trace
    collector, and each other only where `Component.calls` says so: every other flow between
    them is a topic."""
    names = {c.name for c in COMPONENTS}
    for candidate in COMPONENTS:
        targets = _egress_targets(candidate)
        assert _pod_names(targets) & names == {call.server for call in candidate.calls}
        assert _pod_names(_ingress_sources(candidate)) == {c.name for c in callers(candidate.name)}
        to_kafka = any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("strimzi.io/kind") == "Kafka"
            for peer in targets
        )
        assert to_kafka == (candidate.name in topology.parties())
    listener = _named("Kafka")[PROFILE.kafka_cluster]["spec"]["kafka"]["listeners"][0]
    peers = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for peer in listener["networkPolicyPeers"]
        if "podSelector" in peer
    }
    assert peers == {c.name for c in COMPONENTS if c.name in topology.parties()}
    assert "default-deny" in _named("NetworkPolicy")


def _rules_to(policy: dict[str, Any], direction: str, name: str) -> list[dict[str, Any]]:
    key = "to" if direction == "egress" else "from"
    return [rule for rule in policy["spec"][direction] if name in _pod_names(rule[key])]


def test_bis_verifier_may_call_the_bis_registry_and_nothing_else_may() -> None:
    """BIS-CRS-1: the verifier asks the registry over HTTP; its NetworkPolicy lets it out to the
    registry's pods on their HTTP port, the registry's lets it (and only it, besides the
    ingress and monitoring namespaces) in."""
    assert component_named("bis-verifier").calls == (
        HttpCall("bis-registry", "CLEARANCE_BIS_REGISTRY_URL"),
    )
    policies = _named("NetworkPolicy")
    [out] = _rules_to(policies["bis-verifier"], "egress", "bis-registry")
    assert out["ports"] == [{"protocol": "TCP", "port": HTTP_PORT}]
    assert out["to"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "bis-registry"}}}
    ]
    registry = policies["bis-registry"]["spec"]
    assert registry["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "bis-registry"}}
    [inbound] = _rules_to(policies["bis-registry"], "ingress", "bis-verifier")
    assert inbound["ports"] == [{"protocol": "TCP", "port": HTTP_PORT}]
    assert _pod_names(_ingress_sources(component_named("bis-registry"))) == {"bis-verifier"}
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in _ingress_sources(component_named("bis-registry"))
        if "namespaceSelector" in peer
    }
    assert namespaces == set(PROFILE.http_client_namespaces)
    for other in COMPONENTS:
        if other.name != "bis-verifier":
            assert _rules_to(policies[other.name], "egress", "bis-registry") == [], other.name
    # Out, the registry needs DNS only: no Kafka, no database, no collector, no component.
    [dns] = registry["egress"]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def _container_env(name: str) -> dict[str, Any]:
    pod = _named("Deployment")[name]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_bis_verifier_gets_the_registrys_url_in_kubernetes() -> None:
    """Through the registry's Service (port 80, to the pods' 8080)."""
    assert _container_env("bis-verifier")["CLEARANCE_BIS_REGISTRY_URL"] == "http://bis-registry"
    [port] = _named("Service")["bis-registry"]["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (80, "http")
    for name, env in ((c.name, _container_env(c.name)) for c in COMPONENTS):
        if name != "bis-verifier":
            assert "CLEARANCE_BIS_REGISTRY_URL" not in env, name
    # Migrating calls nothing: a production patch of the serving container's URL is complete.
    [migrate] = _named("Deployment")["bis-verifier"]["spec"]["template"]["spec"]["initContainers"]
    assert "CLEARANCE_BIS_REGISTRY_URL" not in {e["name"] for e in migrate["env"]}


def test_the_bis_registry_is_a_plain_deployment_over_the_images_register() -> None:
    """No KEDA (no consumer group), no migration, no Kafka or database settings, no traces;
    the register where the image keeps shared/domain."""
    assert "bis-registry" not in _named("ScaledObject")
    deployment = _named("Deployment")["bis-registry"]["spec"]
    pod = deployment["template"]["spec"]
    assert pod["initContainers"] == []
    assert deployment["replicas"] == PROFILE.min_replicas
    env = _container_env("bis-registry")
    assert env["CLEARANCE_BIS_REGISTER_CSV"] == "/app/shared/domain/bis/crs-register-2021.csv"
    assert env["CLEARANCE_HTTP_PORT"] == str(HTTP_PORT)
    assert not [n for n in env if n.startswith(("CLEARANCE_KAFKA", "CLEARANCE_DATABASE", "OTEL_"))]
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    kustomization = kubernetes.kustomization(kubernetes.base_files())
    assert "components/bis-registry.yaml" in kustomization["resources"]
    assert {"name": "clearance/bis-registry", "newTag": kubernetes.IMAGE_TAG} in kustomization[
        "images"
    ]
    overlay = generate.deploy_dir() / "k8s" / "overlays" / "production" / "kustomization.yaml"
    assert "clearance/bis-registry" in {
        i["name"] for i in yaml.safe_load(overlay.read_text())["images"]
    }


def test_postgres_has_one_confined_role_and_schema_per_service_and_backups() -> None:
    cluster = _named("Cluster")[PROFILE.postgres_cluster]["spec"]
    schemas = [c.schema for c in COMPONENTS if c.schema]
    roles = cluster["managed"]["roles"]
    assert [r["name"] for r in roles] == schemas
    assert not any(r["superuser"] or r["createdb"] or r["createrole"] for r in roles)
    assert cluster["enableSuperuserAccess"] is False
    for schema in schemas:
        assert f"hostssl clearance {schema} all scram-sha-256" in cluster["postgresql"]["pg_hba"]
        assert f"host all {schema} all reject" in cluster["postgresql"]["pg_hba"]
    database = _named("Database")["clearance"]["spec"]
    assert [(s["name"], s["owner"]) for s in database["schemas"]] == [(s, s) for s in schemas]
    assert cluster["plugins"][0]["isWALArchiver"] is True
    assert _named("ScheduledBackup")["clearance-nightly"]["spec"]["method"] == "plugin"
    assert "clearance-backups" in _named("ObjectStore")


def test_traces_go_by_otlp_to_the_collector() -> None:
    for deployment in _named("Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if "OTEL_SERVICE_NAME" in env:
                assert env["OTEL_TRACES_EXPORTER"] == "otlp"
                assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def _settings_names(component: Component) -> set[str]:
    """The settings class's fields for a component on the runtime; otherwise the names its
    CLI reads (`<package>.cli.SETTINGS`)."""
    if not component.runtime:
        names: tuple[str, ...] = importlib.import_module(f"{component.package}.cli").SETTINGS
        return set(names)
    module = importlib.import_module(f"{component.package}.config")
    settings: type[ServiceSettings] = module.Settings
    return {f"CLEARANCE_{name.upper()}" for name in settings.model_fields}


def _environments() -> list[tuple[Component, dict[str, Any]]]:
    found = []
    document = compose.compose_document()
    for component in COMPONENTS:
        found.append((component, document["services"][component.name]["environment"]))
        pod = _named("Deployment")[component.name]["spec"]["template"]["spec"]
        for container in [*pod["initContainers"], *pod["containers"]]:
            found.append((component, {e["name"]: e for e in container["env"]}))
    return found


def test_compose_and_kubernetes_use_the_settings_names_of_the_local_stack() -> None:
    """Every CLEARANCE_* variable is a field of the component's settings class, or for the
    BIS registry server a name its CLI reads; the rest are the standard OTEL_*."""
    seen = set()
    for component, env in _environments():
        known = _settings_names(component)
        for name in env:
            if name.startswith("CLEARANCE_"):
                assert name in known, (component.name, name)
            else:
                assert component.runtime
                assert name.startswith("OTEL_") or name.startswith("DATABASE_"), name
        seen.add(component.name)
    assert seen == {c.name for c in COMPONENTS}
    assert _settings_names(component_named("bis-registry")) >= {
        "CLEARANCE_HTTP_HOST",
        "CLEARANCE_HTTP_PORT",
        "CLEARANCE_BIS_REGISTER_CSV",
        "CLEARANCE_LOG_LEVEL",
    }


def test_compose_ports_are_the_local_stacks() -> None:
    services = compose.compose_document()["services"]
    assert services["be-intake"]["ports"] == ["127.0.0.1:8001:8080"]
    assert services["bis-registry"]["ports"] == ["127.0.0.1:8010:8080"]
    assert services["kafka"]["ports"] == ["127.0.0.1:19092:19092"]
    assert services["zipkin"]["ports"] == ["127.0.0.1:9411:9411"]
    assert services["postgres"]["ports"] == ["127.0.0.1:15432:5432"]
    bound = [port for service in services.values() for port in service.get("ports", [])]
    assert len(bound) == len(set(bound))


def test_compose_gives_bis_verifier_the_registry_and_the_registry_nothing_it_does_not_use() -> None:
    """bis-verifier reaches the registry server by its service name and starts after it is
    healthy (the image's HEALTHCHECK); the registry waits for nothing: no Kafka, no database,
    no trace viewer. Nothing else is given the registry's URL."""
    services = compose.compose_document()["services"]
    verifier = services["bis-verifier"]
    assert (
        verifier["environment"]["CLEARANCE_BIS_REGISTRY_URL"] == f"http://bis-registry:{HTTP_PORT}"
    )
    assert verifier["depends_on"]["bis-registry"] == {"condition": "service_healthy"}
    registry = services["bis-registry"]
    assert registry["build"]["args"] == {"COMPONENT": "clearance-bis-registry"}
    assert registry["command"] == ["serve"]
    assert "depends_on" not in registry
    assert "bis-registry-migrate" not in services
    assert registry["environment"] == {
        "CLEARANCE_HTTP_HOST": "0.0.0.0",
        "CLEARANCE_HTTP_PORT": str(HTTP_PORT),
        "CLEARANCE_LOG_LEVEL": "INFO",
        "CLEARANCE_BIS_REGISTER_CSV": "/app/shared/domain/bis/crs-register-2021.csv",
    }
    assert registry["read_only"] is True
    assert registry["cap_drop"] == ["ALL"]
    for name, service in services.items():
        if name != "bis-verifier":
            assert "CLEARANCE_BIS_REGISTRY_URL" not in service.get("environment", {}), name
    [scraped] = compose.prometheus_config()["scrape_configs"]
    assert f"bis-registry:{HTTP_PORT}" not in scraped["static_configs"][0]["targets"]


def test_compose_creates_the_documents_topics_and_the_services_roles() -> None:
    script = (generate.deploy_dir() / "compose" / "kafka-topics.sh").read_text()
    for spec in topics():
        assert f"--topic {spec.name} " in script
    init = (generate.deploy_dir() / "compose" / "postgres-init.sh").read_text()
    for component in COMPONENTS:
        if component.schema:
            assert f"CREATE SCHEMA {component.schema} AUTHORIZATION {component.schema};" in init
    loaded = yaml.safe_load((generate.deploy_dir() / "compose" / "compose.yaml").read_text())
    assert loaded == compose.compose_document()


def test_every_service_checks_tokens_of_the_platforms_issuer_in_compose_and_kubernetes() -> None:
    """Issue 14: without CLEARANCE_AUTH_ISSUER every protected route answers 401. Compose's
    Keycloak issues its tokens under the host's address (`--hostname`) that the services
    expect, and serves them the keys inside the network; in Kubernetes the services may
    reach the issuer over HTTPS and nothing else outside."""
    services = compose.compose_document()["services"]
    keycloak = services["keycloak"]["command"]
    assert f"--hostname={compose.TOKEN_ISSUER.removesuffix('/realms/clearance')}" in keycloak
    for component in COMPONENTS:
        env = services[component.name]["environment"]
        k8s_env = _container_env(component.name)
        if not component.runtime:
            assert "CLEARANCE_AUTH_ISSUER" not in env
            assert "CLEARANCE_AUTH_ISSUER" not in k8s_env
            continue
        assert env["CLEARANCE_AUTH_ISSUER"] == compose.TOKEN_ISSUER
        assert env["CLEARANCE_AUTH_JWKS_URL"].startswith("http://keycloak:8080/realms/clearance/")
        assert k8s_env["CLEARANCE_AUTH_ISSUER"] == kubernetes.ClusterProfile().token_issuer
        egress = _named("NetworkPolicy")[component.name]["spec"]["egress"]
        assert {"protocol": "TCP", "port": 443} in [p for rule in egress for p in rule["ports"]]
