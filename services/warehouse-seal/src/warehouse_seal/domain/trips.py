"""A seal trip: one sealed movement from its sealing to its trip report (pure aggregate).

- Reader scans at the origin and the destination. A TID that is not the sold
  seal's is a tamper (SEAL-LINK-1: the vendor captured the TID at the sale).
- Tampered on the way to a warehouse: no unloading, the bond officer is informed
  (SEAL-TAMPER-2); tampered on an export movement: mandatory examination at the
  customs station (SEAL-TAMPER-1).
- A clean scan at the destination completes the trip and makes the trip report,
  which discharges the acknowledgement of due arrival (SEAL-TRIP-1).
- Not arrived within the configured time: an inordinate-delay alert (SEAL-DELAY-1);
  no acknowledgement within one month of the sealing, or by the date the proper
  officer extended it to: the full duty with interest is demanded, fine and
  penalty flagged (SEAL-ACK-1).

The trip records what it causes in `events`; the service layer publishes them.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from clearance_domain import Money, PolicyRef, Reason

from warehouse_seal.domain.movements import Movement, Sealing
from warehouse_seal.domain.policy import InForce, SealCircular
from warehouse_seal.domain.seals import Refused, Sale

CUSTOMS_TIME = "%Y-%m-%d %H:%M"


class TripState(StrEnum):
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    TAMPERED = "tampered"


@dataclass(frozen=True, slots=True)
class Scan:
    """One read of the seal by a reader (the data of `reader.rfid-seal.scanned.v1`)."""

    seal_no: str
    tid: str
    reader_id: str
    location_code: str
    location_kind: str  # warehouse | customs_station
    scanned_at: datetime
    tampered: bool

    @classmethod
    def from_data(cls, data: Mapping[str, Any], seal_no: str, tid: str) -> Scan:
        return cls(
            seal_no=seal_no,
            tid=tid,
            reader_id=str(data["reader_id"]),
            location_code=str(data["location_code"]).strip().upper(),
            location_kind=str(data["location_kind"]),
            scanned_at=datetime.fromisoformat(str(data["scanned_at"])),
            tampered=data["tamper_status"] == "tampered",
        )


@dataclass(frozen=True, slots=True)
class ScanRecord:
    role: str  # origin | destination | en_route
    reader_id: str
    location_code: str
    scanned_at: datetime
    tampered: bool
    tid_matches: bool

    def to_data(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "reader_id": self.reader_id,
            "location_code": self.location_code,
            "scanned_at": self.scanned_at.isoformat(),
            "tamper_status": "tampered" if self.tampered else "intact",
            "tid_matches": self.tid_matches,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ScanRecord:
        return cls(
            str(data["role"]),
            str(data["reader_id"]),
            str(data["location_code"]),
            datetime.fromisoformat(str(data["scanned_at"])),
            data["tamper_status"] == "tampered",
            bool(data["tid_matches"]),
        )


@dataclass(frozen=True, slots=True)
class AlertRaised:
    alert: str
    location: str
    reasons: tuple[Reason, ...]
    actions: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class DutyDemanded:
    duty: Money
    interest: Money
    interest_rate_percent: Decimal
    due_at: datetime
    reasons: tuple[Reason, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class TripCompleted:
    at: datetime


TripEvent = AlertRaised | DutyDemanded | TripCompleted


@dataclass(frozen=True, slots=True)
class Extension:
    extended_until: datetime
    reason: str
    officer: str
    at: datetime

    def to_data(self) -> dict[str, Any]:
        return {
            "extended_until": self.extended_until.isoformat(),
            "reason": self.reason,
            "officer": self.officer,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Extension:
        return cls(
            datetime.fromisoformat(str(data["extended_until"])),
            str(data["reason"]),
            str(data["officer"]),
            datetime.fromisoformat(str(data["at"])),
        )


def add_months(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months later (the 31st becomes the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _at(moment: datetime) -> str:
    return moment.strftime(CUSTOMS_TIME)


@dataclass
class Trip:
    sealing: Sealing
    policy: PolicyRef
    delay_due_at: datetime
    acknowledgement_period_due_at: datetime
    interest_rate_percent: Decimal
    delay_hours: float
    state: TripState = TripState.SEALED
    scans: list[ScanRecord] = field(default_factory=list)
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    delayed_at: datetime | None = None
    unloading_refused: bool = False
    examination_required: bool = False
    extension: Extension | None = None
    acknowledged_at: datetime | None = None
    duty_demanded_at: datetime | None = None
    alerts: list[tuple[str, str, datetime]] = field(default_factory=list)
    findings: list[Reason] = field(default_factory=list)
    report: dict[str, Any] | None = None
    events: list[TripEvent] = field(default_factory=list, compare=False)

    @classmethod
    def seal(cls, sealing: Sealing, sale: Sale | None, circular: InForce[SealCircular]) -> Trip:
        """SEAL-DATA-1..3, SEAL-LINK-1: a trip starts at its sealing; the delay and the
        acknowledgement deadlines run from it."""
        rules = circular.body
        trip = cls(
            sealing=sealing,
            policy=circular.ref,
            delay_due_at=sealing.sealed_at + timedelta(hours=rules.inordinate_delay_hours),
            acknowledgement_period_due_at=add_months(
                sealing.sealed_at, rules.acknowledgement_period_months
            ),
            interest_rate_percent=rules.interest_rate_percent,
            delay_hours=rules.inordinate_delay_hours,
        )
        trip.findings.extend(link_findings(sealing, sale, circular.ref))
        return trip

    @property
    def seal_no(self) -> str:
        return self.sealing.seal_no

    @property
    def acknowledgement_due_at(self) -> datetime:
        if self.extension is not None:
            return self.extension.extended_until
        return self.acknowledgement_period_due_at

    @property
    def open(self) -> bool:
        """Not arrived cleanly and not tampered: still on its way."""
        return self.state in (TripState.SEALED, TripState.IN_TRANSIT)

    @property
    def delayed(self) -> bool:
        return self.delayed_at is not None and self.open

    def _reason(self, rule_id: str, message: str) -> Reason:
        return Reason.of(rule_id, message, policy=self.policy)

    def _raise(
        self, alert: str, location: str, reasons: list[Reason], actions: list[str], at: datetime
    ) -> None:
        if any(kind == alert for kind, _, _ in self.alerts):
            return  # one alert of a kind per trip
        self.alerts.append((alert, location, at))
        self.events.append(AlertRaised(alert, location, tuple(reasons), tuple(actions), at))

    def role_of(self, location_code: str) -> str:
        if location_code == self.sealing.destination:
            return "destination"
        if location_code == self.sealing.origin:
            return "origin"
        return "en_route"

    def scan(self, scan: Scan, sale: Sale | None, now: datetime) -> None:
        """SEAL-LINK-1, SEAL-TAMPER-1, SEAL-TAMPER-2, SEAL-TRIP-1: take a reader's scan."""
        role = self.role_of(scan.location_code)
        tid_matches = sale is not None and sale.tid == scan.tid
        self.scans.append(
            ScanRecord(
                role,
                scan.reader_id,
                scan.location_code,
                scan.scanned_at,
                scan.tampered,
                tid_matches,
            )
        )
        where = f"{scan.location_code} (reader {scan.reader_id}, {_at(scan.scanned_at)})"
        if sale is not None and not tid_matches:
            self._tampered(
                scan,
                now,
                self._reason(
                    "SEAL-LINK-1",
                    f"seal {self.seal_no} read at {where} with TID {scan.tid}, not the TID "
                    f"{sale.tid} of the seal sold: a substituted or tampered seal",
                ),
                tid_mismatch=True,
            )
        elif scan.tampered:
            self._tampered(scan, now, None, tid_mismatch=False)
        elif sale is None:
            self.findings.append(
                self._reason(
                    "SEAL-LINK-1",
                    f"seal {self.seal_no} read at {where}: no vendor's sale record to match "
                    "its TID against; the trip cannot be completed on it",
                )
            )
        elif self.state is TripState.SEALED and role == "origin":
            self.state, self.departed_at = TripState.IN_TRANSIT, scan.scanned_at
        elif self.open and role == "destination":
            self._arrive(scan, sale, now)

    def _tampered(
        self, scan: Scan, now: datetime, cause: Reason | None, *, tid_mismatch: bool
    ) -> None:
        self.state = TripState.TAMPERED
        export = self.sealing.movement is Movement.FOR_EXPORT
        wanted = {"tid_mismatch"} if tid_mismatch else set()
        if export or not tid_mismatch:
            wanted.add("tamper_at_export" if export else "tamper_at_warehouse")
        if wanted <= {kind for kind, _, _ in self.alerts}:
            return  # found again: already alerted
        where = f"{scan.location_code} (reader {scan.reader_id}, {_at(scan.scanned_at)})"
        what = "with a TID not its own" if tid_mismatch else "tampered"
        if export:
            self.examination_required = True
            consequence = self._reason(
                "SEAL-TAMPER-1",
                f"seal {self.seal_no} of the export under {self.sealing.document.label()} read "
                f"{what} at {where}: the goods are to be examined (mandatory examination)",
            )
            actions = ["examination_required"]
        else:
            self.unloading_refused = True
            consequence = self._reason(
                "SEAL-TAMPER-2",
                f"seal {self.seal_no} read {what} at {where} on the way to warehouse "
                f"{self.sealing.destination}: the licensee shall not permit unloading; the "
                "bond officer is informed",
            )
            actions = ["unloading_refused", "bond_officer_informed"]
        reasons = [cause, consequence] if cause is not None else [consequence]
        self.findings.extend(reasons)
        for kind in sorted(wanted, key=lambda k: k != "tid_mismatch"):
            self._raise(kind, scan.location_code, reasons, actions, now)

    def _arrive(self, scan: Scan, sale: Sale, now: datetime) -> None:
        """SEAL-TRIP-1: the trip report discharges the acknowledgement of due arrival."""
        self.state, self.arrived_at = TripState.ARRIVED, scan.scanned_at
        self.acknowledged_at = scan.scanned_at
        late = scan.scanned_at > self.acknowledgement_due_at
        message = (
            f"trip report: seal {self.seal_no} read intact at {self.sealing.destination} "
            f"on {_at(scan.scanned_at)} (sealed {_at(self.sealing.sealed_at)} at "
            f"{self.sealing.origin}); due arrival acknowledged"
        )
        if late:
            message += f", after the deadline of {_at(self.acknowledgement_due_at)}"
        reason = self._reason("SEAL-TRIP-1", message)
        self.findings.append(reason)
        self.report = self._report(sale, scan.scanned_at, late, now)
        self.events.append(TripCompleted(now))

    def _report(
        self, sale: Sale, arrived_at: datetime, late: bool, now: datetime
    ) -> dict[str, Any]:
        s = self.sealing
        departed = self.departed_at
        return {
            "report_no": f"TR-{s.seal_no.replace(' ', '')}-{arrived_at.strftime('%Y%m%d%H%M')}",
            "seal_no": s.seal_no,
            "tid": sale.tid,
            "vendor_brand": sale.vendor_brand,
            "movement": s.movement.value,
            "iec": s.iec,
            "document": s.document.label(),
            "origin": s.origin,
            "destination": s.destination,
            "sealed_at": s.sealed_at.isoformat(),
            "departed_at": None if departed is None else departed.isoformat(),
            "arrived_at": arrived_at.isoformat(),
            "container_no": s.container_no,
            "vehicle_no": s.vehicle_no,
            "scans": [record.to_data() for record in self.scans],
            "acknowledgement": {
                "due_at": self.acknowledgement_due_at.isoformat(),
                "discharged_at": arrived_at.isoformat(),
                "late": late,
            },
            "reasons": [r.to_data() for r in self.findings if r.rule_id == "SEAL-TRIP-1"],
            "generated_at": now.isoformat(),
        }

    def delay_elapsed(self, now: datetime) -> None:
        """SEAL-DELAY-1: not arrived within the configured time of its sealing."""
        if not self.open or self.delayed_at is not None:
            return
        self.delayed_at = now
        reason = self._reason(
            "SEAL-DELAY-1",
            f"seal {self.seal_no} ({self.sealing.document.label()}) sealed "
            f"{_at(self.sealing.sealed_at)} at {self.sealing.origin} has not arrived at "
            f"{self.sealing.destination} within {self.delay_hours:g} hours: inordinate delay; "
            "the bond officer and the customs station are alerted",
        )
        self.findings.append(reason)
        self._raise(
            "inordinate_delay", self.sealing.destination, [reason], ["bond_officer_informed"], now
        )

    def acknowledgement_overdue(self, now: datetime, duty: Money | None) -> None:
        """SEAL-ACK-1: no acknowledgement (trip report) by the deadline: the full duty
        with interest is demanded; fine and penalty are flagged for adjudication."""
        if self.acknowledged_at is not None or self.duty_demanded_at is not None:
            return
        if now < self.acknowledgement_due_at:
            return
        self.duty_demanded_at = now
        s = self.sealing
        days = max(0, (now - s.sealed_at).days)
        base = (
            f"no acknowledgement of due arrival of the goods sealed with {self.seal_no} "
            f"({s.document.label()}, sealed {_at(s.sealed_at)}) "
            f"by {_at(self.acknowledgement_due_at)}"
        )
        actions: list[str] = []
        if duty is not None and s.document.is_bill_of_entry:
            rate = self.interest_rate_percent
            interest = duty.times(rate * days / Decimal(36500))
            interest = Money(interest.amount.quantize(Decimal("0.01"), ROUND_HALF_UP))
            reason = self._reason(
                "SEAL-ACK-1",
                f"{base}: full duty of INR {duty.in_paise().amount:,} with interest at {rate}% "
                f"a year for {days} days (INR {interest.amount:,}); fine and penalty to be "
                "adjudged by the proper officer",
            )
            self.events.append(
                DutyDemanded(
                    duty.in_paise(), interest, rate, self.acknowledgement_due_at, (reason,), now
                )
            )
            actions.append("duty_demanded")
        elif s.document.is_bill_of_entry:
            reason = self._reason(
                "SEAL-ACK-1",
                f"{base}: the BE is not known here; the proper officer determines the duty",
            )
        else:
            reason = self._reason(
                "SEAL-ACK-1", f"{base}: the export's arrival at the customs station is unconfirmed"
            )
        self.findings.append(reason)
        self._raise("acknowledgement_overdue", s.destination, [reason], actions, now)

    def extend(self, until: datetime, reason: str, officer: str, now: datetime) -> None:
        """SEAL-ACK-1 'or as extended by the proper officer': a later deadline."""
        if self.acknowledged_at is not None:
            raise Refused([self._reason("SEAL-ACK-1", "the trip report already acknowledged it")])
        if self.duty_demanded_at is not None:
            raise Refused(
                [self._reason("SEAL-ACK-1", "the deadline passed and the duty was demanded")]
            )
        if until <= self.acknowledgement_due_at:
            raise Refused(
                [
                    self._reason(
                        "SEAL-ACK-1",
                        f"{until.isoformat()} is not later than the deadline in force, "
                        f"{self.acknowledgement_due_at.isoformat()}",
                    )
                ]
            )
        self.extension = Extension(until, reason, officer, now)

    def view(self) -> dict[str, Any]:
        """The trip as `seal-trip.v1` shows it."""
        s = self.sealing
        return {
            "state": self.state.value,
            "movement": s.movement.value,
            "iec": s.iec,
            "document": s.document.to_data(),
            "origin": s.origin,
            "destination": s.destination,
            "sealed_at": s.sealed_at.isoformat(),
            "container_no": s.container_no,
            "vehicle_no": s.vehicle_no,
            "departed_at": _iso(self.departed_at),
            "arrived_at": _iso(self.arrived_at),
            "delayed_at": _iso(self.delayed_at),
            "unloading_refused": self.unloading_refused,
            "examination_required": self.examination_required,
            "acknowledgement_due_at": self.acknowledgement_due_at.isoformat(),
            "acknowledgement_extension": None
            if self.extension is None
            else self.extension.to_data(),
            "acknowledged_at": _iso(self.acknowledged_at),
            "duty_demanded_at": _iso(self.duty_demanded_at),
            "alerts": [
                {"alert": a, "location": loc, "raised_at": at.isoformat()}
                for a, loc, at in self.alerts
            ],
            "scans": [record.to_data() for record in self.scans],
            "findings": [r.to_data() for r in self.findings],
            "policy": self.policy.to_data(),
            "report": self.report,
        }

    def to_data(self) -> dict[str, Any]:
        return {
            **self.view(),
            "sealing": self.sealing.to_data(),
            "delay_due_at": self.delay_due_at.isoformat(),
            "acknowledgement_period_due_at": self.acknowledgement_period_due_at.isoformat(),
            "interest_rate_percent": str(self.interest_rate_percent),
            "delay_hours": self.delay_hours,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Trip:
        extension = data.get("acknowledgement_extension")
        return cls(
            sealing=Sealing.from_data(data["sealing"]),
            policy=PolicyRef.from_data(data["policy"]),
            delay_due_at=datetime.fromisoformat(data["delay_due_at"]),
            acknowledgement_period_due_at=datetime.fromisoformat(
                data["acknowledgement_period_due_at"]
            ),
            interest_rate_percent=Decimal(data["interest_rate_percent"]),
            delay_hours=float(data["delay_hours"]),
            state=TripState(data["state"]),
            scans=[ScanRecord.from_data(s) for s in data["scans"]],
            departed_at=_instant(data["departed_at"]),
            arrived_at=_instant(data["arrived_at"]),
            delayed_at=_instant(data["delayed_at"]),
            unloading_refused=bool(data["unloading_refused"]),
            examination_required=bool(data["examination_required"]),
            extension=Extension.from_data(extension) if extension else None,
            acknowledged_at=_instant(data["acknowledged_at"]),
            duty_demanded_at=_instant(data["duty_demanded_at"]),
            alerts=[
                (a["alert"], a["location"], datetime.fromisoformat(a["raised_at"]))
                for a in data["alerts"]
            ],
            findings=[Reason.from_data(r) for r in data["findings"]],
            report=data.get("report"),
        )


def link_findings(sealing: Sealing, sale: Sale | None, policy: PolicyRef) -> list[Reason]:
    """SEAL-LINK-1: the seal should be linked to the warehouse of the movement."""
    if sale is None:
        return [
            Reason.of(
                "SEAL-LINK-1",
                f"seal {sealing.seal_no} was sealed with no vendor's sale record known yet",
                policy=policy,
            )
        ]
    if sale.warehouse_code != sealing.warehouse_linked:
        return [
            Reason.of(
                "SEAL-LINK-1",
                f"seal {sealing.seal_no} is linked to warehouse {sale.warehouse_code}, not to "
                f"{sealing.warehouse_linked} of this movement",
                policy=policy,
            )
        ]
    return []


def same_movement(trip: Trip, sealing: Sealing) -> bool:
    """The same sealing reported again (a re-sent event)."""
    return trip.sealing == replace(sealing)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))
