"""The platform's process components and the settings each container gets.

One table, `COMPONENTS`, drives the image builds, the Compose services and the Kubernetes
Deployments. The five services come from the local stack's list (`clearance_local.services`);
another process component (the BIS registry server, the operations console) is ONE line in
`OTHER_COMPONENTS`, e.g. the registry:

    Component("bis-registry", "clearance_bis_registry", member="clearance-bis-registry",
              consumes_events=False, runtime=False, environment=(...)),

Its uv workspace member (`member`, by default the component's name) must install a console
script of the member's name taking `serve` and `migrate` (as
`clearance_runtime.service.run_cli` does; a component without a database answers `migrate`
with nothing to do).

Components call each other over HTTP only where `Component.calls` says so (bis-verifier asks
the BIS registry, BIS-CRS-1): the caller gets the URL in the named setting, and the
Kubernetes NetworkPolicies open exactly these flows. Every other flow between components is
a Kafka topic.

Settings are the local stack's names (`CLEARANCE_*` of `clearance_runtime.settings` and each
service's `config.py`, and the standard `OTEL_*`; for a component not on the runtime, the
names its CLI reads, `<package>.cli.SETTINGS`): a test checks each name. The image test
(deploy/tests/test_image_build_steps.py) imports a runtime component's bootstrap and settings,
and builds another's app with `<package>.cli.build_app(environ)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearance_local.services import SERVICES

#: The port every component listens on inside its container (`CLEARANCE_HTTP_PORT`).
HTTP_PORT = 8080
#: Where the image keeps `shared/domain` (the real source documents: BIS register, calendars).
#: bis-verifier reads no register itself: it asks the BIS registry at CLEARANCE_BIS_REGISTRY_URL
#: (the registry server of deploy/bis-registry, the component `bis-registry` below, reads it).
SHARED_DOMAIN_DIR = "/app/shared/domain"

#: The realm of the platform's identity provider (deploy/local/keycloak/clearance-realm.json):
#: a token's issuer is `<identity provider URL>/realms/clearance`.
REALM_PATH = "/realms/clearance"


@dataclass(frozen=True)
class HttpCall:
    """A component calls `server` (another component) over HTTP, at the base URL it reads from
    its setting `setting`."""

    server: str
    setting: str


@dataclass(frozen=True)
class Component:
    """One process of the platform, built into its own image.

    `name` is its consumer group, its Kafka principal and its Kubernetes/Compose name (and,
    unless `member` says otherwise, its uv workspace member and console script); `package` its
    Python package; `schema` its PostgreSQL schema and role (None: no database).
    `consumes_events` says whether it runs a Kafka consumer group (and so is autoscaled on
    consumer lag). `runtime`: it runs on `clearance_runtime` (settings class
    `<package>.config.Settings`, OpenTelemetry traces, Prometheus `/metrics`); False for a plain
    HTTP server, which gets no tracing settings and is not scraped. `calls`: the components it
    calls over HTTP. `environment`: settings of its own, the same wherever it runs.
    """

    name: str
    package: str
    schema: str | None = None
    consumes_events: bool = True
    member: str | None = None
    runtime: bool = True
    calls: tuple[HttpCall, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()

    @property
    def database(self) -> bool:
        return self.schema is not None

    @property
    def workspace_member(self) -> str:
        """The uv workspace member (the Dockerfile's COMPONENT) and its console script."""
        return self.member or self.name


#: HTTP calls of the services (by name); each server is a component of the table.
SERVICE_CALLS: dict[str, tuple[HttpCall, ...]] = {
    # BIS-CRS-1: the verifier asks the registry (locally and here the registry server of
    # deploy/bis-registry; a production overlay points the setting at the BIS source).
    "bis-verifier": (HttpCall("bis-registry", "CLEARANCE_BIS_REGISTRY_URL"),),
}

SERVICE_COMPONENTS = tuple(
    Component(name, package, schema=package, calls=SERVICE_CALLS.get(name, ()))
    for name, package in SERVICES
)

#: Process components other than the five services: one line each (see the module docstring).
OTHER_COMPONENTS: tuple[Component, ...] = (
    # The stand-in for the BIS portal: the real BIS-CRS register (2021) and SAMPLE CM/L
    # licences over HTTP (deploy/bis-registry); no database, no Kafka.
    Component(
        "bis-registry",
        "clearance_bis_registry",
        member="clearance-bis-registry",
        consumes_events=False,
        runtime=False,
        environment=(
            ("CLEARANCE_BIS_REGISTER_CSV", f"{SHARED_DOMAIN_DIR}/bis/crs-register-2021.csv"),
        ),
    ),
)

COMPONENTS = SERVICE_COMPONENTS + OTHER_COMPONENTS


def component(name: str) -> Component:
    """The component called `name`; KeyError if there is none."""
    for candidate in COMPONENTS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def callers(name: str) -> list[Component]:
    """The components that call the component `name` over HTTP."""
    return [c for c in COMPONENTS if any(call.server == name for call in c.calls)]


def common_environment(component: Component) -> dict[str, str]:
    """Settings every container of `component` gets, wherever it runs (Compose, Kubernetes);
    the URLs of the components it calls are the platform's (`compose`, `kubernetes`)."""
    env = {
        "CLEARANCE_HTTP_HOST": "0.0.0.0",
        "CLEARANCE_HTTP_PORT": str(HTTP_PORT),
        "CLEARANCE_LOG_LEVEL": "INFO",
    }
    if component.runtime:
        env["OTEL_SERVICE_NAME"] = component.name
    env.update(component.environment)
    return env
