"""The Compose file for a laptop with Docker (deploy/compose), generated.

Kafka (KRaft, one node), PostgreSQL (one schema and role per service), Keycloak (the identity
provider), Zipkin (the trace viewer), Prometheus, and every component built from
deploy/images/Dockerfile, migrated by a one-shot `<name>-migrate` container before it starts.
Images and infrastructure settings come from `clearance_local.images` (shared with the
Testcontainers path of the test fixtures), the components' settings are the local stack's
(`CLEARANCE_*`, `OTEL_*`), topics come from the AsyncAPI document, and the host ports are the
local stack's defaults (Kafka 19092, PostgreSQL 15432, Zipkin 9411, services 8001-8005, the BIS
registry server 8010). A component gets Kafka's and PostgreSQL's settings (and waits for them)
only if it is a party of the document or has a schema, traces only if it runs on the runtime,
and the URL of each component it calls (`Component.calls`), which it waits for.

Secrets are never in the file: Compose reads them from `deploy/compose/.env`
(`clearance-deploy compose-env` writes one with random values; `.env.example` names them).
"""

from __future__ import annotations

import shlex
from typing import Any

from clearance_contracts import topics
from clearance_local import images
from clearance_local.config import DEFAULT_PORTS, SERVICE_SCHEMAS
from clearance_local.postgres import ADMIN_ROLE, DATABASE

from clearance_deploy import topology
from clearance_deploy.components import (
    COMPONENTS,
    HTTP_PORT,
    REALM_PATH,
    Component,
    common_environment,
)

#: CLEARANCE_KAFKA_PARTITIONS of the laptop stack (the local stack's default).
PARTITIONS = 3
ADMIN_PASSWORD_VAR = "CLEARANCE_POSTGRES_ADMIN_PASSWORD"
KEYCLOAK_PASSWORD_VAR = "CLEARANCE_KEYCLOAK_ADMIN_PASSWORD"
KEYCLOAK_HOST_PORT = 8180
#: Tokens are asked for from the host (`localhost:8180`): that is their issuer, which Keycloak
#: keeps fixed (`--hostname`); services fetch the signing keys inside the network.
TOKEN_ISSUER = f"http://localhost:{KEYCLOAK_HOST_PORT}{REALM_PATH}"
JWKS_URL = f"http://keycloak:8080{REALM_PATH}/protocol/openid-connect/certs"
PROMETHEUS_HOST_PORT = 9090
POSTGRES_HOST_PORT = 15432
#: Ports on the host for components the local stack has no port for (`config.DEFAULT_PORTS`).
EXTRA_HOST_PORT_BASE = 8010


def password_var(schema: str) -> str:
    """The Compose variable holding the password of `schema`'s database role."""
    return f"CLEARANCE_DB_PASSWORD_{schema.upper()}"


def secret_variables() -> list[str]:
    """Every variable `.env` must define (Compose refuses to start without them)."""
    return [
        ADMIN_PASSWORD_VAR,
        KEYCLOAK_PASSWORD_VAR,
        *(password_var(schema) for schema in SERVICE_SCHEMAS),
    ]


def _required(var: str) -> str:
    return f"${{{var}:?set {var} in deploy/compose/.env (clearance-deploy compose-env)}}"


def host_port(component: Component, index: int) -> int:
    """The local stack's port of `component` (the developer's bookmarks work for both)."""
    return DEFAULT_PORTS.get(component.name, EXTRA_HOST_PORT_BASE + index)


def url_of(server: str) -> str:
    """Where another container reaches the component `server`."""
    return f"http://{server}:{HTTP_PORT}"


def _kafka_party(component: Component) -> bool:
    return component.name in topology.parties()


def _component_env(component: Component) -> dict[str, str]:
    env = common_environment(component)
    if _kafka_party(component):
        env["CLEARANCE_KAFKA_BOOTSTRAP"] = f"kafka:{images.KAFKA_CLIENT_PORT}"
    if component.schema is not None:
        env["CLEARANCE_DATABASE_URL"] = (
            f"postgresql://{component.schema}:${{{password_var(component.schema)}}}"
            f"@postgres:{images.POSTGRES_PORT}/{DATABASE}"
        )
    for call in component.calls:
        env[call.setting] = url_of(call.server)
    if component.runtime:
        env["CLEARANCE_AUTH_ISSUER"] = TOKEN_ISSUER
        env["CLEARANCE_AUTH_JWKS_URL"] = JWKS_URL
        env["OTEL_TRACES_EXPORTER"] = "zipkin"
        env["OTEL_EXPORTER_ZIPKIN_ENDPOINT"] = f"http://zipkin:{images.ZIPKIN_PORT}/api/v2/spans"
    return env


