"""Two copies of the platform on one machine: the second `up` never takes the first's
components for its own. The second lives in a private folder (mode 700, as a clone in
root's home would), so its PostgreSQL cluster must live where the `postgres` user can
reach it."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest
from clearance_local.config import DEFAULT_PORTS, StackConfig, repo_root
from clearance_local.kafka import _cluster_id
from clearance_local.process import StackError
from clearance_local.stack import Stack, _run_steps

pytestmark = pytest.mark.integration


def _config(root: Path, profile: str, wanted: dict[str, int]) -> StackConfig:
    data = root / ".data"
    data.mkdir(parents=True, exist_ok=True)
    cache = repo_root() / ".data" / "cache"  # the jars already downloaded
    cache.mkdir(parents=True, exist_ok=True)
    if not (data / "cache").exists():
        (data / "cache").symlink_to(cache, target_is_directory=True)
    if not (root / "deploy").exists():  # a clone has the identity provider's realm file
        (root / "deploy").symlink_to(repo_root() / "deploy", target_is_directory=True)
    return StackConfig(profile=profile, root=root, wanted_ports=wanted)


@pytest.fixture
def two_roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = tmp_path_factory.mktemp("first-clone")
    home = tmp_path_factory.mktemp("home")
    home.chmod(0o700)  # a private home directory, as root's is
    second = home / "clone"
    second.mkdir()
    return first, second


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_second_stack_never_reports_the_firsts_components_as_its_own(
    two_roots: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLEARANCE_DATA_DIR", raising=False)
    first_root, second_root = two_roots
    first = Stack(_config(first_root, "first", {name: 0 for name in DEFAULT_PORTS}))
    said_first: list[str] = []
    said_second: list[str] = []
    second: Stack | None = None
    try:
        first.up(log=said_first.append)
        taken = dict(first.ports.ports)
        # The second copy wants exactly the ports the first holds (its "defaults").
        second = Stack(_config(second_root, "second", taken))
        second.up(log=said_second.append)

        for name, port in taken.items():
            assert second.ports[name] != port, name
            assert f"port {port} is taken by another process" in "\n".join(said_second), name
        assert not any("already running" in line for line in said_second)
        # Every component the second reports is its own, and the first's are not.
        for name, component in second.components.items():
            assert component.is_ready(), name
        impostors = Stack(_config(second_root, "second", {}))
        impostors.ports.ports.update(taken)  # the second's view pointed at the first's ports
        impostors._build()
        for name, component in impostors.components.items():
            assert not component.is_ready(), f"{name} of the first taken for the second's"
        # What each stack's components answer says whose they are.
        for svc_first, svc_second in zip(
            first.services.values(), second.services.values(), strict=True
        ):
            a = httpx.get(f"{svc_first.url}/readyz", timeout=5).json()["instance_id"]
            b = httpx.get(f"{svc_second.url}/readyz", timeout=5).json()["instance_id"]
            assert a.startswith("first/")
            assert b.startswith("second/")
        ids = [
            asyncio.run(_cluster_id(s.kafka.bootstrap, s.kafka.admin_security))
            for s in (first, second)
        ]
        assert ids == [first.kafka.cluster_id, second.kafka.cluster_id]
        assert ids[0] != ids[1]
        # stack.env holds every address of the second, services included.
        env = (second.config.data_dir / "stack.env").read_text()
        for svc in second.services.values():
            assert f"{svc.env_name}={svc.url}\n" in env
        assert f"CLEARANCE_KAFKA_BOOTSTRAP={second.kafka.bootstrap}\n" in env
        assert f"CLEARANCE_PROMETHEUS_URL={second.prometheus.url}\n" in env
        # PostgreSQL cannot enter the private clone: its cluster lives where it can.
        if os.geteuid() == 0:
            assert stat.S_IMODE(second_root.parent.stat().st_mode) == 0o700
            assert second.postgres.link.is_symlink()
            assert not str(second.postgres.home).startswith(str(second_root))
        # Prometheus scrapes the second's own services.
        targets = httpx.get(f"{second.prometheus.url}/api/v1/targets", timeout=5).json()
        scraped = {t["labels"]["service"]: t["scrapeUrl"] for t in targets["data"]["activeTargets"]}
        assert scraped == {n: f"{s.url}/metrics" for n, s in second.services.items()}

        # A second `up` of the second keeps its ports and finds everything its own.
        again: list[str] = []
        Stack(second.config).up(log=again.append)
        # (Other lines say what `up` checked, such as Kafka's ACLs, and start nothing.)
        running = {line.split()[0] for line in again if "already running" in line}
        assert running == set(second.components), again
        assert not any(" started " in line for line in again), again
    finally:
        if second is not None:
            second.reset()
        first.reset()


def test_a_step_whose_need_failed_is_not_started_and_every_failure_is_reported() -> None:
    ran: list[str] = []

    def broken() -> None:
        raise StackError("kafka exited during start-up. Log tail:\naddress already in use")

    steps = {"kafka": broken, "topics": lambda: ran.append("topics"), "zipkin": lambda: None}
    with pytest.raises(StackError) as failure:
        _run_steps(steps, {"topics": ("kafka",)})
    assert "address already in use" in str(failure.value)
    assert "topics: not started: kafka failed" in str(failure.value)
    assert ran == []
