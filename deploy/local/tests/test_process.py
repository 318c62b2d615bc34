"""Unit tests of the provisioner's process helpers (no servers)."""

import socket
import sys
from pathlib import Path

import pytest
from clearance_local.process import StackError, free_port, read_pid, spawn, terminate, wait_until

pytestmark = pytest.mark.unit


def test_free_port_avoids_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        chosen = free_port(taken)
    assert chosen != taken
    assert chosen > 0


def test_free_port_keeps_a_free_wanted_port() -> None:
    port = free_port(0)
    assert free_port(port) == port


def test_wait_until_reports_the_log_tail_of_a_dead_process(tmp_path: Path) -> None:
    log, pid = tmp_path / "x.log", tmp_path / "x.pid"
    spawn(
        [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(2)"],
        log_path=log,
        pid_path=pid,
    )
    with pytest.raises(StackError, match="boom: bad config"):
        wait_until(lambda: False, what="x", timeout=10, log_path=log, pid_path=pid)


def test_spawned_process_is_tracked_and_terminated(tmp_path: Path) -> None:
    pid_path = tmp_path / "sleep.pid"
    spawn(["sleep", "30"], log_path=tmp_path / "sleep.log", pid_path=pid_path)
    assert read_pid(pid_path) is not None
    assert terminate(pid_path, timeout=5) is True
    assert read_pid(pid_path) is None
    assert terminate(pid_path, timeout=5) is False