def _build(component: Component) -> dict[str, Any]:
    return {
        "context": "../..",
        "dockerfile": "deploy/images/Dockerfile",
        "args": {"COMPONENT": component.workspace_member},
        # shared/ beside the repository: the real source documents (BIS register, calendars).
        "additional_contexts": {"shared": "../../../shared"},
    }


def _hardened() -> dict[str, Any]:
    return {
        "read_only": True,
        "tmpfs": ["/tmp"],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }


def compose_document() -> dict[str, Any]:
    """The Compose file as a mapping."""
    services: dict[str, Any] = {
        "kafka": {
            "image": images.KAFKA.ref,
            "environment": images.kafka_environment(
                f"kafka:{images.KAFKA_CLIENT_PORT}",
                host_listener=f"localhost:{images.KAFKA_HOST_PORT}",
            ),
            "ports": [f"127.0.0.1:{images.KAFKA_HOST_PORT}:{images.KAFKA_HOST_PORT}"],
            "volumes": ["kafka-data:/var/lib/kafka/data"],
            "healthcheck": {
                "test": [
                    "CMD",
                    "/opt/kafka/bin/kafka-broker-api-versions.sh",
                    "--bootstrap-server",
                    f"localhost:{images.KAFKA_CLIENT_PORT}",
                ],
                "interval": "5s",
                "timeout": "10s",
                "retries": 30,
            },
        },
        "kafka-topics": {
            "image": images.KAFKA.ref,
            "depends_on": {"kafka": {"condition": "service_healthy"}},
            "entrypoint": ["/bin/sh", "/topics/kafka-topics.sh"],
            "volumes": ["./kafka-topics.sh:/topics/kafka-topics.sh:ro"],
            "restart": "no",
        },
        "postgres": {
            "image": images.POSTGRES.ref,
            "environment": {
                **images.postgres_environment(_required(ADMIN_PASSWORD_VAR)),
                **{
                    password_var(schema): _required(password_var(schema))
                    for schema in SERVICE_SCHEMAS
                },
            },
            "ports": [f"127.0.0.1:{POSTGRES_HOST_PORT}:{images.POSTGRES_PORT}"],
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                "./postgres-init.sh:/docker-entrypoint-initdb.d/10-clearance.sh:ro",
            ],
            "healthcheck": {
                "test": ["CMD", "pg_isready", "-U", ADMIN_ROLE, "-d", DATABASE],
                "interval": "5s",
                "timeout": "5s",
                "retries": 30,
            },
        },
        "zipkin": {
            "image": images.ZIPKIN.ref,
            "environment": images.zipkin_environment(),
            "ports": [f"127.0.0.1:{images.ZIPKIN_PORT}:{images.ZIPKIN_PORT}"],
        },
        "keycloak": {
            "image": images.KEYCLOAK.ref,
            # The realm (roles, clients) is imported at the first start.
            "command": [
                "start-dev",
                "--import-realm",
                "--health-enabled=true",
                f"--hostname=http://localhost:{KEYCLOAK_HOST_PORT}",
                "--hostname-backchannel-dynamic=true",
            ],
            "environment": {
                "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
                "KC_BOOTSTRAP_ADMIN_PASSWORD": _required(KEYCLOAK_PASSWORD_VAR),
            },
            "ports": [f"127.0.0.1:{KEYCLOAK_HOST_PORT}:8080"],
            # The one realm file, the local stack's (roles, clients, scope claims, audience).
            "volumes": ["../local/keycloak:/opt/keycloak/data/import:ro"],
        },
        "prometheus": {
            "image": images.PROMETHEUS.ref,
            "command": ["--config.file=/etc/prometheus/prometheus.yml"],
            "ports": [f"127.0.0.1:{PROMETHEUS_HOST_PORT}:9090"],
            "volumes": ["./prometheus.yml:/etc/prometheus/prometheus.yml:ro"],
        },
    }
    for index, component in enumerate(COMPONENTS):
        image = f"clearance/{component.name}:dev"
        env = _component_env(component)
        depends: dict[str, Any] = {}
        if _kafka_party(component):
            depends["kafka-topics"] = {"condition": "service_completed_successfully"}
        if component.runtime:
            depends["zipkin"] = {"condition": "service_started"}
        for call in component.calls:
            # The image's HEALTHCHECK asks the server's /healthz.
            depends[call.server] = {"condition": "service_healthy"}
        if component.database:
            depends["postgres"] = {"condition": "service_healthy"}
            services[f"{component.name}-migrate"] = {
                "image": image,
                "build": _build(component),
                "command": ["migrate"],
                # Migrating calls no other component.
                "environment": {
                    key: value
                    for key, value in env.items()
                    if key not in {call.setting for call in component.calls}
                },
                "depends_on": {"postgres": {"condition": "service_healthy"}},
                "restart": "no",
                **_hardened(),
            }
            depends[f"{component.name}-migrate"] = {"condition": "service_completed_successfully"}
        services[component.name] = {
            "image": image,
            "build": _build(component),
            "command": ["serve"],
            "environment": env,
            "ports": [f"127.0.0.1:{host_port(component, index)}:{HTTP_PORT}"],
            **({"depends_on": depends} if depends else {}),
            "restart": "unless-stopped",
            "stop_grace_period": "45s",
            **_hardened(),
        }
    return {
        "name": "clearance",
        "services": services,
        "volumes": {"kafka-data": {}, "postgres-data": {}},
    }


