"""Background processes with pid files, log files and readiness waits."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class StackError(RuntimeError):
    """A component failed to install, start or stop; the message says why."""


def log_tail(log_path: Path, lines: int = 40) -> str:
    if not log_path.exists():
        return "(no log written)"
    text = log_path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def listener_pids(port: int) -> set[int]:
    """The processes listening on TCP `port` (any address), as far as this user may see:
    the socket's inode from /proc/net/tcp{,6}, then the processes holding it."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(f"socket:[{inode}]")
    pids: set[int] = set()
    if not inodes:
        return pids
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        pids.add(int(proc.name))
                        break
    return pids


def listens_on(pid: int | None, port: int) -> bool:
    """True if process `pid` (or one of its children) listens on `port`: the port is ours."""
    if pid is None:
        return False
    return any(pid in _lineage(listener) for listener in listener_pids(port))


def _lineage(pid: int) -> list[int]:
    chain = [pid]
    with contextlib.suppress(OSError, IndexError, ValueError):
        while pid > 1:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent pid
            chain.append(pid)
    return chain


def free_port(wanted: int = 0) -> int:
    """`wanted` if nothing listens there, otherwise any free port on loopback."""
    if wanted and not port_is_open(wanted):
        return wanted
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_pid(pid_path: Path) -> int | None:
    """The pid in `pid_path` if that process is still alive."""
    try:
        pid = int(pid_path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie is not alive for our purposes.
    with contextlib.suppress(FileNotFoundError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return None
    return pid


def spawn(
    cmd: Sequence[str],
    *,
    log_path: Path,
    pid_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `cmd` detached from this terminal, logging to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            list(cmd),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    pid_path.write_text(str(proc.pid))
    return proc.pid


def terminate(pid_path: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the process (its group), SIGKILL after `timeout`; True if one ran."""
    pid = read_pid(pid_path)
    if pid is None:
        pid_path.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and read_pid(pid_path) is not None:
        _reap(pid)
        time.sleep(0.2)
    if read_pid(pid_path) is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    _reap(pid)
    pid_path.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log_path: Path,
    pid_path: Path | None = None,
) -> None:
    """Poll `check` until true; on timeout or process death raise with the log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid_path is not None and read_pid(pid_path) is None:
            raise StackError(f"{what} exited during start-up. Log tail:\n{log_tail(log_path)}")
        time.sleep(0.3)
    raise StackError(f"{what} not ready after {timeout:.0f}s. Log tail:\n{log_tail(log_path)}")


def run(cmd: Sequence[str], *, what: str, cwd: Path | None = None) -> str:
    """Run a short command; raise StackError with its output when it fails."""
    result = subprocess.run(list(cmd), capture_output=True, text=True, cwd=cwd, check=False)
    if result.returncode != 0:
        raise StackError(f"{what} failed ({' '.join(cmd)}):\n{result.stdout}\n{result.stderr}")
    return result.stdout
