"""In-memory stand-ins for unit tests of handlers: no PostgreSQL, no Kafka.

In the manner of cosmicpython's `FakeUnitOfWork`: a service's fake unit of work
subclasses `FakeUnitOfWork` and adds fake repositories; a test calls a handler
with it, `await uow.commit()`, then reads what was published, scheduled and
asked to be delivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearance_runtime.clock import Clock, ControllableClock
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.unit_of_work import BaseUnitOfWork


@dataclass
class FakeTimer:
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    cancelled: bool = False


@dataclass(frozen=True)
class FakeDelivery:
    delivery_id: str
    destination: str
    kind: str
    payload: dict[str, Any]


class FakeUnitOfWork(BaseUnitOfWork):
    """Publishes, schedules and delivers into lists; `commit()` runs the
    once-per-batch steps and collects aggregates' events as the real one does."""

    def __init__(
        self,
        clock: Clock | None = None,
        render_events: Callable[[Any, Any], None] | None = None,
        source: str = "/clearance/test",
    ) -> None:
        super().__init__(source, clock or ControllableClock(), render_events)
        self.published: list[CloudEvent] = []
        self.topics: list[str] = []
        self.timers: dict[tuple[str, str], FakeTimer] = {}
        self.deliveries: list[FakeDelivery] = []
        self.commits = 0

    def schedule(
        self, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> None:
        self.timers[kind, key] = FakeTimer(kind, key, due_at, dict(payload or {}))

    def cancel(self, kind: str, key: str) -> None:
        if (kind, key) in self.timers:
            self.timers[kind, key].cancelled = True

    def deliver(
        self,
        destination: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str | None = None,
    ) -> str:
        delivery_id = delivery_id or str(uuid.uuid4())
        if all(d.delivery_id != delivery_id for d in self.deliveries):
            self.deliveries.append(FakeDelivery(delivery_id, destination, kind, dict(payload)))
        return delivery_id

    async def commit(self) -> None:
        await self._run_steps()
        self._collect_events()
        for topic, event in self._pending:
            self.topics.append(topic)
            self.published.append(event)
        self._pending.clear()
        self.commits += 1

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        """The data of every committed event of a type, in order."""
        return [event.data for event in self.published if event.type == event_type]

    def pending_timers(self) -> list[FakeTimer]:
        return [timer for timer in self.timers.values() if not timer.cancelled]


def event(event_type: str, data: dict[str, Any], subject: str | None = None) -> CloudEvent:
    """A consumed event for a handler test (subject defaults to the data's BE key)."""
    from clearance_contracts import event_key

    return CloudEvent.new(event_type, "/test", subject or event_key(event_type, data), data)
