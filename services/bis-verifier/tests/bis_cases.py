"""Cases and fakes for bis-verifier's tests: the real register, realistic filings, fake ports.

The registry here is the real BIS-CRS register and the sample CM/L licences,
read by the registry server's own parser (`clearance_bis_registry`) and turned
into the registry's JSON answers, which the HTTP adapter's mapping reads: the
same path a verdict takes in production, without the network.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bis_verifier.adapters.registry_http import InMemoryRegistry
from bis_verifier.domain.catalogue import CoverageCatalogue
from bis_verifier.domain.registry import Answer, Lookup, LookupKind
from bis_verifier.domain.sampling import SampleCase
from bis_verifier.domain.verification import Verdict
from bis_verifier.service_layer.handlers import COVERAGE
from bis_verifier.service_layer.unit_of_work import PendingVerification
from clearance_bis_registry.licences import load_licences
from clearance_bis_registry.register import Registration, load_register, shared_register_path
from clearance_contracts import example
from clearance_domain import BillOfEntryRef, Identity, PolicyRef
from clearance_runtime.clock import ControllableClock
from clearance_runtime.policies import Policies, in_memory
from clearance_runtime.testing import FakeUnitOfWork

POLICY_FILE = (
    Path(__file__).parents[1]
    / "src"
    / "bis_verifier"
    / "policies"
    / "bis-coverage-catalogue.v1.json"
)
FILED = "icegate.bill-of-entry.filed.v1"


@cache
def real_register() -> dict[str, Registration]:
    return load_register(shared_register_path())


@cache
def registry_records() -> dict[Lookup, dict[str, Any]]:
    """Every registration and sample licence as the registry server answers it."""
    records: dict[Lookup, dict[str, Any]] = {
        Lookup(LookupKind.REGISTRATION, number): registration.to_data()
        for number, registration in real_register().items()
    }
    for number, licence in load_licences().items():
        records[Lookup(LookupKind.LICENCE, number)] = licence.to_data()
    return records


@cache
def policies() -> Policies:
    import json

    return in_memory([COVERAGE], [json.loads(POLICY_FILE.read_text())])


def catalogue_on(day: date) -> tuple[CoverageCatalogue, PolicyRef]:
    policy = policies().in_force(COVERAGE, day)
    return policy.body, PolicyRef(policy.policy_id, policy.version)


async def answers_for(lookups: Sequence[Lookup], clock: ControllableClock) -> dict[Lookup, Answer]:
    registry = InMemoryRegistry(clock, registry_records())
    return {lookup: await registry.look_up(lookup) for lookup in lookups}


def filing(**changes: Any) -> dict[str, Any]:
    """The contracts' example filing (Dahua CCTV, R-41087785, BE date 2025-03-20)."""
    be = copy.deepcopy(example(FILED))
    be.update(changes)
    return be


def with_items(be: dict[str, Any], **item_changes: Any) -> dict[str, Any]:
    """Every item of the filing changed alike."""
    for invoice in be["invoices"]:
        for item in invoice["items"]:
            item.update(item_changes)
    return be


def with_documents(be: dict[str, Any], document_type: str, reference: str | None) -> dict[str, Any]:
    """Every document of a type given another reference (None: removed)."""
    documents = []
    for doc in be.get("supporting_documents", []):
        if doc["document_type"] == document_type:
            if reference is None:
                continue
            doc = {**doc, "reference": reference}
        documents.append(doc)
    be["supporting_documents"] = documents
    return be


def registration_filing(
    number: str, be_date: str, cth: str, model: str | None = None
) -> dict[str, Any]:
    """A one-item filing of a real registration's goods, as the register has them."""
    row = real_register()[number]
    be = filing(be_date=be_date, arrival_date=be_date)
    be["filed_at"] = f"{be_date}T10:00:00+05:30"
    invoice = be["invoices"][0]
    item = invoice["items"][0]
    in_scope = [m.model for m in row.models if m.in_scope_on(date.fromisoformat(be_date))]
    item.update(
        cth=cth,
        description=row.product[:120],
        manufacturer=(row.manufacturer or row.name_and_factory_address)[:50],
        brand=row.brand[:20],
        model=model or next(m for m in in_scope if len(m) <= 20),
        manufacturing_location=row.factory_address[:200],
    )
    invoice["items"] = [item]
    be["supporting_documents"] = [
        {
            "document_type": "bis_registration",
            "reference": number,
            "invoice_sl_no": 1,
            "item_sl_no": 1,
        }
    ]
    return be


SUNRISE = {
    "licence": "CM/L-4100062",
    "manufacturer": "Ningbo Sunrise Toys Co., Ltd.",
    "location": "No. 18 Xingye Road, Yinzhou Industrial Park, Ningbo, Zhejiang 315104, China",
}
TOY_PARTS = [f"IS 9873 (Part {n})" for n in (1, 2, 3, 4, 7, 9)]


