"""Ports are chosen once per profile and remembered; a port held by another process is
replaced and said; the process listening on a port is found (unit, no servers)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from clearance_local.config import DEFAULT_PORTS, StackConfig, port_variable
from clearance_local.ports import PortBook
from clearance_local.process import StackError, listener_pids, listens_on, spawn, terminate
from clearance_local.stack import _refuse_a_stack_from_before_passwords

pytestmark = pytest.mark.unit


def test_ports_are_chosen_once_and_remembered(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    first = PortBook(path, {"kafka": 0, "be-intake": 0})
    again = PortBook(path, {"kafka": 0, "be-intake": 0})
    assert first.ports == again.ports
    assert len(set(first.ports.values())) == 2


def test_a_port_taken_by_another_process_is_replaced_and_said(tmp_path: Path) -> None:
    book = PortBook(tmp_path / "ports.json", {"zipkin": 0})
    said: list[str] = []
    with socket.socket() as other:
        other.bind(("127.0.0.1", book["zipkin"]))
        other.listen()
        taken = book["zipkin"]
        new = book.replace_if_taken("zipkin", ours_running=False, log=said.append)
    assert new != taken
    assert f"port {taken} is taken by another process: using {new}" in said[0]
    assert PortBook(tmp_path / "ports.json", {"zipkin": 0})["zipkin"] == new  # remembered


def test_a_running_component_keeps_its_port(tmp_path: Path) -> None:
    book = PortBook(tmp_path / "ports.json", {"kafka": 0})
    with socket.socket() as ours:
        ours.bind(("127.0.0.1", book["kafka"]))
        ours.listen()
        assert book.replace_if_taken("kafka", ours_running=True, log=print) == book["kafka"]


def test_a_port_set_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(port_variable("be-intake"), "18001")
    config = StackConfig.from_env("local")
    assert port_variable("be-intake") == "CLEARANCE_BE_INTAKE_PORT"
    assert config.fixed_ports == {"be-intake": 18001}
    assert config.wanted_ports["kafka"] == DEFAULT_PORTS["kafka"]
    assert StackConfig.from_env("test").wanted_ports["kafka"] == 0


def test_the_listening_process_is_found(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert os.getpid() in listener_pids(port)
        assert listens_on(os.getpid(), port)
        # A process that is not the listener, nor its parent, does not own the port.
        pid_path = tmp_path / "sleep.pid"
        spawn(
            [sys.executable, "-c", "import time; time.sleep(30)"],
            log_path=tmp_path / "l",
            pid_path=pid_path,
        )
        try:
            other = int(pid_path.read_text())
            assert not listens_on(other, port)
        finally:
            terminate(pid_path, timeout=5)


def test_a_stack_made_before_generated_passwords_is_refused_with_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: Kafka and PostgreSQL data without the generated Kafka administrator's
    password would only fail later, in a wait for authentication; `up` says to reset."""
    monkeypatch.delenv("CLEARANCE_DATA_DIR", raising=False)
    config = StackConfig(profile="old", root=tmp_path, wanted_ports={})
    (config.data_dir / "kafka").mkdir(parents=True)
    with pytest.raises(StackError, match="clearance-local --profile old reset"):
        _refuse_a_stack_from_before_passwords(config)
    config.secrets_dir.mkdir(parents=True, exist_ok=True)
    (config.secrets_dir / "kafka-clearance-admin").write_text("generated")
    _refuse_a_stack_from_before_passwords(config)  # made since: nothing to say
    _refuse_a_stack_from_before_passwords(StackConfig(profile="new", root=tmp_path))


def test_replicas_of_a_service_are_processes_of_their_own_in_its_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18's scaling run: `CLEARANCE_REPLICAS=be-intake=2` adds `be-intake-2`, on its
    own port, pid and log, as the same service (Kafka principal, traces' service name);
    only the first watches the ICES inbox, so no file is taken twice."""
    from clearance_local.stack import Stack

    monkeypatch.setenv("CLEARANCE_ROOT", str(tmp_path))
    monkeypatch.delenv("CLEARANCE_DATA_DIR", raising=False)
    monkeypatch.setenv("CLEARANCE_REPLICAS", "be-intake=2")
    stack = Stack(StackConfig.from_env("replicas"))
    first, second = stack.services["be-intake"], stack.services["be-intake-2"]
    assert second.port != first.port
    assert second.pid_path != first.pid_path
    assert second.kafka_security == first.kafka_security
    assert second.env()["OTEL_SERVICE_NAME"] == "be-intake"
    assert "CLEARANCE_ICES_INBOX_DIR" in first.env()
    assert "CLEARANCE_ICES_INBOX_DIR" not in second.env()
    assert "be-intake-2" in stack.components
    monkeypatch.setenv("CLEARANCE_REPLICAS", "no-such-service=2")
    with pytest.raises(ValueError, match="no-such-service"):
        StackConfig.from_env("replicas")
