"""The platform's process components and the settings each container gets.

One table, `COMPONENTS`, drives the image builds, the Compose services and the Kubernetes
Deployments. The five services come from the local stack's list (`clearance_local.services`);
another process component (the BIS registry server, the operations console) is ONE line in
`OTHER_COMPONENTS`:

    Component("bis-registry", "bis_registry", consumes_events=False),

Its uv workspace member must be named like the component and install a console script of
that name taking `serve` and `migrate` (as `clearance_runtime.service.run_cli` does).

Settings are the local stack's names (`CLEARANCE_*` of `clearance_runtime.settings` and each
service's `config.py`, and the standard `OTEL_*`): a test checks each name against the
settings classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearance_local.services import SERVICES

#: The port every component listens on inside its container (`CLEARANCE_HTTP_PORT`).
HTTP_PORT = 8080
#: Where the image keeps `shared/domain` (the real source documents: BIS register, calendars);
#: bis-verifier finds its register there by itself (`bis_verifier.config._shared_register`).
SHARED_DOMAIN_DIR = "/app/shared/domain"

#: Kafka client settings that the security issue (14: SASL/SCRAM principals per service) adds
#: to `ServiceSettings`. Until it lands the runtime ignores them (pydantic `extra="ignore"`);
#: the names are proposed here and must match issue 14's at merge.
PENDING_KAFKA_SECURITY_SETTINGS = (
    "CLEARANCE_KAFKA_SECURITY_PROTOCOL",
    "CLEARANCE_KAFKA_SASL_MECHANISM",
    "CLEARANCE_KAFKA_SASL_USERNAME",
    "CLEARANCE_KAFKA_SASL_PASSWORD",
    "CLEARANCE_KAFKA_SSL_CAFILE",
)


@dataclass(frozen=True)
class Component:
    """One process of the platform, built into its own image.

    `name` is the uv workspace member, its console script, its consumer group, its Kafka
    principal and its Kubernetes/Compose name; `package` its Python package; `schema` its
    PostgreSQL schema and role (None: no database). `consumes_events` says whether it runs a
    Kafka consumer group (and so is autoscaled on consumer lag).
    """

    name: str
    package: str
    schema: str | None = None
    consumes_events: bool = True

    @property
    def database(self) -> bool:
        return self.schema is not None


SERVICE_COMPONENTS = tuple(Component(name, package, schema=package) for name, package in SERVICES)

#: Process components other than the five services: one line each (see the module docstring).
OTHER_COMPONENTS: tuple[Component, ...] = ()

COMPONENTS = SERVICE_COMPONENTS + OTHER_COMPONENTS


def component(name: str) -> Component:
    """The component called `name`; KeyError if there is none."""
    for candidate in COMPONENTS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def common_environment(component: Component) -> dict[str, str]:
    """Settings every container of `component` gets, wherever it runs (Compose, Kubernetes)."""
    return {
        "CLEARANCE_HTTP_HOST": "0.0.0.0",
        "CLEARANCE_HTTP_PORT": str(HTTP_PORT),
        "CLEARANCE_LOG_LEVEL": "INFO",
        "OTEL_SERVICE_NAME": component.name,
    }