def toys_filing(
    certificates: Sequence[Sequence[str]] = (TOY_PARTS, ["IS 9873", "IS 15644:2006"]),
    *,
    licence: str = SUNRISE["licence"],
    manufacturer: str = SUNRISE["manufacturer"],
    location: str = SUNRISE["location"],
    isi_mark: bool | None = True,
    be_date: str = "2021-02-01",
    cth: str = "95030020",
) -> dict[str, Any]:
    """Two items of non-electronic toys (seed 004) with a CM/L licence (SAMPLE DATA) and
    the certificates given, each a separate document for the invoice."""
    be = filing(be_date=be_date, arrival_date=be_date, country_of_origin="CN")
    be["filed_at"] = f"{be_date}T10:00:00+05:30"
    invoice = be["invoices"][0]
    invoice["supplier_name"] = manufacturer
    items = []
    for n, description in enumerate(
        ("WOODEN JIGSAW PUZZLE, 100 PIECES", "PLUSH TEDDY BEAR 30 CM"), 1
    ):
        item = {
            "item_sl_no": n,
            "cth": cth,
            "description": description,
            "quantity": 1000,
            "unit": "NOS",
            "unit_price": 2.5,
            "country_of_origin": "CN",
            "manufacturer": manufacturer,
            "manufacturing_location": location,
        }
        if isi_mark is not None:
            item["isi_mark"] = isi_mark
        items.append(item)
    invoice["items"] = items
    documents: list[dict[str, Any]] = [
        {"document_type": "bis_cml_licence", "reference": licence, "invoice_sl_no": 1}
    ]
    for k, standards in enumerate(certificates, 1):
        documents.append(
            {
                "document_type": "conformity_certificate",
                "reference": f"TC-2101-{k}",
                "invoice_sl_no": 1,
                "standards": list(standards),
                "issued_by": "NABL-accredited laboratory",
            }
        )
    be["supporting_documents"] = documents
    return be


class Cases:
    """The helpers above, for test modules (they cannot import this conftest)."""

    register = staticmethod(real_register)
    records = staticmethod(registry_records)
    policies = staticmethod(policies)
    catalogue_on = staticmethod(catalogue_on)
    answers_for = staticmethod(answers_for)
    filing = staticmethod(filing)
    with_items = staticmethod(with_items)
    with_documents = staticmethod(with_documents)
    registration_filing = staticmethod(registration_filing)
    toys_filing = staticmethod(toys_filing)
    SUNRISE = SUNRISE
    TOY_PARTS = TOY_PARTS


class FakeVerifications:
    def __init__(self) -> None:
        self.rows: dict[BillOfEntryRef, Verdict] = {}

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        latest: dict[Identity, int] = {}
        for ref in self.rows:
            if ref.identity in identities:
                latest[ref.identity] = max(latest.get(ref.identity, 0), ref.version)
        return latest

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        self.rows.setdefault(ref, verdict)


@dataclasses.dataclass
class FakeWaitingRow:
    claim: PendingVerification
    state: str = "pending"
    next_at: datetime | None = None
    error: str | None = None
    lease_until: datetime | None = None


class FakeWaiting:
    """The pending table and the worker's queue over it, in memory."""

    def __init__(self) -> None:
        self.rows: dict[int, FakeWaitingRow] = {}
        self.woken = 0

    def park(
        self,
        ref: BillOfEntryRef,
        bill_of_entry: dict[str, Any],
        lookups: Sequence[Lookup],
        at: datetime,
        carrier: Mapping[str, str],
    ) -> None:
        if any(row.claim.ref == ref for row in self.rows.values()):
            return
        row_id = len(self.rows) + 1
        claim = PendingVerification(row_id, ref, bill_of_entry, tuple(lookups), 0, at, False)
        self.rows[row_id] = FakeWaitingRow(claim, next_at=at)
        self.woken += 1

    def supersede(self, ref: BillOfEntryRef) -> None:
        for row in self.rows.values():
            older = row.claim.ref.identity == ref.identity and row.claim.ref.version < ref.version
            if older and row.state == "pending":
                row.state = "superseded"

    async def still_ours(self, claims: Sequence[PendingVerification]) -> set[int]:
        return {
            c.id
            for c in claims
            if self.rows[c.id].state == "pending" and self.rows[c.id].claim.attempt == c.attempt
        }

    def finish(self, claim: PendingVerification, at: datetime) -> None:
        self.rows[claim.id].state = "verified"

    def retry(
        self, claim: PendingVerification, next_at: datetime, error: str, announced: bool
    ) -> None:
        row = self.rows[claim.id]
        row.next_at, row.error, row.lease_until = next_at, error, None
        row.claim = dataclasses.replace(row.claim, announced=announced)

    # -- the worker's queue ----------------------------------------------------------
    async def claim(self, now: datetime, limit: int, lease: Any) -> list[PendingVerification]:
        due = [
            row
            for row in self.rows.values()
            if row.state == "pending"
            and row.next_at is not None
            and row.next_at <= now
            and (row.lease_until is None or row.lease_until <= now)
        ][:limit]
        for row in due:
            row.claim = dataclasses.replace(row.claim, attempt=row.claim.attempt + 1)
            row.lease_until = now + lease
        return [row.claim for row in due]

    async def next_due(self) -> datetime | None:
        due = [row.next_at for row in self.rows.values() if row.state == "pending" and row.next_at]
        return min(due, default=None)

    async def wait_for_wake_up(self, timeout_s: float) -> None:
        return None

    def states(self) -> list[str]:
        return [row.state for row in self.rows.values()]


class FakeSamples:
    def __init__(self) -> None:
        self.cases: dict[Identity, SampleCase] = {}

    async def get(self, identity: Identity) -> SampleCase | None:
        return self.cases.get(identity)

    def save(self, case: SampleCase) -> None:
        self.cases[case.ref.identity] = case


class FakeBisUnitOfWork(FakeUnitOfWork):
    def __init__(
        self,
        verifications: FakeVerifications,
        waiting: FakeWaiting,
        samples: FakeSamples,
        clock: ControllableClock,
    ) -> None:
        super().__init__(clock=clock)
        self.verifications = verifications
        self.waiting = waiting
        self.samples = samples
