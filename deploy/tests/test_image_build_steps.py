"""The image's build stage, replayed here without Docker: the Dockerfile's own `uv sync`
commands install each component alone from uv.lock (dependencies first from the lock file
alone, then the component, not editable) into the image's layout, and the result starts.

This catches a component that imports what it never declared, and an image layout in which
a service misses its settings or a file its settings name under the image's shared/domain
(the BIS registry server's register). Slow: about half a minute per component on two cores.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clearance_deploy.components import COMPONENTS, SHARED_DOMAIN_DIR, Component
from clearance_local.config import repo_root

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DOCKERFILE = repo_root() / "deploy" / "images" / "Dockerfile"
SHARED = repo_root().parent / "shared" / "domain"


def _uv_syncs() -> list[list[str]]:
    """The `uv sync` command lines of the Dockerfile, in order."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    commands = re.findall(r"uv sync ([^&\n]+)", text)
    return [["sync", *command.replace('"', "").split()] for command in commands]


def _context_files() -> list[str]:
    """The build context: tracked files the .dockerignore lets in."""
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=repo_root(), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [
        path
        for path in tracked
        if any(path == a or path.startswith(a + "/") for a in allowed)
        and "/tests/" not in f"/{path}"
    ]


def _uv(args: list[str], *, cwd: Path, app: Path, component: Component) -> None:
    uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
    command = [*uv, *[a.replace("${COMPONENT}", component.workspace_member) for a in args]]
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(app / ".venv"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",
        "UV_COMPILE_BYTECODE": "1",
        "VIRTUAL_ENV": "",
    }
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_each_component_installs_alone_from_the_lock_and_starts(
    component: Component, tmp_path: Path
) -> None:
    first, second = _uv_syncs()
    assert "--no-install-workspace" in first
    assert "--no-editable" in second
    app = tmp_path / "app"
    lock_only = tmp_path / "lock-only"
    lock_only.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(repo_root() / name, lock_only / name)
    _uv(first, cwd=lock_only, app=app, component=component)
    source = tmp_path / "src"
    for relative in _context_files():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_root() / relative, source / relative)
    _uv(second, cwd=source, app=app, component=component)
    # The image's layout: shared/domain beside the virtual environment.
    assert SHARED_DOMAIN_DIR == "/app/shared/domain"
    shutil.copytree(SHARED, app / "shared" / "domain")
    script = app / ".venv" / "bin" / component.workspace_member
    help_text = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, check=False, env={"PATH": ""}
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "{serve,migrate}" in help_text.stdout
    # The component's own settings (e.g. the registry's register), with the image's paths
    # under shared/domain moved to this layout.
    env = {
        "PATH": "",
        **{
            key: value.replace(SHARED_DOMAIN_DIR, str(app / "shared" / "domain"))
            for key, value in component.environment
        },
    }
    for key, value in component.environment:
        if value.startswith(SHARED_DOMAIN_DIR):
            assert Path(env[key]).is_file(), (key, value)
    if component.runtime:
        probe = (
            f"import {component.package}.bootstrap, {component.package}.config as c; c.Settings()"
        )
    else:
        # A plain HTTP server: its app builds from what its settings name (the registry loads
        # the register, as `serve` does before it listens).
        probe = f"import os, {component.package}.cli as c; c.build_app(os.environ)"
    imported = subprocess.run(
        [str(app / ".venv" / "bin" / "python"), "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert imported.returncode == 0, imported.stderr
    not_installed = subprocess.run(
        [str(app / ".venv" / "bin" / "python"), "-c", "import pytest"],
        capture_output=True,
        check=False,
    )
    assert not_installed.returncode != 0  # no dev tools in an image
