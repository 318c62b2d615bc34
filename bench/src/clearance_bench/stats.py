"""Percentiles and per-second series (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class LatencySummary:
    """Latency percentiles in milliseconds over `count` BEs."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 3) for key, value in asdict(self).items()}


def summarize(values_ms: Sequence[float]) -> LatencySummary | None:
    if not values_ms:
        return None
    return LatencySummary(
        count=len(values_ms),
        p50=percentile(values_ms, 50),
        p95=percentile(values_ms, 95),
        p99=percentile(values_ms, 99),
        max=max(values_ms),
        mean=sum(values_ms) / len(values_ms),
    )


def per_second(offsets_s: Iterable[float], length: int | None = None) -> list[int]:
    """How many events fell in each whole second since the start (offsets in seconds)."""
    counts: list[int] = [0] * (length or 0)
    for offset in offsets_s:
        second = max(int(offset), 0)
        if second >= len(counts):
            counts.extend([0] * (second + 1 - len(counts)))
        counts[second] += 1
    return counts
