"""The seal verdict on a warehousing BE version, for its Out of Charge (pure).

OOC-WH-1 / SEAL-LINK-1: the warehouse code declared on the BE must be the one
the vendor linked each declared seal to at its sale (Circular 19/2018 para
4.5(g)). The verdict comes once both the BE and the seals' sales are known,
whatever their order: until then the version is awaiting (no verdict), and
after the configured wait a seal still without a sale record is a mismatch.
What the trips showed meanwhile is part of the verdict: a tampered seal
(SEAL-TAMPER-2), an inordinate delay (SEAL-DELAY-1), the trip report
(SEAL-TRIP-1). A seal used for another document is a reuse (SEAL-FMT-1: a
one-time-lock with a unique number). A BE exempt from RFID sealing
(SEAL-EXEMPT-1), or dated before the circular came into force
(SEAL-POLICY-1), is `exempt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clearance_domain import BillOfEntry, BillOfEntryRef, Identity, Money, Reason

from warehouse_seal.domain.movements import Exemption, Movement
from warehouse_seal.domain.policy import InForce, SealCircular
from warehouse_seal.domain.seals import Sale, format_reason, seal_number
from warehouse_seal.domain.trips import Trip, TripState

OUTCOMES = ("matched", "mismatched", "tampered", "delayed", "exempt")


def needs_seal(bill_of_entry: BillOfEntry) -> bool:
    """Only warehousing BEs move under an RFID one-time-lock seal."""
    return bill_of_entry.is_warehousing


@dataclass(frozen=True, slots=True)
class DeclaredSeal:
    """A seal as the BE declares it (ICES <TABLE>CONTAINER): as written, and in the
    form `ABCD 1234 5678` when it is one (SEAL-FMT-1)."""

    written: str
    seal_no: str | None
    container_no: str | None


@dataclass
class Bill:
    """What warehouse-seal keeps of a warehousing BE: its newest version's facts, an
    exemption, the verdicts published per version, and whether it waits for a sale."""

    ref: BillOfEntryRef
    warehouse_code: str
    iec: str
    seals: tuple[DeclaredSeal, ...]
    total_duty: Money
    published: dict[int, dict[str, Any]] = field(default_factory=dict)
    awaiting_since: datetime | None = None
    waited_out_version: int | None = None

    @property
    def key(self) -> str:
        return self.ref.key

    @property
    def identity(self) -> Identity:
        return self.ref.identity

    @classmethod
    def of(cls, ref: BillOfEntryRef, be: BillOfEntry, known: Bill | None) -> Bill:
        """The BE version's facts; what is kept about the BE itself carries over."""
        seals = tuple(
            DeclaredSeal(c.seal_no, seal_number(c.seal_no), c.container_no)
            for c in be.containers or ()
        )
        bill = cls(ref, be.warehouse_code or "", be.iec, seals, be.duty.total_duty)
        if known is not None:
            bill.published = known.published
        return bill

    @property
    def seal_numbers(self) -> list[str]:
        return [s.seal_no for s in self.seals if s.seal_no is not None]

    def to_data(self) -> dict[str, Any]:
        return {
            "ref": self.ref.to_data(),
            "warehouse_code": self.warehouse_code,
            "iec": self.iec,
            "seals": [[s.written, s.seal_no, s.container_no] for s in self.seals],
            "total_duty": str(self.total_duty.amount),
            "published": {str(v): p for v, p in self.published.items()},
            "awaiting_since": None
            if self.awaiting_since is None
            else self.awaiting_since.isoformat(),
            "waited_out_version": self.waited_out_version,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Bill:
        since = data.get("awaiting_since")
        return cls(
            ref=BillOfEntryRef.from_data(data["ref"]),
            warehouse_code=str(data["warehouse_code"]),
            iec=str(data["iec"]),
            seals=tuple(DeclaredSeal(w, s, c) for w, s, c in data["seals"]),
            total_duty=Money.rupees(data["total_duty"]),
            published={int(v): p for v, p in data.get("published", {}).items()},
            awaiting_since=None if since is None else datetime.fromisoformat(since),
            waited_out_version=data.get("waited_out_version"),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: str  # one of OUTCOMES
    findings: tuple[Reason, ...]

    def to_data(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "findings": [f.to_data() for f in self.findings]}


def reconcile(
    bill: Bill,
    circular: InForce[SealCircular] | None,
    sales: Mapping[str, Sale],
    trips: Mapping[str, Trip],
    claims: Mapping[str, str],
    exemption: Exemption | None = None,
) -> Verdict | None:
    """OOC-WH-1 on what is known of the BE's newest version: the verdict, or None
    while a declared seal's sale is still awaited. `claims` maps each seal to the
    key of the first BE that declared it; `trips` are the seals' sealed movements."""
    if circular is None or not circular.body.rfid_seal_required:
        return Verdict(
            "exempt",
            (
                Reason.of(
                    "SEAL-POLICY-1",
                    f"no RFID sealing rule was in force on the BE date {bill.ref.be_date}",
                ),
            ),
        )
    policy = circular.ref
    if exemption is not None:
        return Verdict("exempt", (exemption.reason(),))
    hard: list[Reason] = []
    info: list[Reason] = []
    tampered = delayed = awaiting = False

    def reason(rule_id: str, message: str) -> Reason:
        return Reason.of(rule_id, message, policy=policy)

    if not bill.seals:
        hard.append(reason("SEAL-DATA-1", "no RFID seal declared on the warehousing BE"))
    for declared in bill.seals:
        seal_no = declared.seal_no
        if seal_no is None:
            hard.append(format_reason(declared.written))
            continue
        claimant = claims.get(seal_no)
        if claimant is not None and claimant != bill.key:
            hard.append(
                reason(
                    "SEAL-FMT-1",
                    f"seal {seal_no} was already declared on BE {claimant}: a one-time-lock "
                    "is used once",
                )
            )
            continue
        trip = trips.get(seal_no)
        if trip is not None and trip.sealing.document.key != bill.key:
            hard.append(
                reason(
                    "SEAL-FMT-1",
                    f"seal {seal_no} was used for {trip.sealing.document.label()}: a "
                    "one-time-lock is used once",
                )
            )
            continue
        sale = sales.get(seal_no)
        if sale is None:
            if bill.waited_out_version == bill.ref.version:
                hard.append(
                    reason(
                        "SEAL-LINK-1",
                        f"no listed vendor's sale record of seal {seal_no}: its warehouse "
                        "cannot be matched",
                    )
                )
            else:
                awaiting = True
        elif sale.warehouse_code != bill.warehouse_code:
            hard.append(
                reason(
                    "SEAL-LINK-1",
                    f"seal {seal_no} is linked to warehouse {sale.warehouse_code}, not to "
                    f"{bill.warehouse_code} declared on the BE",
                )
            )
        else:
            info.append(
                reason(
                    "SEAL-LINK-1",
                    f"seal {seal_no} ({sale.vendor_brand}, TID {sale.tid}) is linked to "
                    f"warehouse {sale.warehouse_code}, the warehouse declared on the BE",
                )
            )
        if trip is not None:
            hard += _trip_mismatches(trip, bill, declared, policy)
            if trip.state is TripState.TAMPERED:
                tampered = True
                hard += [f for f in trip.findings if f.rule_id.startswith("SEAL-TAMPER")]
            elif trip.delayed:
                delayed = True
                hard += [f for f in trip.findings if f.rule_id == "SEAL-DELAY-1"]
            elif trip.state is TripState.ARRIVED:
                info += [f for f in trip.findings if f.rule_id == "SEAL-TRIP-1"]
    if tampered:
        return Verdict("tampered", tuple(hard))
    if awaiting and not hard:
        return None
    if any(not f.rule_id.startswith("SEAL-DELAY") for f in hard):
        return Verdict("mismatched", tuple(hard))
    if delayed:
        return Verdict("delayed", tuple(hard + info))
    return Verdict("matched", tuple(info))


def _trip_mismatches(trip: Trip, bill: Bill, declared: DeclaredSeal, policy: Any) -> list[Reason]:
    """SEAL-DATA-1: the sealing of the BE's seal agrees with the BE."""
    s = trip.sealing
    found: list[Reason] = []
    if s.movement is not Movement.TO_WAREHOUSE:
        return found
    if s.destination != bill.warehouse_code:
        found.append(
            Reason.of(
                "SEAL-DATA-1",
                f"seal {s.seal_no} was sealed for warehouse {s.destination}, not "
                f"{bill.warehouse_code} declared on the BE",
                policy=policy,
            )
        )
    if s.container_no and declared.container_no and s.container_no != declared.container_no:
        found.append(
            Reason.of(
                "SEAL-DATA-1",
                f"seal {s.seal_no} was sealed on container {s.container_no}, the BE declares "
                f"it on {declared.container_no}",
                policy=policy,
            )
        )
    if s.iec != bill.iec:
        found.append(
            Reason.of(
                "SEAL-DATA-1",
                f"seal {s.seal_no} was sealed for IEC {s.iec}, the BE is of {bill.iec}",
                policy=policy,
            )
        )
    return found


def circular_date(bill: Bill) -> date:
    """SEAL-POLICY-1: a BE's seals are judged by the circular in force on the BE date."""
    return bill.ref.be_date
