"""Every half second: CPU and RSS of each watched process (with its children), and what
each service's `/metrics` says about consumer lag, outbox backlog and events handled."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from clearance_local.process import read_pid

PidSource = Callable[[], int | None]

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)"
)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
MB = 1024 * 1024


@dataclass(frozen=True)
class Watched:
    """A process to sample: its name, how to find its pid now, its /metrics URL if any."""

    name: str
    pid: PidSource
    metrics_url: str | None = None
    # The load generator's own children (services it started, relays) are watched apart.
    with_children: bool = True


def pid_file(path: Path) -> PidSource:
    """The pid in a pid file written by the local provisioner, if that process lives."""
    return lambda: read_pid(path)


def postmaster_pid(path: Path) -> PidSource:
    """PostgreSQL's `postmaster.pid` has the pid on its first line."""

    def read() -> int | None:
        try:
            pid = int(path.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if psutil.pid_exists(pid) else None

    return read


def fixed_pid(pid: int) -> PidSource:
    return lambda: pid if psutil.pid_exists(pid) else None


@dataclass
class Sample:
    """One sampling instant (monotonic clock) of every watched process."""

    at: float
    cpu_percent: dict[str, float] = field(default_factory=dict)  # 100 = one core busy
    rss_mb: dict[str, float] = field(default_factory=dict)
    consumer_lag: dict[str, float] = field(default_factory=dict)  # summed over partitions
    outbox_backlog: dict[str, float] = field(default_factory=dict)
    events_handled: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Metrics:
    consumer_lag: float
    outbox_backlog: float
    events_handled: float


def parse_metrics(text: str) -> Metrics:
    """The three gauges/counters the benchmark follows, from Prometheus text format."""
    lag = backlog = handled = 0.0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, value = match["name"], float(match["value"])
        if name == "clearance_consumer_lag":
            lag += value
        elif name == "clearance_outbox_backlog":
            backlog += value
        elif name == "clearance_events_handled_total":
            labels = dict(_LABEL.findall(match["labels"] or ""))
            if labels.get("outcome") == "handled":
                handled += value
    return Metrics(lag, backlog, handled)


class _ProcessTree:
    """CPU and RSS of a process and its descendants; keeps psutil objects for CPU deltas."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}

    def measure(self, pid: int, with_children: bool = True) -> tuple[float, float]:
        known = set(self._known)
        try:
            root = self._process(pid)
            tree = [root, *(root.children(recursive=True) if with_children else ())]
        except psutil.Error:
            return 0.0, 0.0
        cpu = rss = 0.0
        alive: set[int] = set()
        for proc in tree:
            with contextlib.suppress(psutil.Error):
                proc = self._process(proc.pid)
                # A process first seen now was only primed: a second reading microseconds
                # later would divide its CPU time by almost nothing (PostgreSQL's new
                # backends read as 4,000 %).
                cpu += proc.cpu_percent(interval=None) if proc.pid in known else 0.0
                rss += proc.memory_info().rss
                alive.add(proc.pid)
        self._known = {p: proc for p, proc in self._known.items() if p in alive}
        return cpu, rss / MB

    def _process(self, pid: int) -> psutil.Process:
        proc = self._known.get(pid)
        if proc is None:
            proc = psutil.Process(pid)
            proc.cpu_percent(interval=None)  # the first reading only primes the counter
            self._known[pid] = proc
        return proc


class Sampler:
    """Samples the watched processes every `interval` seconds until stopped."""

    def __init__(self, watched: Iterable[Watched], interval: float = 0.5) -> None:
        self.watched = list(watched)
        self.interval = interval
        self.samples: list[Sample] = []
        self._trees = {w.name: _ProcessTree() for w in self.watched}
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(timeout=1.0)

    async def start(self) -> None:
        for w in self.watched:  # prime the CPU counters so the first sample is meaningful
            pid = w.pid()
            if pid is not None:
                self._trees[w.name].measure(pid, w.with_children)
        self._task = asyncio.create_task(self._run(), name="sampler")

    async def stop(self) -> list[Sample]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()
        return self.samples

    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    async def _run(self) -> None:
        next_at = time.monotonic()
        while True:
            next_at += self.interval
            await asyncio.sleep(max(next_at - time.monotonic(), 0))
            self.samples.append(await self.sample())

    async def sample(self) -> Sample:
        sample = Sample(at=time.monotonic())
        # /proc reads off the event loop, so sampling does not delay the load's sends.
        await asyncio.to_thread(self._measure_processes, sample)
        scraped = [w for w in self.watched if w.metrics_url]
        results = await asyncio.gather(
            *(self._scrape(w.metrics_url or "") for w in scraped), return_exceptions=True
        )
        for w, result in zip(scraped, results, strict=True):
            if isinstance(result, Metrics):
                sample.consumer_lag[w.name] = result.consumer_lag
                sample.outbox_backlog[w.name] = result.outbox_backlog
                sample.events_handled[w.name] = result.events_handled
        return sample

    def _measure_processes(self, sample: Sample) -> None:
        for w in self.watched:
            pid = w.pid()
            if pid is None:
                continue
            cpu, rss = self._trees[w.name].measure(pid, w.with_children)
            sample.cpu_percent[w.name] = round(cpu, 1)
            sample.rss_mb[w.name] = round(rss, 1)

    async def _scrape(self, url: str) -> Metrics:
        response = await self._client.get(url)
        response.raise_for_status()
        return parse_metrics(response.text)
