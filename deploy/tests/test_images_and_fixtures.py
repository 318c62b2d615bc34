"""The images and the infrastructure settings: one source (`clearance_local.images`) for the
Compose file and the Testcontainers path of the test fixtures, which cannot run here (no
Docker engine), so it runs against recording stand-ins for the container classes."""

from __future__ import annotations

import json
import sys
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clearance_deploy import compose, generate
from clearance_deploy.components import COMPONENTS, OTHER_COMPONENTS, SERVICE_COMPONENTS
from clearance_local import images, pytest_plugin
from clearance_local.config import repo_root
from clearance_local.postgres import ADMIN_ROLE, DATABASE
from clearance_local.services import SERVICES
from clearance_runtime.access import ROLES

pytestmark = pytest.mark.unit

DEPLOY = repo_root() / "deploy"


class _Recorder:
    """Stands in for a testcontainers container: records image, env and ports."""

    started: list[_Recorder] = []  # noqa: RUF012 - one list per test, reset by the fixture

    def __init__(self, image: str, **kwargs: Any) -> None:
        self.image = image
        self.kwargs = kwargs
        self.env: dict[str, str] = {}
        self.bound: dict[int, int] = {}
        self.exposed: list[int] = []

    def with_env(self, key: str, value: str) -> _Recorder:
        self.env[key] = value
        return self

    def with_bind_ports(self, container: int, host: int) -> _Recorder:
        self.bound[container] = host
        return self

    def with_exposed_ports(self, *ports: int) -> _Recorder:
        self.exposed += ports
        return self

    def waiting_for(self, _strategy: object) -> _Recorder:
        return self

    def __enter__(self) -> _Recorder:
        _Recorder.started.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def get_container_host_ip(self) -> str:
        return "127.0.0.1"

    def get_exposed_port(self, port: int) -> int:
        return 40000 + port

    def get_connection_url(self, driver: str | None = None) -> str:
        return f"postgresql://{self.kwargs['username']}:x@127.0.0.1:45432/{self.kwargs['dbname']}"


@pytest.fixture
def fake_testcontainers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[_Recorder]]:
    _Recorder.started = []
    container = types.ModuleType("testcontainers.core.container")
    container.DockerContainer = _Recorder  # type: ignore[attr-defined]
    waits = types.ModuleType("testcontainers.core.wait_strategies")
    waits.LogMessageWaitStrategy = lambda message: message  # type: ignore[attr-defined]
    postgres = types.ModuleType("testcontainers.postgres")
    postgres.PostgresContainer = _Recorder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "testcontainers.core.container", container)
    monkeypatch.setitem(sys.modules, "testcontainers.core.wait_strategies", waits)
    monkeypatch.setitem(sys.modules, "testcontainers.postgres", postgres)
    return _Recorder.started