def kafka_topics_script(partitions: int = PARTITIONS) -> str:
    """Creates the platform's topics from the AsyncAPI document (as `bin/clearance up` does)."""
    lines = [
        "#!/bin/sh",
        "# GENERATED by `clearance-deploy generate` from the AsyncAPI document: do not edit.",
        "# Creates every topic of the platform (broker auto-creation is off); idempotent.",
        "set -eu",
        f"BOOTSTRAP=kafka:{images.KAFKA_CLIENT_PORT}",
    ]
    for spec in topics():
        count = spec.partitions if spec.partitions is not None else partitions
        args = [
            "/opt/kafka/bin/kafka-topics.sh",
            "--bootstrap-server",
            "$BOOTSTRAP",
            "--create",
            "--if-not-exists",
            "--topic",
            spec.name,
            "--partitions",
            str(count),
            "--replication-factor",
            "1",
        ]
        if spec.compacted:
            args += ["--config", "cleanup.policy=compact"]
        lines.append(" ".join(a if a == "$BOOTSTRAP" else shlex.quote(a) for a in args))
    return "\n".join(lines) + "\n"


def postgres_init_script() -> str:
    """What `clearance_local.postgres.provision_database` does, at the database's first start:
    per service a login role (password from the container's environment) and a schema it owns;
    nothing for PUBLIC."""
    lines = [
        "#!/bin/sh",
        "# GENERATED by `clearance-deploy generate`: do not edit. Runs once, when the",
        "# postgres container initialises its data directory.",
        "set -eu",
        f'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "{DATABASE}" <<SQL',
        "REVOKE ALL ON SCHEMA public FROM PUBLIC;",
        f'REVOKE ALL ON DATABASE "{DATABASE}" FROM PUBLIC;',
    ]
    for schema in SERVICE_SCHEMAS:
        lines += [
            f"CREATE ROLE {schema} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
            f" PASSWORD '${password_var(schema)}';",
            f'GRANT CONNECT ON DATABASE "{DATABASE}" TO {schema};',
            f"CREATE SCHEMA {schema} AUTHORIZATION {schema};",
            f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;",
            f"ALTER ROLE {schema} SET search_path = {schema};",
        ]
    lines.append("SQL")
    return "\n".join(lines) + "\n"


def prometheus_config() -> dict[str, Any]:
    """Prometheus scrapes every component's /metrics (those on the runtime serve one)."""
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": [
            {
                "job_name": "clearance",
                "metrics_path": "/metrics",
                "static_configs": [
                    {
                        "targets": [f"{c.name}:{HTTP_PORT}" for c in COMPONENTS if c.runtime],
                        "labels": {"platform": "clearance"},
                    }
                ],
            }
        ],
    }


def env_example() -> str:
    lines = [
        "# The secrets Compose needs (deploy/compose/.env; git-ignored). Generate one with",
        "#   uv run clearance-deploy compose-env",
        "# which writes random values; never commit the real file.",
    ]
    lines += [f"{var}=change-me" for var in secret_variables()]
    return "\n".join(lines) + "\n"
