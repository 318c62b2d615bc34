"""What reaches be-intake, as typed work items: each consumed event, timer or officer's
request becomes one item, and a batch of items is processed together (`handlers.process`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from clearance_domain import BillOfEntryRef, Reason

Identity = tuple[str, str, date]


def identity_of(data: dict[str, Any]) -> Identity:
    return data["port_code"], data["be_no"], date.fromisoformat(data["be_date"])


@dataclass(frozen=True)
class Certificate:
    """aeo-directory.aeo-certificate.recorded.v1"""

    data: dict[str, Any]


@dataclass(frozen=True)
class Routing:
    """clearance.assessment-routing.published.v1 (rms-router's RMS-FAG-1 table)"""

    data: dict[str, Any]


@dataclass(frozen=True)
class Arrival:
    """icegate.igm.entered-inward.v1"""

    data: dict[str, Any]


@dataclass(frozen=True)
class FlatFile:
    """How a filing came as an ICES 1.5 flat file (issue 9): the HREC sender to answer
    (spec p. 9), the transport (http | inbox) and the file's name."""

    sender: str
    channel: str
    file_name: str


@dataclass(frozen=True)
class Filing:
    """icegate.bill-of-entry.filed.v1, POST /bills-of-entry, or an ICES flat file."""

    data: dict[str, Any]
    event_id: str
    service_centre: bool = False  # lodged at a service centre (INTAKE-TIME-1, 16:30 cut-off)
    flat_file: FlatFile | None = None  # a CACHI01: CHCAI04 / CHCAI07 go back to its sender

    @cached_property
    def identity(self) -> Identity:
        """Read once: a batch asks each filing for it many times (issue 18)."""
        return identity_of(self.data)


@dataclass(frozen=True)
class Amendment:
    """icegate.bill-of-entry.amendment-filed.v1 or POST .../amendments."""

    data: dict[str, Any]
    event_id: str

    @property
    def identity(self) -> Identity:
        return identity_of(self.data["bill_of_entry"])


@dataclass(frozen=True)
class Payment:
    """icegate.duty-payment.received.v1"""

    data: dict[str, Any]

    @property
    def identity(self) -> Identity:
        return identity_of(self.data)


@dataclass(frozen=True)
class Deferment:
    """icegate.deferred-payment.authenticated.v1"""

    data: dict[str, Any]

    @property
    def identity(self) -> Identity:
        return identity_of(self.data)


@dataclass(frozen=True)
class Fact:
    """A decision of another service about a BE version (the status view folds it)."""

    event_type: str
    producer: str
    data: dict[str, Any]
    ref: BillOfEntryRef

    @property
    def identity(self) -> Identity:
        return self.ref.identity


@dataclass(frozen=True)
class PriorEntryExpired:
    """Timer: INTAKE-PRIOR-1, day 31 after presentation."""

    identity: Identity


@dataclass(frozen=True)
class DeferredDutyDue:
    """Timer: INTAKE-DUTY-2, the due date of a deferred payment."""

    identity: Identity


@dataclass(frozen=True)
class Waiver:
    """An officer waives late presentation charges (INTAKE-LATE-2)."""

    identity: Identity
    officer: str
    reason: str


@dataclass(frozen=True)
class AmendmentDecision:
    """An officer approves or refuses a post-clearance amendment (INTAKE-AMEND-2)."""

    identity: Identity
    amendment_no: int
    approved: bool
    officer: str
    reason: str


Item = (
    Certificate
    | Routing
    | Arrival
    | Filing
    | Amendment
    | Payment
    | Deferment
    | Fact
    | PriorEntryExpired
    | DeferredDutyDue
    | Waiver
    | AmendmentDecision
)


@dataclass
class Result:
    """What became of a filing, an amendment or an officer's request."""

    # registered | duplicate | rejected | pending | approved | refused | waived |
    # refused_waiver | unknown
    outcome: str
    ref: BillOfEntryRef | None = None
    reasons: list[Reason] = field(default_factory=list)
