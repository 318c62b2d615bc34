"""One settlement per transaction: every fact of the batch about seals and warehousing
BEs, applied together, then each BE touched reconciled once.

Facts come in any order and on different partitions (a BE is keyed by its
identity, a seal's sale, sealing and scans by the seal number), so a
settlement first locks every seal and BE it touches (one sorted statement, so
concurrent transactions serialise without deadlock), reads their state once,
applies the facts (sales, then BEs, exemptions, sealings, scans, officers'
extensions, then timers that fell due), reconciles every BE whose facts changed
(OOC-WH-1) and publishes a verdict only when it differs from the one last
published for that version. Sales, sealings and scans that break a rule are
refused with reasons, kept per seal and shown over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clearance_contracts import (
    DUTY_DEMAND_RAISED,
    SEAL_TRIP_ALERT_RAISED,
    SEAL_TRIP_RECONCILED,
)
from clearance_domain import BillOfEntry, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.policies import PolicyBook
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from warehouse_seal.domain.movements import Exemption, Movement, sealing_from
from warehouse_seal.domain.reconciliation import Bill, reconcile
from warehouse_seal.domain.seals import Refused, Sale, register, sale_from, seal_number, tid_of
from warehouse_seal.domain.trips import (
    AlertRaised,
    DutyDemanded,
    Scan,
    Trip,
    TripCompleted,
    same_movement,
)
from warehouse_seal.service_layer.policies import SEAL_CIRCULAR, SEAL_VENDORS, in_force
from warehouse_seal.service_layer.unit_of_work import SealUnitOfWork

SERVICE = "warehouse-seal"
DELAY_TIMER = "seal-delay"
ACKNOWLEDGEMENT_TIMER = "seal-acknowledgement"
SALE_WAIT_TIMER = "seal-sale-wait"


@dataclass
class Outcome:
    """What became of a fact handed in (read by HTTP callers after the commit)."""

    outcome: str = "pending"  # recorded | duplicate | refused | stale | not_found
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class Fact:
    kind: str  # sold | registered | exemption | affixed | scanned | extension | timer
    data: Any
    outcome: Outcome = field(default_factory=Outcome)


_ORDER = ("sold", "registered", "exemption", "affixed", "scanned", "extension", "timer")


def _seal_of(text: Any) -> str | None:
    return seal_number(str(text)) if text is not None else None


class Settlement:
    def __init__(self, uow: SealUnitOfWork, policies: PolicyBook) -> None:
        self.uow = uow
        self.policies = policies
        self.now = uow.clock.now()
        self.sales: dict[str, Sale] = {}
        self.trips: dict[str, Trip] = {}
        self.claims: dict[str, str] = {}
        self.bills: dict[str, Bill] = {}
        self.exemptions: dict[str, Exemption] = {}
        self.touched_bills: dict[str, dict[str, str]] = {}  # key -> trace carrier
        self.dirty_trips: dict[str, dict[str, str]] = {}
        self.dirty_bills: set[str] = set()

    # -- reading -------------------------------------------------------------------------

    async def _load(self, seal_nos: Iterable[str], keys: Iterable[str]) -> None:
        seals = sorted({s for s in seal_nos if s not in self.trips or s not in self.sales})
        wanted = sorted({k for k in keys if k not in self.bills})
        records = self.uow.seals
        if seals:
            for seal_no, sale in (await records.sales(seals)).items():
                self.sales.setdefault(seal_no, sale)
            for seal_no, trip in (await records.trips(seals)).items():
                self.trips.setdefault(seal_no, trip)
            for seal_no, key in (await records.claims(seals)).items():
                self.claims.setdefault(seal_no, key)
        if wanted:
            for key, bill in (await records.bills(wanted)).items():
                self.bills.setdefault(key, bill)
            for key, exemption in (await records.exemptions(wanted)).items():
                self.exemptions.setdefault(key, exemption)

    async def settle(self, facts: list[tuple[Fact, dict[str, str]]]) -> None:
        facts = sorted(facts, key=lambda item: _ORDER.index(item[0].kind))
        seals, keys = self._subjects(facts)
        stored = await self.uow.seals.bills(sorted(keys))
        seals |= {s for bill in stored.values() for s in bill.seal_numbers}
        claimed = await self.uow.seals.claims(sorted(seals))
        keys |= set(claimed.values())
        await self.uow.seals.lock(sorted({f"seal:{s}" for s in seals} | {f"be:{k}" for k in keys}))
        keys |= await self._claimed_meanwhile(seals, keys)
        await self._load(seals, keys)
        for fact, carrier in facts:
            with continuing(carrier):
                await self._apply(fact, carrier)
        await self._reconcile_touched()
        self._save()

    async def _claimed_meanwhile(self, seals: set[str], keys: set[str]) -> set[str]:
        """The BEs that claimed one of these seals in a transaction that committed while this
        one waited for the seal's lock: read before the lock, their claims were not yet there,
        and a sale would leave such a BE awaiting it for ever (OOC-WH-1)."""
        late = {k for k in (await self.uow.seals.claims(sorted(seals))).values() if k not in keys}
        if late:
            await self.uow.seals.lock(sorted(f"be:{k}" for k in late))
        return late

    def _subjects(self, facts: list[tuple[Fact, dict[str, str]]]) -> tuple[set[str], set[str]]:
        seals: set[str] = set()
        keys: set[str] = set()
        for fact, _ in facts:
            data = fact.data
            if fact.kind in ("sold", "affixed", "scanned"):
                if seal_no := _seal_of(data.get("seal_no")):
                    seals.add(seal_no)
            elif fact.kind == "registered":
                ref, be = data
                keys.add(ref.key)
                seals.update(s for c in be.containers or () if (s := _seal_of(c.seal_no)))
            elif fact.kind == "exemption":
                keys.add(data[0])
            elif fact.kind == "extension":
                seals.add(data["seal_no"])
            elif fact.kind == "timer":
                timer_kind, timer_key, _ = data
                (keys if timer_kind == SALE_WAIT_TIMER else seals).add(timer_key)
        return seals, keys

    # -- applying ------------------------------------------------------------------------

    async def _apply(self, fact: Fact, carrier: dict[str, str]) -> None:
        handler = {
            "sold": self._sold,
            "registered": self._registered,
            "exemption": self._exemption,
            "affixed": self._affixed,
            "scanned": self._scanned,
            "extension": self._extension,
            "timer": self._timer,
        }[fact.kind]
        try:
            await handler(fact, carrier)
        except Refused as refused:
            fact.outcome = Outcome("refused", refused.reasons)
            seal_no = str(fact.data.get("seal_no", "")) if isinstance(fact.data, dict) else ""
            if fact.kind in ("sold", "affixed", "scanned") and seal_no:
                what = {"sold": "sale", "affixed": "sealing", "scanned": "scan"}[fact.kind]
                written = _seal_of(seal_no) or seal_no.strip()[:20]
                self.uow.seals.add_refusal(written, what, refused.reasons, fact.data, self.now)
            DECISIONS.labels(SERVICE, fact.kind, "refused").inc()

    async def _sold(self, fact: Fact, carrier: dict[str, str]) -> None:
        """SEAL-FMT-1, SEAL-LINK-1: a vendor's sale into the registry."""
        sold_at = datetime.fromisoformat(str(fact.data["sold_at"]))
        sale = sale_from(fact.data, in_force(self.policies, SEAL_VENDORS, sold_at))
        if not register(sale, self.sales.get(sale.seal_no)):
            fact.outcome = Outcome("duplicate")
            return
        self.sales[sale.seal_no] = sale
        self.uow.seals.add_sale(sale)
        fact.outcome = Outcome("recorded")
        self._touch_seal(sale.seal_no, carrier)
        DECISIONS.labels(SERVICE, "sale", "recorded").inc()

    async def _registered(self, fact: Fact, carrier: dict[str, str]) -> None:
        ref, be = fact.data
        known = self.bills.get(ref.key)
        if known is not None and ref.version < known.ref.version:
            fact.outcome = Outcome("stale")
            DECISIONS.labels(SERVICE, "seal", "stale").inc()
            return
        if known is not None and ref.version == known.ref.version:
            fact.outcome = Outcome("duplicate")
            return
        bill = Bill.of(ref, be, known)
        self.bills[ref.key] = bill
        self.dirty_bills.add(ref.key)
        for seal_no in bill.seal_numbers:
            if seal_no not in self.claims:
                self.claims[seal_no] = ref.key
                self.uow.seals.add_claim(seal_no, ref.key)
        await self._load(bill.seal_numbers, ())
        self.touched_bills[ref.key] = carrier
        fact.outcome = Outcome("recorded")

    async def _exemption(self, fact: Fact, carrier: dict[str, str]) -> None:
        """SEAL-EXEMPT-1: the officer records an exempt movement for a BE."""
        key, exemption = fact.data
        circular = in_force(self.policies, SEAL_CIRCULAR, BillOfEntryRef.from_key(key).be_date)
        if circular is not None and exemption.ground not in circular.body.exemption_grounds:
            raise Refused([Reason.of("SEAL-EXEMPT-1", f"{exemption.ground} is not a ground")])
        self.exemptions[key] = exemption
        self.uow.seals.save_exemption(key, exemption)
        self.touched_bills[key] = carrier
        fact.outcome = Outcome("recorded")

    async def _affixed(self, fact: Fact, carrier: dict[str, str]) -> None:
        """SEAL-DATA-1..3, SEAL-FMT-1 (single use): a sealed movement becomes a trip."""
        sealing = sealing_from(fact.data)
        circular = in_force(self.policies, SEAL_CIRCULAR, sealing.sealed_at)
        if circular is None:
            raise Refused(
                [
                    Reason.of(
                        "SEAL-POLICY-1", f"no RFID sealing rule in force on {sealing.sealed_at}"
                    )
                ]
            )
        known = self.trips.get(sealing.seal_no)
        if known is not None:
            if same_movement(known, sealing):
                fact.outcome = Outcome("duplicate")
                return
            raise Refused(
                [
                    Reason.of(
                        "SEAL-FMT-1",
                        f"seal {sealing.seal_no} already sealed {known.sealing.document.label()} "
                        f"on {known.sealing.sealed_at.isoformat()}: a one-time-lock is used once",
                        policy=circular.ref,
                    )
                ]
            )
        claimant = self.claims.get(sealing.seal_no)
        if sealing.document.is_bill_of_entry and claimant not in (None, sealing.document.key):
            raise Refused(
                [
                    Reason.of(
                        "SEAL-FMT-1",
                        f"seal {sealing.seal_no} is declared on BE {claimant}, not on "
                        f"{sealing.document.key}: a one-time-lock is used once",
                        policy=circular.ref,
                    )
                ]
            )
        trip = Trip.seal(sealing, self.sales.get(sealing.seal_no), circular)
        self.trips[sealing.seal_no] = trip
        self.uow.schedule(DELAY_TIMER, sealing.seal_no, trip.delay_due_at)
        self.uow.schedule(ACKNOWLEDGEMENT_TIMER, sealing.seal_no, trip.acknowledgement_due_at)
        if sealing.document.is_bill_of_entry:
            await self._load((), [sealing.document.key])
        self._touch_trip(trip, carrier)
        fact.outcome = Outcome("recorded", list(trip.findings))
        DECISIONS.labels(SERVICE, "sealing", "recorded").inc()

    async def _scanned(self, fact: Fact, carrier: dict[str, str]) -> None:
        """SEAL-LINK-1 (TID), SEAL-TAMPER-1/2, SEAL-TRIP-1: a reader's scan."""
        seal_no = _seal_of(fact.data["seal_no"])
        tid = tid_of(str(fact.data["tid"]))
        if seal_no is None:
            raise Refused([Reason.of("SEAL-FMT-1", f"seal {fact.data['seal_no']!r} is malformed")])
        if tid is None:
            raise Refused(
                [Reason.of("SEAL-LINK-1", f"TID {fact.data['tid']!r} is not hexadecimal")]
            )
        trip = self.trips.get(seal_no)
        if trip is None:
            raise Refused(
                [Reason.of("SEAL-TRIP-1", f"seal {seal_no} was read but no sealing is recorded")]
            )
        trip.scan(Scan.from_data(fact.data, seal_no, tid), self.sales.get(seal_no), self.now)
        self._touch_trip(trip, carrier)
        fact.outcome = Outcome("recorded")

    async def _extension(self, fact: Fact, carrier: dict[str, str]) -> None:
        """SEAL-ACK-1: the proper officer extends the deadline of acknowledgement."""
        trip = self.trips.get(fact.data["seal_no"])
        if trip is None:
            fact.outcome = Outcome("not_found")
            return
        trip.extend(fact.data["until"], fact.data["reason"], fact.data["officer"], self.now)
        self.uow.schedule(ACKNOWLEDGEMENT_TIMER, trip.seal_no, trip.acknowledgement_due_at)
        self._touch_trip(trip, carrier)
        fact.outcome = Outcome("recorded")

    async def _timer(self, fact: Fact, carrier: dict[str, str]) -> None:
        kind, key, payload = fact.data
        if kind == SALE_WAIT_TIMER:
            bill = self.bills.get(key)
            if bill is not None and bill.ref.version == payload.get("version"):
                bill.waited_out_version = bill.ref.version
                self.dirty_bills.add(key)
                self.touched_bills[key] = carrier
            return
        trip = self.trips.get(key)
        if trip is None:
            return
        if kind == DELAY_TIMER:
            trip.delay_elapsed(self.now)
        elif kind == ACKNOWLEDGEMENT_TIMER:
            bill = self.bills.get(trip.sealing.document.key)
            trip.acknowledgement_overdue(self.now, None if bill is None else bill.total_duty)
        self._touch_trip(trip, carrier)
        fact.outcome = Outcome("recorded")

    def _touch_seal(self, seal_no: str, carrier: dict[str, str]) -> None:
        if (key := self.claims.get(seal_no)) is not None:
            self.touched_bills.setdefault(key, carrier)

    def _touch_trip(self, trip: Trip, carrier: dict[str, str]) -> None:
        self.dirty_trips[trip.seal_no] = carrier
        self._touch_seal(trip.seal_no, carrier)
        for event in trip.events:
            if isinstance(event, TripCompleted):
                self.uow.cancel(DELAY_TIMER, trip.seal_no)
                self.uow.cancel(ACKNOWLEDGEMENT_TIMER, trip.seal_no)

    # -- reconciling and publishing ------------------------------------------------------

    async def _reconcile_touched(self) -> None:
        """OOC-WH-1: the verdict of every BE whose facts changed, published when new."""
        keys = [k for k in self.touched_bills if k in self.bills]
        await self._load([s for k in keys for s in self.bills[k].seal_numbers], keys)
        for key in keys:
            bill = self.bills[key]
            circular = in_force(self.policies, SEAL_CIRCULAR, bill.ref.be_date)
            verdict = reconcile(
                bill, circular, self.sales, self.trips, self.claims, self.exemptions.get(key)
            )
            if verdict is None:
                if bill.awaiting_since is None and circular is not None:
                    bill.awaiting_since = self.now
                    self.dirty_bills.add(key)
                    wait = timedelta(hours=circular.body.sale_record_wait_hours)
                    self.uow.schedule(
                        SALE_WAIT_TIMER, key, self.now + wait, {"version": bill.ref.version}
                    )
                DECISIONS.labels(SERVICE, "seal", "awaiting").inc()
                continue
            if bill.awaiting_since is not None:
                bill.awaiting_since = None
                self.uow.cancel(SALE_WAIT_TIMER, key)
                self.dirty_bills.add(key)
            if bill.published.get(bill.ref.version) == verdict.to_data():
                continue
            bill.published[bill.ref.version] = verdict.to_data()
            self.dirty_bills.add(key)
            with continuing(self.touched_bills[key]):
                self.uow.publish(
                    SEAL_TRIP_RECONCILED,
                    key,
                    {
                        "bill_of_entry_ref": bill.ref.to_data(),
                        "outcome": verdict.outcome,
                        "warehouse_code": bill.warehouse_code or None,
                        "seal_numbers": [s.written for s in bill.seals],
                        "findings": reasons_data(list(verdict.findings)),
                        "reconciled_at": self.now.isoformat(),
                    },
                )
            DECISIONS.labels(SERVICE, "seal", verdict.outcome).inc()

    def _save(self) -> None:
        for seal_no, carrier in self.dirty_trips.items():
            trip = self.trips[seal_no]
            with continuing(carrier):
                self._publish_trip_events(trip)
            self.uow.seals.save_trip(trip)
        for key in self.dirty_bills:
            self.uow.seals.save_bill(self.bills[key])

    def _publish_trip_events(self, trip: Trip) -> None:
        document = trip.sealing.document
        bill = self.bills.get(document.key) if document.is_bill_of_entry else None
        be_ref = None
        if document.is_bill_of_entry:
            be_ref = bill.ref if bill is not None else BillOfEntryRef.from_key(document.key)
        while trip.events:
            event = trip.events.pop(0)
            if isinstance(event, AlertRaised):
                self.uow.publish(
                    SEAL_TRIP_ALERT_RAISED,
                    document.key,
                    {
                        "document_key": document.key,
                        "bill_of_entry_ref": None if be_ref is None else be_ref.to_data(),
                        "shipping_bill_ref": None
                        if document.is_bill_of_entry
                        else {
                            "port_code": document.port_code,
                            "sb_no": document.number,
                            "sb_date": document.date.isoformat(),
                        },
                        "alert": event.alert,
                        "seal_no": trip.seal_no,
                        "location": event.location,
                        "reasons": reasons_data(list(event.reasons)),
                        "actions": list(event.actions),
                        "movement": trip.sealing.movement.value,
                        "raised_at": event.at.isoformat(),
                    },
                )
                DECISIONS.labels(SERVICE, "alert", event.alert).inc()
            elif isinstance(event, DutyDemanded) and be_ref is not None:
                self.uow.publish(
                    DUTY_DEMAND_RAISED,
                    document.key,
                    {
                        "bill_of_entry_ref": be_ref.to_data(),
                        "duty": event.duty.as_number(),
                        "interest": event.interest.as_number(),
                        "penalty_flagged": True,
                        "reasons": reasons_data(list(event.reasons)),
                        "seal_no": trip.seal_no,
                        "acknowledgement_due_at": event.due_at.isoformat(),
                        "interest_rate_percent": float(event.interest_rate_percent),
                        "raised_at": event.at.isoformat(),
                    },
                )
                DECISIONS.labels(SERVICE, "duty_demand", "raised").inc()


async def settle(uow: SealUnitOfWork, policies: PolicyBook, collected: Collected) -> None:
    """The batch's facts, settled together (see the module)."""
    facts = [(fact, carrier) for fact, carrier in collected]
    await Settlement(uow, policies).settle(facts)


def registered_fact(ref: BillOfEntryRef, be: BillOfEntry) -> Fact:
    return Fact("registered", (ref, be))


def movement_of(data: dict[str, Any]) -> Movement:
    return Movement(data["movement"])
