"""A BE as be-intake knows it: the aggregate that joins the facts of every party and
decides the BE's status (pure).

One case per BE identity. It exists as soon as anything is known about the BE
(a payment can come before the filing), is registered by the first valid
filing, and takes facts from their owners: the carrier's arrival, payments and
OTP authentications, the AEO certificate valid on the BE date, each service's
decisions per version, the officer's waivers and approvals. The filing's own
claims (AEO tier, duty paid, arrival) decide nothing. It records the events its
changes cause (notices on every status change, a payment recorded, the BE
invalidated, a version registered) for the unit of work to publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from clearance_domain import BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data

from be_intake.domain.status import Status

SELF_FILED = "SELFSUBMITCH001"  # ICES: the importer files directly (no Customs Broker)
_RMS_OFFICER_LANES = ("assessment", "scanning", "pga_noc", "first_check")


def filer_of(customs_broker_code: str | None, iec: str) -> str:
    """Who filed: the Customs Broker, or the importer (its IEC) filing directly."""
    if customs_broker_code and customs_broker_code != SELF_FILED:
        return customs_broker_code
    return iec


@dataclass(frozen=True, slots=True)
class Notice:
    """The BE's status changed (or an amendment was decided): tell the filer."""

    ref: BillOfEntryRef
    filer: str
    iec: str
    notice: Status
    status: Status
    previous: Status | None
    reasons: tuple[Reason, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class Invalidated:
    ref: BillOfEntryRef
    reasons: tuple[Reason, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRecorded:
    ref: BillOfEntryRef
    kind: str  # paid | deferred
    amount: Decimal
    mode: str
    reference: str
    total_paid: Decimal
    amount_due: Decimal
    due_date: date | None
    at: datetime


PROCESSED_BE = "CHCAI04"  # ICES 1.5 BE message format v2.23, p. 55
OUT_OF_CHARGE_BE = "CHCAI07"  # p. 56


@dataclass(frozen=True, slots=True)
class IcesMessage:
    """A message owed to the system of a broker who filed the BE as an ICES 1.5 flat file
    (issue 9): CHCAI04, the processed BE, when a version's assessment is complete (spec
    p. 55: "On completion of assessment ... ICES generates an assessed BE"), or CHCAI07, the
    out-of-charge BE, on Out of Charge (p. 56). `to` is the HREC sender of the filing (p. 9);
    `ooc` (CHCAI07): the Out of Charge's number, date (IST), mode and e-Gatepass."""

    ref: BillOfEntryRef
    message_id: str
    filer: str
    to: str
    channel: str
    at: datetime
    ooc: dict[str, Any] | None = None


CaseEvent = Notice | Invalidated | PaymentRecorded | IcesMessage


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class IntakeCase:
    port_code: str
    be_no: str
    be_date: date
    registered: bool = False
    version: int = 0
    filer: str | None = None
    iec: str | None = None
    be_type: str | None = None
    consigned_from: str | None = None
    transport: str | None = None  # ICES mode of transport L/S/A
    lodged_at: str | None = None
    presented_on: date | None = None
    aeo: dict[str, Any] | None = None
    aeo_claim: str | None = None
    igm_no: str | None = None
    igm_date: str | None = None
    master_bills: list[str] = field(default_factory=list)
    arrival: dict[str, Any] | None = None
    late: dict[str, Any] | None = None
    self_assessed_duty: Decimal = Decimal(0)
    assessed_duty: Decimal | None = None
    payments: list[dict[str, Any]] = field(default_factory=list)
    deferred: dict[str, Any] | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # of the current version
    ooc: dict[str, Any] | None = None
    gatepass_no: str | None = None
    exited_at: str | None = None
    invalidated: dict[str, Any] | None = None
    pending_amendment: dict[str, Any] | None = None
    amendments: int = 0
    rejections: int = 0
    status: Status | None = None
    # Filed as an ICES 1.5 flat file (issue 9): {sender (HREC, to answer), channel (http |
    # inbox), file_name, sent: {CHCAI04 | CHCAI07: what was sent, to send it again alike}};
    # None for a JSON filing, which gets no flat-file messages.
    ices: dict[str, Any] | None = None
    # The trace context of the filing: the events other parties' facts cause later (a
    # payment, an invalidation) continue the BE's one trace.
    trace: dict[str, str] | None = None
    events: list[CaseEvent] = field(default_factory=list)

    # -- identity --------------------------------------------------------------------

    @property
    def ref(self) -> BillOfEntryRef:
        return BillOfEntryRef(self.port_code, self.be_no, self.be_date, max(self.version, 1))

    @property
    def identity(self) -> tuple[str, str, date]:
        return self.port_code, self.be_no, self.be_date

    @property
    def home_consumption(self) -> bool:
        return self.be_type != "W"

    # -- money -----------------------------------------------------------------------

    @property
    def total_paid(self) -> Decimal:
        return sum((_dec(p["amount"]) for p in self.payments), Decimal(0))

    @property
    def late_charge(self) -> Decimal:
        if not self.late or self.late.get("waived"):
            return Decimal(0)
        return _dec(self.late["charge"])

    @property
    def duty(self) -> Decimal:
        """The duty payable before clearance: assessed, else self-assessed; none for a
        warehousing BE (deferred under the warehousing provisions, INTAKE-BE-2)."""
        if not self.home_consumption:
            return Decimal(0)
        return self.assessed_duty if self.assessed_duty is not None else self.self_assessed_duty

    @property
    def amount_due(self) -> Decimal:
        return self.duty + self.late_charge

    @property
    def settled(self) -> bool:
        """INTAKE-DUTY-1/-2: paid in full, or the duty deferred by OTP (charges paid)."""
        if self.deferred is not None:
            return self.total_paid >= self.late_charge
        return self.total_paid >= self.amount_due

    @property
    def assessed(self) -> bool:
        """Assessment complete: an officer assessed, or RMS accepted the self-assessment."""
        rms = self.facts.get("rms")
        return "assessment" in self.facts or bool(rms and not rms["selections"])

    # -- what happens to it ----------------------------------------------------------

    def register(
        self,
        *,
        version: int,
        filer: str,
        iec: str,
        be_type: str,
        consigned_from: str | None,
        transport: str,
        lodged_at: datetime,
        presented_on: date,
        aeo: dict[str, Any] | None,
        aeo_claim: str | None,
        igm: tuple[str, str] | None,
        master_bills: list[str],
        self_assessed_duty: Decimal,
        at: datetime,
        reasons: tuple[Reason, ...] = (),
    ) -> None:
        """INTAKE-BE-1: the filing is registered as version 1 (or an amendment as the next
        version, `amend`); facts of an earlier version stop counting."""
        first = not self.registered
        self.registered = True
        self.version = version
        self.filer, self.iec, self.be_type = filer, iec, be_type
        self.consigned_from, self.transport = consigned_from, transport
        if first:
            self.lodged_at = lodged_at.isoformat()
            self.presented_on = presented_on
        self.aeo, self.aeo_claim = aeo, aeo_claim
        self.igm_no, self.igm_date = igm if igm else (None, None)
        self.master_bills = master_bills
        self.self_assessed_duty = self_assessed_duty
        self.facts = {}
        self.refresh(at, reasons)

    def propose_amendment(self, amendment: dict[str, Any], at: datetime) -> None:
        """INTAKE-AMEND-2: after Out of Charge an amendment waits for an officer."""
        self.pending_amendment = amendment
        self.refresh(at, (Reason.of("INTAKE-AMEND-2", "amendment sent to the proper officer"),))

    def decide_amendment(self, approved: bool, at: datetime, reasons: tuple[Reason, ...]) -> None:
        self.pending_amendment = None
        if approved:
            return  # registered as the next version by the caller (`register`)
        self.refresh(at, reasons)
        self._notice(Status.REJECTED, at, reasons)

    def amendment_accepted(self, at: datetime, reasons: tuple[Reason, ...]) -> None:
        """INTAKE-AMEND-1: tell the filer even when the status stays (after clearance)."""
        self.amendments += 1
        if self.status is not Status.AMENDMENT_ACCEPTED:
            self._notice(Status.AMENDMENT_ACCEPTED, at, reasons)

    def reject(self, at: datetime, reasons: tuple[Reason, ...]) -> None:
        """A filing or an amendment refused: the filer hears of it; a registered BE stays."""
        self.rejections += 1
        if not self.registered:
            self.refresh(at, reasons)
        else:
            self._notice(Status.REJECTED, at, reasons)

    def record_arrival(self, arrival: dict[str, Any]) -> bool:
        """The carrier's arrival (IGM entered inward); False when it was known already."""
        if self.arrival == arrival:
            return False
        self.arrival = arrival
        return True

    def record_lateness(self, late: dict[str, Any] | None) -> None:
        waived = (self.late or {}).get("waived")
        self.late = None if late is None else {**late, "waived": waived}

    def waive_late_charges(self, officer: str, reason: str, at: datetime) -> None:
        """INTAKE-LATE-2: the proper officer waives the charges for sufficient cause."""
        if not self.late or not self.late.get("days_late"):
            raise ValueError("no late presentation charges to waive")
        if self.late.get("waived"):
            raise ValueError("the late presentation charges are already waived")
        self.late["waived"] = {"officer_id": officer, "reason": reason, "at": at.isoformat()}
        message = f"late presentation charges waived by {officer} for sufficient cause: {reason}"
        self.refresh(at, (Reason.of("INTAKE-LATE-2", message),))

    def record_payment(self, payment: dict[str, Any], at: datetime) -> bool:
        """INTAKE-DUTY-1: a payment the bank or ledger reported; False if known already."""
        if any(p["reference"] == payment["reference"] for p in self.payments):
            return False
        self.payments.append(payment)
        if self.registered:
            self._payment_event(payment, at)
            self.refresh(at, ())
        return True

    def record_deferment(self, deferment: dict[str, Any], at: datetime) -> None:
        """INTAKE-DUTY-2: deferred payment authenticated by OTP (an AEO T2/T3 importer)."""
        self.deferred = deferment
        if self.registered:
            self._payment_event({**deferment, "kind": "deferred", "mode": "deferred_otp"}, at)
            self.refresh(at, ())

    def announce_pending_payments(self, at: datetime) -> None:
        """Payments that came before the filing are recorded once it is registered."""
        for payment in self.payments:
            self._payment_event(payment, at)
        if self.deferred is not None:
            self._payment_event({**self.deferred, "kind": "deferred", "mode": "deferred_otp"}, at)

    def _payment_event(self, payment: dict[str, Any], at: datetime) -> None:
        due = payment.get("due_date")
        self.events.append(
            PaymentRecorded(
                ref=self.ref,
                kind=payment.get("kind", "paid"),
                amount=_dec(payment["amount"]),
                mode=payment["mode"],
                reference=payment["reference"],
                total_paid=self.total_paid,
                amount_due=self.amount_due,
                due_date=None if due is None else date.fromisoformat(due),
                at=at,
            )
        )

    def record_fact(self, name: str, version: int, data: dict[str, Any], at: datetime) -> bool:
        """A decision of another service about a version; False when it is about an older
        version than the current one (stale: it stays in the timeline only)."""
        if version < self.version:
            return False
        self.facts[name] = data
        if name == "assessment":
            self.assessed_duty = _dec(data["assessed_duty"])
        self.refresh(at, tuple(Reason.from_data(r) for r in data.get("reasons", ())))
        return True

    def record_out_of_charge(
        self,
        version: int,
        number: str,
        gatepass_no: str | None,
        at: datetime,
        reasons: tuple[Reason, ...],
        *,
        mode: str = "",
        issued_on: date | None = None,
    ) -> None:
        """Out of Charge stands whatever comes after (INTAKE-AMEND-2). `mode` and
        `issued_on` (the customs day it was issued) are what CHCAI07 tells the filer."""
        if self.ooc is None:
            self.ooc = {"no": number, "version": version, "on": at.date().isoformat()}
            if mode:
                self.ooc["mode"] = mode
            if issued_on is not None:
                self.ooc["issued_on"] = issued_on.isoformat()
        self.gatepass_no = self.gatepass_no or gatepass_no
        self.refresh(at, reasons)

    def record_gate_out(self, exited_at: datetime) -> None:
        self.exited_at = exited_at.isoformat()
        self.refresh(exited_at, ())

    def invalidate(self, at: datetime, reasons: tuple[Reason, ...]) -> bool:
        """INTAKE-PRIOR-1: never after Out of Charge, never twice."""
        if self.invalidated is not None or self.ooc is not None or not self.registered:
            return False
        self.invalidated = {"at": at.isoformat(), "reasons": reasons_data(list(reasons))}
        self.events.append(Invalidated(self.ref, reasons, at))
        self.refresh(at, reasons)
        return True

    # -- status ----------------------------------------------------------------------

    def derive_status(self) -> Status | None:
        """The BE's status, the first that applies (README, "Statuses")."""
        if not self.registered:
            return Status.REJECTED if self.rejections else None
        if self.invalidated is not None:
            return Status.INVALIDATED
        if self.pending_amendment is not None:
            return Status.DOCUMENTS_REQUESTED
        if self.exited_at is not None:
            return Status.GOODS_EXITED
        if self.gatepass_no is not None:
            return Status.GATEPASS_ISSUED
        if self.ooc is not None:
            return Status.RELEASED
        if "bis_pending" in self.facts and "bis" not in self.facts:
            return Status.BIS_VERIFICATION_PENDING
        rms = self.facts.get("rms")
        selections = rms["selections"] if rms else []
        if "examination" in selections and "examination" not in self.facts:
            return Status.EXAMINATION_ORDERED
        if "held" in self.facts:
            return Status.UNDER_CONTROL
        if any(lane in selections for lane in _RMS_OFFICER_LANES) and not self.assessed:
            return Status.UNDER_CONTROL
        owing = self.amount_due > 0
        if owing and self.settled:
            return Status.PAID
        if self.assessed:
            return Status.DUTY_DUE if owing and not self.settled else Status.ASSESSED
        if self.version > 1:
            return Status.AMENDMENT_ACCEPTED
        return Status.ACCEPTED

    def refresh(self, at: datetime, reasons: tuple[Reason, ...]) -> None:
        """Re-derive the status; a change is a notice to the filer (and, for a BE filed as
        a flat file, the ICES messages it has become due)."""
        status = self.derive_status()
        if status is not None and status != self.status:
            self._notice(status, at, reasons, new_status=status)
        if self.ices is not None:
            self._ices_messages(at)

    # -- ICES 1.5 flat-file messages (issue 9) ----------------------------------------

    def filed_as_flat_file(self, sender: str, channel: str, file_name: str) -> None:
        """The BE came as a CACHI01 flat file (spec p. 12): answer its sender in kind."""
        self.ices = {"sender": sender, "channel": channel, "file_name": file_name, "sent": {}}

    def _ices_messages(self, at: datetime) -> None:
        """CHCAI04 once per version, when its assessment is complete (`assessed`: an
        officer's assessment, or RMS accepted the self-assessment, OOC-AUTO-1; spec p. 55);
        CHCAI07 once, on Out of Charge (p. 56). Out of Charge presupposes the assessment
        (OOC-AUTO-1, OOC-EXAM-1): a version put out of charge without its CHCAI04 (the
        assessment's fact not seen, e.g. RMS chose examination only) gets it first. Nothing
        for an invalidated BE (INTAKE-PRIOR-1) or before registration."""
        assert self.ices is not None
        if not self.registered or self.invalidated is not None:
            return
        sent: dict[str, Any] = self.ices.setdefault("sent", {})

        def processed() -> int:
            return int(sent.get(PROCESSED_BE, {}).get("version", 0))

        if self.assessed and processed() < self.version:
            sent[PROCESSED_BE] = {
                "version": self.version,
                "at": at.isoformat(),
                "filer": self.filer,
            }
            self.events.append(self._ices_message(PROCESSED_BE))
        if self.ooc is not None and OUT_OF_CHARGE_BE not in sent:
            version = int(self.ooc["version"])
            if processed() < version:
                sent[PROCESSED_BE] = {"version": version, "at": at.isoformat(), "filer": self.filer}
                self.events.append(self._ices_message(PROCESSED_BE))
            sent[OUT_OF_CHARGE_BE] = {
                "version": version,
                "at": at.isoformat(),
                "filer": self.filer,
                "ooc_no": self.ooc["no"],
                "ooc_date": self.ooc.get("issued_on") or self.ooc["on"],
                "mode": self.ooc.get("mode", ""),
                "gatepass_no": self.gatepass_no,
            }
            self.events.append(self._ices_message(OUT_OF_CHARGE_BE))

    def ices_message(self, message_id: str) -> IcesMessage | None:
        """The latest CHCAI04 / CHCAI07 sent for this BE, as it was sent; None when the BE
        was not filed as a flat file or the facts for the message do not exist yet."""
        if self.ices is None or message_id not in self.ices.get("sent", {}):
            return None
        return self._ices_message(message_id)

    def _ices_message(self, message_id: str) -> IcesMessage:
        assert self.ices is not None
        record = self.ices["sent"][message_id]
        ref = BillOfEntryRef(self.port_code, self.be_no, self.be_date, int(record["version"]))
        ooc = None
        if message_id == OUT_OF_CHARGE_BE:
            keys = ("ooc_no", "ooc_date", "mode", "gatepass_no")
            ooc = {k: record.get(k) for k in keys}
        return IcesMessage(
            ref=ref,
            message_id=message_id,
            filer=record.get("filer") or self.filer or "",
            to=self.ices["sender"],
            channel=self.ices["channel"],
            at=datetime.fromisoformat(record["at"]),
            ooc=ooc,
        )

    def _notice(
        self,
        notice: Status,
        at: datetime,
        reasons: tuple[Reason, ...],
        new_status: Status | None = None,
    ) -> None:
        previous = self.status
        status = new_status or self.status or notice
        self.status = status
        self.events.append(
            Notice(
                ref=self.ref,
                filer=self.filer or "",
                iec=self.iec or "",
                notice=notice,
                status=status,
                previous=previous,
                reasons=reasons,
                at=at,
            )
        )

    # -- storage ---------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "version": self.version,
            "filer": self.filer,
            "iec": self.iec,
            "be_type": self.be_type,
            "consigned_from": self.consigned_from,
            "transport": self.transport,
            "lodged_at": self.lodged_at,
            "presented_on": None if self.presented_on is None else self.presented_on.isoformat(),
            "aeo": self.aeo,
            "aeo_claim": self.aeo_claim,
            "igm_no": self.igm_no,
            "igm_date": self.igm_date,
            "master_bills": self.master_bills,
            "arrival": self.arrival,
            "late": self.late,
            "self_assessed_duty": str(self.self_assessed_duty),
            "assessed_duty": None if self.assessed_duty is None else str(self.assessed_duty),
            "payments": self.payments,
            "deferred": self.deferred,
            "facts": self.facts,
            "ooc": self.ooc,
            "gatepass_no": self.gatepass_no,
            "exited_at": self.exited_at,
            "invalidated": self.invalidated,
            "pending_amendment": self.pending_amendment,
            "amendments": self.amendments,
            "rejections": self.rejections,
            "status": None if self.status is None else self.status.value,
            "ices": self.ices,
            "trace": self.trace,
        }

    @classmethod
    def from_data(cls, identity: tuple[str, str, date], data: dict[str, Any]) -> IntakeCase:
        presented = data.get("presented_on")
        assessed = data.get("assessed_duty")
        status = data.get("status")
        return cls(
            identity[0],
            identity[1],
            identity[2],
            registered=data["registered"],
            version=data["version"],
            filer=data.get("filer"),
            iec=data.get("iec"),
            be_type=data.get("be_type"),
            consigned_from=data.get("consigned_from"),
            transport=data.get("transport"),
            lodged_at=data.get("lodged_at"),
            presented_on=None if presented is None else date.fromisoformat(presented),
            aeo=data.get("aeo"),
            aeo_claim=data.get("aeo_claim"),
            igm_no=data.get("igm_no"),
            igm_date=data.get("igm_date"),
            master_bills=list(data.get("master_bills") or ()),
            arrival=data.get("arrival"),
            late=data.get("late"),
            self_assessed_duty=_dec(data.get("self_assessed_duty", "0")),
            assessed_duty=None if assessed is None else _dec(assessed),
            payments=list(data.get("payments") or ()),
            deferred=data.get("deferred"),
            facts=dict(data.get("facts") or {}),
            ooc=data.get("ooc"),
            gatepass_no=data.get("gatepass_no"),
            exited_at=data.get("exited_at"),
            invalidated=data.get("invalidated"),
            pending_amendment=data.get("pending_amendment"),
            amendments=int(data.get("amendments", 0)),
            rejections=int(data.get("rejections", 0)),
            status=None if status is None else Status(status),
            ices=data.get("ices"),
            trace=data.get("trace"),
        )
