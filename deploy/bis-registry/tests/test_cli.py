"""The command line: the image's `serve`/`migrate`, and where it listens (a container's
CLEARANCE_HTTP_*, the local stack's CLEARANCE_BIS_REGISTRY_*)."""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clearance_bis_registry import cli
from clearance_bis_registry.register import shared_register_path
from fastapi.testclient import TestClient

pytestmark = pytest.mark.unit


def test_a_container_listens_where_the_image_says() -> None:
    """Every image sets CLEARANCE_HTTP_HOST/PORT; its HEALTHCHECK asks /healthz there."""
    environ = {"CLEARANCE_HTTP_HOST": "0.0.0.0", "CLEARANCE_HTTP_PORT": "8080"}
    assert cli.listen_address(environ) == ("0.0.0.0", 8080)


def test_the_local_stacks_port_wins_over_an_inherited_http_port() -> None:
    """clearance-local starts the registry with CLEARANCE_BIS_REGISTRY_PORT in the environment
    it inherits; a CLEARANCE_HTTP_PORT there (a service's) must not move it."""
    environ = {"CLEARANCE_BIS_REGISTRY_PORT": "18010", "CLEARANCE_HTTP_PORT": "8002"}
    assert cli.listen_address(environ) == ("127.0.0.1", 18010)
    assert cli.listen_address({}) == ("127.0.0.1", 8010)


def _serve(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    served: dict[str, Any] = {}
    monkeypatch.setattr(cli, "build_app", lambda environ: "the app")
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    return served


def test_serve_is_the_default_command(monkeypatch: pytest.MonkeyPatch) -> None:
    served = _serve(monkeypatch)
    cli.main([], environ={"CLEARANCE_HTTP_HOST": "0.0.0.0", "CLEARANCE_HTTP_PORT": "8080"})
    assert (served["app"], served["host"], served["port"]) == ("the app", "0.0.0.0", 8080)
    served.clear()
    cli.main(["serve", "--port", "9999"], environ={"CLEARANCE_HTTP_PORT": "8080"})
    assert (served["host"], served["port"]) == ("127.0.0.1", 9999)


def test_migrate_has_nothing_to_do_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    served = _serve(monkeypatch)
    with caplog.at_level(logging.INFO, logger="clearance_bis_registry"):
        cli.main(["migrate"], environ={})
    assert served == {}
    assert "nothing to migrate" in caplog.text


def test_the_console_script_takes_the_images_commands() -> None:
    """What the image's ENTRYPOINT runs: `migrate` exits 0 without loading the register."""
    migrate = subprocess.run(
        [sys.executable, "-m", "clearance_bis_registry", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "nothing to migrate" in migrate.stderr
    helped = subprocess.run(
        [sys.executable, "-m", "clearance_bis_registry", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0
    assert "{serve,migrate}" in helped.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "clearance_bis_registry", "migrat"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2


def test_the_register_comes_from_the_file_the_environment_names(tmp_path: Path) -> None:
    """CLEARANCE_BIS_REGISTER_CSV (a container's: /app/shared/domain/bis/...); here the first
    rows of the real register."""
    with shared_register_path().open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(20), reader, strict=False)]
        fields = reader.fieldnames
    assert fields is not None
    excerpt = tmp_path / "register.csv"
    with excerpt.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    with TestClient(cli.build_app({"CLEARANCE_BIS_REGISTER_CSV": str(excerpt)})) as client:
        ready = client.get("/readyz").json()
        assert client.get("/healthz").status_code == 200
    assert 0 < ready["registrations"] <= 20
    assert ready["register_snapshot"] == cli.REGISTER_SNAPSHOT