def test_testcontainers_run_the_compose_files_images_and_settings(
    fake_testcontainers: list[_Recorder],
) -> None:
    with pytest_plugin._from_testcontainers() as endpoints:
        kafka, pg, zipkin = fake_testcontainers
    services = compose.compose_document()["services"]
    assert kafka.image == services["kafka"]["image"] == images.KAFKA.ref
    assert pg.image == services["postgres"]["image"] == images.POSTGRES.ref
    assert zipkin.image == services["zipkin"]["image"] == images.ZIPKIN.ref
    # The same broker settings as Compose, advertised at the port bound on the host.
    host_port = kafka.bound[images.KAFKA_CLIENT_PORT]
    assert kafka.env == images.kafka_environment(f"127.0.0.1:{host_port}")
    compose_kafka = services["kafka"]["environment"]
    for key in ("KAFKA_PROCESS_ROLES", "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "KAFKA_NODE_ID"):
        assert kafka.env[key] == compose_kafka[key]
    assert endpoints.kafka_bootstrap == f"127.0.0.1:{host_port}"
    assert (pg.kwargs["username"], pg.kwargs["dbname"]) == (ADMIN_ROLE, DATABASE)
    assert services["postgres"]["environment"]["POSTGRES_USER"] == ADMIN_ROLE
    assert services["postgres"]["environment"]["POSTGRES_DB"] == DATABASE
    assert endpoints.postgres_admin_dsn.endswith(f"/{DATABASE}")
    assert zipkin.env == images.zipkin_environment() == services["zipkin"]["environment"]
    assert endpoints.zipkin_url == f"http://127.0.0.1:{40000 + images.ZIPKIN_PORT}"


def test_images_follow_the_local_stacks_versions() -> None:
    from clearance_local.config import KAFKA_VERSION, ZIPKIN_VERSION

    assert images.KAFKA.tag == KAFKA_VERSION
    assert images.ZIPKIN.tag == ZIPKIN_VERSION
    assert images.CLOUDNATIVE_PG_POSTGRES.tag.startswith(f"{images.POSTGRES_MAJOR}.")


def _members() -> dict[str, dict[str, Any]]:
    root = tomllib.loads((repo_root() / "pyproject.toml").read_text())
    found = {}
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        for directory in sorted(repo_root().glob(pattern)):
            project = tomllib.loads((directory / "pyproject.toml").read_text())["project"]
            found[project["name"]] = {"dir": directory, **project}
    return found


def test_every_component_is_a_workspace_member_with_a_console_script_of_its_name() -> None:
    """What the Dockerfile relies on: `uv sync --package <member>` and the script
    `/app/.venv/bin/<member>` taking serve|migrate (the member is the component's name unless
    it says otherwise: the registry server's is `clearance-bis-registry`)."""
    members = _members()
    assert [c.name for c in SERVICE_COMPONENTS] == [name for name, _ in SERVICES]
    # The registry server is one line; the console will add another.
    assert [(c.name, c.workspace_member) for c in OTHER_COMPONENTS] == [
        ("bis-registry", "clearance-bis-registry")
    ]
    for component in COMPONENTS:
        member = members[component.workspace_member]
        script = member["scripts"][component.workspace_member]
        assert script.startswith(f"{component.package}."), script
        assert not component.database or component.runtime  # migrations are the runtime's
    names = [c.name for c in COMPONENTS]
    assert len(names) == len(set(names))
    assert {call.server for c in COMPONENTS for call in c.calls} <= set(names)


def test_the_build_context_holds_every_workspace_member() -> None:
    """uv resolves the workspace from every member's pyproject.toml: none may be ignored."""
    ignore = (DEPLOY / "images" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")]
    for member in _members().values():
        relative = Path(member["dir"]).relative_to(repo_root()).as_posix()
        assert any(relative == a or relative.startswith(a + "/") for a in allowed), relative


def test_the_dockerfile_is_multi_stage_non_root_locked_and_checks_health() -> None:
    text = (DEPLOY / "images" / "Dockerfile").read_text()
    assert text.count("\nFROM ") == 2
    assert "uv sync --frozen --no-dev --no-install-workspace" in text
    assert "uv sync --frozen --no-dev --no-editable" in text
    assert "\nUSER 10001:10001\n" in text
    assert "HEALTHCHECK" in text
    assert "/app/healthcheck.py" in text
    healthcheck = (DEPLOY / "images" / "healthcheck.py").read_text()
    assert "/healthz" in healthcheck
    uv_version = next(
        line.split('"')[0].split("=")[-1]
        for line in (repo_root() / "bin" / "clearance").read_text().splitlines()
        if line.startswith("UV_VERSION=")
    )
    assert f"ARG UV_VERSION={uv_version}" in text


def test_compose_imports_the_one_realm_with_the_platforms_roles_and_no_credentials() -> None:
    """Compose's Keycloak imports the local stack's realm file: the platform's roles, users
    that are SAMPLE DATA (service accounts aside) and no password or client secret."""
    [volume] = compose.compose_document()["services"]["keycloak"]["volumes"]
    folder = DEPLOY / "compose" / volume.split(":")[0]
    realm = json.loads((folder / "clearance-realm.json").read_text())
    assert [role["name"] for role in realm["roles"]["realm"]] == list(ROLES)
    people = [u for u in realm["users"] if "serviceAccountClientId" not in u]
    assert people
    assert all(u["username"].startswith("sample-") for u in people)
    assert "SAMPLE DATA" in realm["displayName"]
    assert not any("credentials" in u for u in realm["users"])
    assert not any("secret" in client for client in realm["clients"])


def test_compose_secrets_come_from_the_environment_file() -> None:
    text = (DEPLOY / "compose" / "compose.yaml").read_text()
    for var in compose.secret_variables():
        assert f"${{{var}:?" in text
        assert f"{var}=change-me" in (DEPLOY / "compose" / ".env.example").read_text()
    assert "_local@" not in text
    assert "clearance_admin@" not in text
    assert Path("compose/.env.example") in generate.outputs()
