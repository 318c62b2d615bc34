"""The one source of "now" for rules, timers and deadlines: injected, never `datetime.now()`.

Services run on `SystemClock`. Tests and replays use `ControllableClock`: frozen
at an instant (unit tests), or running with an offset that an operator moves
(a service process under test, `CLEARANCE_CLOCK_CONTROL=true`), so a test moves
time by a month in a second and the timers due in that month fire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Indian Customs keeps its days, cut-offs and deadlines in Indian Standard Time.
CUSTOMS_TIMEZONE = ZoneInfo("Asia/Kolkata")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ControllableClock:
    """Frozen at an instant (`frozen=True`), or the system time plus an offset.

    `advance` and `set` move it; listeners (the timer worker) are told, so work
    that fell due in the skipped time runs at once.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = True) -> None:
        real = datetime.now(UTC)
        self._frozen_at: datetime | None = (start or real) if frozen else None
        self._offset = timedelta(0) if frozen or start is None else start - real
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far ahead of (or behind) the system clock it runs."""
        return self.now() - datetime.now(UTC)

    def advance(self, delta: timedelta) -> datetime:
        if self._frozen_at is not None:
            self._frozen_at += delta
        else:
            self._offset += delta
        self._changed()
        return self.now()

    def set(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("the clock is set to an aware instant")
        return self.advance(instant - self.now())

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Indian Standard Time."""
    return datetime.combine(day, time(0), tzinfo=CUSTOMS_TIMEZONE)


def instant_of(moment: date | datetime) -> datetime:
    """An aware instant: a date means the start of that day in IST."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError(f"{moment!r} has no timezone")
        return moment
    return start_of_day(moment)
