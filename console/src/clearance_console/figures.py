"""The day's figures in the manner of the National Time Release Study (pure).

CBIC's National Time Release Study (NTRS) measures the time from a
consignment's arrival to its Out of Charge, reports the average and the
distribution (the share released within set times), and breaks the whole into
stages to show where the time goes. The platform does not know the goods'
arrival, so release time here runs from the BE's filing (be-intake first seeing
it) to its Out of Charge, and the stages are the platform's own: filing to
registration, registration to the RMS decision, the RMS decision to Out of
Charge. The day is the customs day in India (IST, UTC+05:30) of the filing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

IST = timezone(timedelta(hours=5, minutes=30), "IST")

#: Outcome of a BE by the status its status view shows (STATUS-1).
OUTCOMES = {
    "released": "cleared",
    "gatepass_issued": "cleared",
    "goods_exited": "cleared",
    "under_control": "held",
    "rejected": "rejected",
    "invalidated": "rejected",
}

#: The NTRS reports the share released within set times; these suit automatic clearance.
WITHIN = (("1 minute", 60.0), ("1 hour", 3600.0), ("1 day", 86400.0))

#: (stage name, from milestone, to milestone), in the order a BE passes them.
STAGES = (
    ("filing to registration", "first_seen_at", "registered_at"),
    ("registration to RMS decision", "registered_at", "rms_decided_at"),
    ("RMS decision to Out of Charge", "rms_decided_at", "released_at"),
)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The customs day `day` (IST) as a half-open interval of instants."""
    start = datetime.combine(day, time(0), IST)
    return start, start + timedelta(days=1)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Spread:
    """How long something took across BEs, in seconds."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Spread:
        mean = sum(seconds) / len(seconds) if seconds else None
        return cls(
            count=len(seconds),
            mean=mean,
            p50=percentile(seconds, 50),
            p90=percentile(seconds, 90),
            p95=percentile(seconds, 95),
            p99=percentile(seconds, 99),
        )


@dataclass(frozen=True)
class DayFigures:
    day: date
    filed: int
    outcomes: dict[str, int]
    release: Spread
    within: dict[str, float | None]
    stages: dict[str, Spread] = field(default_factory=dict)
    truncated: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "filed": self.filed,
            "outcomes": self.outcomes,
            "release_seconds": self.release.__dict__,
            "released_within": self.within,
            "stages": {name: spread.__dict__ for name, spread in self.stages.items()},
            "truncated": self.truncated,
        }


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _between(be: Mapping[str, Any], start: str, end: str) -> float | None:
    begin, finish = _instant(be.get(start)), _instant(be.get(end))
    if begin is None or finish is None:
        return None
    return max((finish - begin).total_seconds(), 0.0)


def day_figures(
    day: date, bills: Iterable[Mapping[str, Any]], *, truncated: bool = False
) -> DayFigures:
    """Counts by outcome and release times of the BEs filed on `day`, from be-intake's
    search summaries (bill-of-entry.search.v1)."""
    start, end = day_bounds(day)
    chosen = [
        be
        for be in bills
        if (seen := _instant(be.get("first_seen_at"))) is not None and start <= seen < end
    ]
    outcomes = {"cleared": 0, "held": 0, "rejected": 0, "in progress": 0}
    for be in chosen:
        outcomes[OUTCOMES.get(str(be.get("status")), "in progress")] += 1
    release = [
        seconds
        for be in chosen
        if (seconds := _between(be, "first_seen_at", "released_at")) is not None
    ]
    within = {
        label: (sum(1 for s in release if s <= limit) / len(release) if release else None)
        for label, limit in WITHIN
    }
    stages = {
        name: Spread.of([s for be in chosen if (s := _between(be, begin, end_)) is not None])
        for name, begin, end_ in STAGES
    }
    return DayFigures(
        day=day,
        filed=len(chosen),
        outcomes=outcomes,
        release=Spread.of(release),
        within=within,
        stages=stages,
        truncated=truncated,
    )
