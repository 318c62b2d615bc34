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
from clearance_local.process import listener_pids, listens_on, spawn, terminate

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
