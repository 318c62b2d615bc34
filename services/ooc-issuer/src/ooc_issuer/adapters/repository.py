"""SQL of ooc-issuer: one row per BE's clearance case (read locked and written per batch),
the BE copies the e-OOC is made of, and the custodians' mailboxes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from clearance_domain import BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import IDENTITIES, identity_params
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from ooc_issuer.domain.case import CaseState, ClearanceCase, Issued, VersionFacts
from ooc_issuer.domain.facts import (
    Assessment,
    BisVerdict,
    DutyPayment,
    Examination,
    GateOut,
    Invalidation,
    Officer,
    PgaNoc,
    Registered,
    RmsDecision,
    SampleResult,
    SealReconciliation,
)
from ooc_issuer.domain.release import Mode, SaleRestriction
from ooc_issuer.service_layer.messages import fact_data, fact_of
from ooc_issuer.service_layer.unit_of_work import Identity, Notification

# Locked, so a BE is decided once even if another transaction touches it.
_FOR_UPDATE = text(
    f"SELECT c.* FROM clearance_case c JOIN {IDENTITIES} USING (port_code, be_no, be_date) "
    "FOR UPDATE OF c"
)
_SAVE = text(
    "INSERT INTO clearance_case (port_code, be_no, be_date, version, state, facts, "
    "held_reasons, out_of_charge_no, gatepass_no, issued_version, grantable, queued_at, "
    "custodian_code, decided_at) "
    "VALUES (:port_code, :be_no, :be_date, :version, :state, CAST(:facts AS jsonb), "
    "CAST(:held_reasons AS jsonb), :out_of_charge_no, :gatepass_no, :issued_version, "
    ":grantable, :queued_at, :custodian_code, now()) "
    "ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET version = EXCLUDED.version, "
    "state = EXCLUDED.state, facts = EXCLUDED.facts, held_reasons = EXCLUDED.held_reasons, "
    "out_of_charge_no = EXCLUDED.out_of_charge_no, gatepass_no = EXCLUDED.gatepass_no, "
    "issued_version = EXCLUDED.issued_version, grantable = EXCLUDED.grantable, "
    "queued_at = EXCLUDED.queued_at, custodian_code = EXCLUDED.custodian_code, "
    "decided_at = now()"
)
_NUMBERS = text(
    "SELECT p.port_code || '-OOC-' || lpad(nextval('out_of_charge_no_seq')::text, 9, '0') AS ooc, "
    "p.port_code || '-GP-' || lpad(nextval('gatepass_no_seq')::text, 9, '0') AS gatepass "
    "FROM unnest(CAST(:port_codes AS text[])) WITH ORDINALITY AS p(port_code, n) ORDER BY p.n"
)
_KEEP_COPY = text(
    "INSERT INTO bill_of_entry_copy (port_code, be_no, be_date, version, data) "
    "VALUES (:port_code, :be_no, :be_date, :version, CAST(:data AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)
_WITH_CALLBACK = text(
    "SELECT custodian_code FROM custodian_endpoint WHERE custodian_code = ANY(:codes)"
)
_FILE = text(
    "INSERT INTO custodian_notification (custodian_code, gatepass_no, port_code, be_no, "
    "be_date, payload) VALUES (:custodian_code, :gatepass_no, :port_code, :be_no, :be_date, "
    "CAST(:payload AS jsonb)) ON CONFLICT (gatepass_no) DO NOTHING"
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _officer_data(officer: Officer | None) -> dict[str, str] | None:
    return (
        None
        if officer is None
        else {"officer_id": officer.officer_id, "location": officer.location}
    )


def _officer_of(data: Mapping[str, Any] | None) -> Officer | None:
    return None if data is None else Officer(data["officer_id"], data["location"])


def _issued_data(issued: Issued) -> dict[str, Any]:
    restriction = issued.restriction
    return {
        "version": issued.version,
        "mode": issued.mode.value,
        "officer": _officer_data(issued.officer),
        "reasons": reasons_data(list(issued.reasons)),
        "restriction": {"items": list(restriction.items), "reason": restriction.reason.to_data()}
        if restriction
        else None,
        "custodian_code": issued.custodian_code,
        "document_token": issued.document_token,
        "key_id": issued.key_id,
        "at": issued.at.isoformat(),
    }


def _issued_of(data: Mapping[str, Any], ooc_no: str, gatepass_no: str) -> Issued:
    restriction = data["restriction"]
    return Issued(
        version=data["version"],
        out_of_charge_no=ooc_no,
        gatepass_no=gatepass_no,
        mode=Mode(data["mode"]),
        officer=_officer_of(data["officer"]),
        reasons=tuple(Reason.from_data(r) for r in data["reasons"]),
        restriction=SaleRestriction(
            tuple(restriction["items"]), Reason.from_data(restriction["reason"])
        )
        if restriction
        else None,
        custodian_code=data["custodian_code"],
        document_token=data["document_token"],
        key_id=data["key_id"],
        at=datetime.fromisoformat(data["at"]),
    )


def case_document(case: ClearanceCase) -> dict[str, Any]:
    """Everything about the case that has no column of its own, as JSON."""
    facts = [
        case.facts.registered,
        case.facts.bis,
        case.facts.rms,
        case.facts.seal,
        *case.assessments.values(),
        case.examination,
        *case.nocs.values(),
        *case.payments.values(),
        case.sample,
        case.invalidation,
        case.gate_out,
    ]
    refusal = case.refusal
    return {
        "facts": [list(fact_data(fact)) for fact in facts if fact is not None],
        "invalidating_versions": sorted(case.invalidating_versions),
        "ccv_officer": _officer_data(case.ccv_officer),
        "refusal": {"officer": _officer_data(refusal[0]), "why": refusal[1]} if refusal else None,
        "issued": _issued_data(case.issued) if case.issued else None,
        "re_export_ordered": case.re_export_ordered,
    }


def case_of(row: Any) -> ClearanceCase:
    """A case as stored (the inverse of `case_document` and the row's columns)."""
    document = row.facts if isinstance(row.facts, dict) else orjson.loads(row.facts)
    held = (
        row.held_reasons if isinstance(row.held_reasons, list) else orjson.loads(row.held_reasons)
    )
    case = ClearanceCase(
        port_code=row.port_code,
        be_no=row.be_no,
        be_date=row.be_date,
        version=row.version,
        state=CaseState(row.state),
        held_reasons=tuple(Reason.from_data(reason) for reason in held),
        grantable=row.grantable,
        queued_at=row.queued_at,
    )
    if "facts" not in document:  # a case stored before revision 0003: no facts kept
        return case
    version_facts = VersionFacts()
    for event_type, data in document["facts"]:
        match fact_of(event_type, data):
            case Registered() as fact:
                version_facts.registered = fact
            case BisVerdict() as fact:
                version_facts.bis = fact
            case RmsDecision() as fact:
                version_facts.rms = fact
            case SealReconciliation() as fact:
                version_facts.seal = fact
            case Assessment() as fact:
                case.assessments[fact.ref.version] = fact
            case Examination() as fact:
                case.examination = fact
            case PgaNoc() as fact:
                case.nocs[fact.agency] = fact
            case DutyPayment() as fact:
                case.payments[fact.reference] = fact
            case SampleResult() as fact:
                case.sample = fact
            case Invalidation() as fact:
                case.invalidation = fact
            case GateOut() as fact:
                case.gate_out = fact
    case.facts = version_facts
    case.invalidating_versions = set(document["invalidating_versions"])
    case.ccv_officer = _officer_of(document["ccv_officer"])
    refusal = document["refusal"]
    if refusal:
        officer = _officer_of(refusal["officer"])
        assert officer is not None
        case.refusal = (officer, refusal["why"])
    if document["issued"]:
        case.issued = _issued_of(document["issued"], row.out_of_charge_no, row.gatepass_no)
    case.re_export_ordered = document["re_export_ordered"]
    return case


class SqlClearanceCases:
    """The `ClearanceCases` port on PostgreSQL; writes are deferred to one statement."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def for_update(self, identities: Sequence[Identity]) -> dict[Identity, ClearanceCase]:
        if not identities:
            return {}
        rows = await self.uow.session.execute(_FOR_UPDATE, identity_params(identities))
        found = {(row.port_code, row.be_no, row.be_date): case_of(row) for row in rows}
        return {i: found.get(i) or ClearanceCase(i[0], i[1], i[2]) for i in identities}

    def save(self, case: ClearanceCase) -> None:
        issued = case.issued
        self.uow.defer(
            _SAVE,
            {
                "port_code": case.port_code,
                "be_no": case.be_no,
                "be_date": case.be_date,
                "version": case.version,
                "state": case.state.value,
                "facts": _json(case_document(case)),
                "held_reasons": _json(reasons_data(list(case.held_reasons))),
                "out_of_charge_no": issued.out_of_charge_no if issued else None,
                "gatepass_no": issued.gatepass_no if issued else None,
                "issued_version": issued.version if issued else None,
                "grantable": case.grantable,
                "queued_at": case.queued_at,
                "custodian_code": issued.custodian_code if issued else None,
            },
        )

    async def numbers(self, port_codes: Sequence[str]) -> list[tuple[str, str]]:
        if not port_codes:
            return []
        rows = await self.uow.session.execute(_NUMBERS, {"port_codes": list(port_codes)})
        return [(row.ooc, row.gatepass) for row in rows]


class SqlBillOfEntryCopies:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    def keep(self, ref: BillOfEntryRef, bill_of_entry: Mapping[str, Any]) -> None:
        self.uow.defer(
            _KEEP_COPY,
            {
                "port_code": ref.port_code,
                "be_no": ref.be_no,
                "be_date": ref.be_date,
                "version": ref.version,
                "data": _json(bill_of_entry),
            },
        )


class SqlCustodianMailboxes:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def with_callback(self, custodian_codes: Sequence[str]) -> set[str]:
        if not custodian_codes:
            return set()
        rows = await self.uow.session.execute(_WITH_CALLBACK, {"codes": list(custodian_codes)})
        return {row.custodian_code for row in rows}

    def file(self, notification: Notification) -> None:
        ref = notification.ref
        self.uow.defer(
            _FILE,
            {
                "custodian_code": notification.custodian_code,
                "gatepass_no": notification.gatepass_no,
                "port_code": ref.port_code,
                "be_no": ref.be_no,
                "be_date": ref.be_date,
                "payload": _json(dict(notification.payload)),
            },
        )
