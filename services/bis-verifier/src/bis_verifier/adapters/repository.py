"""SQL of bis-verifier: verdicts per BE version, versions waiting for the registry, samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import latest_versions
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from bis_verifier.domain.registry import Lookup
from bis_verifier.domain.sampling import Origin, SampleCase
from bis_verifier.domain.verification import Verdict
from bis_verifier.service_layer.unit_of_work import PendingVerification

PENDING_CHANNEL = "bis_verifier_pending"

_INSERT_VERDICT = text(
    "INSERT INTO bis_verification (port_code, be_no, be_date, version, verdict, findings, "
    "items, catalogue_version, registry_snapshot_at) VALUES (:port_code, :be_no, :be_date, "
    ":version, :verdict, CAST(:findings AS jsonb), CAST(:items AS jsonb), :catalogue_version, "
    ":registry_snapshot_at) ON CONFLICT DO NOTHING"
)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqlVerifications:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        return await latest_versions(self.uow.session, "bis_verification", identities)

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        self.uow.defer(
            _INSERT_VERDICT,
            {
                "port_code": ref.port_code,
                "be_no": ref.be_no,
                "be_date": ref.be_date,
                "version": ref.version,
                "verdict": verdict.verdict,
                "findings": _json(reasons_data(list(verdict.findings))),
                "items": _json([item.to_data() for item in verdict.items]),
                "catalogue_version": verdict.catalogue.version if verdict.catalogue else None,
                "registry_snapshot_at": verdict.registry_snapshot_at,
            },
        )


_PARK = text(
    "INSERT INTO bis_pending (port_code, be_no, be_date, version, bill_of_entry, lookups, "
    "next_attempt_at, pending_since, traceparent, tracestate) VALUES (:port_code, :be_no, "
    ":be_date, :version, CAST(:bill_of_entry AS jsonb), CAST(:lookups AS jsonb), :at, :at, "
    ":traceparent, :tracestate) ON CONFLICT (port_code, be_no, be_date, version) DO NOTHING"
)
_SUPERSEDE = text(
    "UPDATE bis_pending SET state = 'superseded', finished_at = :at WHERE port_code = :port_code "
    "AND be_no = :be_no AND be_date = :be_date AND version < :version AND state = 'pending'"
)
_NOTIFY = text("SELECT pg_notify(:channel, '')")
_STILL_OURS = text(
    "SELECT id FROM bis_pending WHERE id = ANY(:ids) AND state = 'pending' "
    "AND attempts = ANY(:attempts) FOR UPDATE"
)
_FINISH = text(
    "UPDATE bis_pending SET state = 'verified', finished_at = :at, lease_until = NULL "
    "WHERE id = :id AND attempts = :attempt"
)
_RETRY = text(
    "UPDATE bis_pending SET next_attempt_at = :next_at, lease_until = NULL, last_error = :error, "
    "announced = :announced WHERE id = :id AND attempts = :attempt"
)


class SqlPendingVerifications:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    def park(
        self,
        ref: BillOfEntryRef,
        bill_of_entry: dict[str, Any],
        lookups: Sequence[Lookup],
        at: datetime,
        carrier: Mapping[str, str],
    ) -> None:
        self.uow.defer(
            _PARK,
            {
                **_identity(ref),
                "version": ref.version,
                "bill_of_entry": _json(bill_of_entry),
                "lookups": _json([lookup.to_data() for lookup in lookups]),
                "at": at,
                "traceparent": carrier.get("traceparent"),
                "tracestate": carrier.get("tracestate"),
            },
        )
        self.uow.defer(_NOTIFY, {"channel": PENDING_CHANNEL})

    def supersede(self, ref: BillOfEntryRef) -> None:
        self.uow.defer(
            _SUPERSEDE, {**_identity(ref), "version": ref.version, "at": self.uow.clock.now()}
        )

    async def still_ours(self, claims: Sequence[PendingVerification]) -> set[int]:
        if not claims:
            return set()
        attempts = {claim.id: claim.attempt for claim in claims}
        rows = await self.uow.session.execute(
            _STILL_OURS,
            {"ids": list(attempts), "attempts": sorted(set(attempts.values()))},
        )
        # `attempts = ANY(...)` over-selects when claims differ in attempt: check each.
        locked = {row.id for row in rows}
        return {claim.id for claim in claims if claim.id in locked}

    def finish(self, claim: PendingVerification, at: datetime) -> None:
        self.uow.defer(_FINISH, {"id": claim.id, "attempt": claim.attempt, "at": at})

    def retry(
        self, claim: PendingVerification, next_at: datetime, error: str, announced: bool
    ) -> None:
        self.uow.defer(
            _RETRY,
            {
                "id": claim.id,
                "attempt": claim.attempt,
                "next_at": next_at,
                "error": error,
                "announced": announced,
            },
        )


def _identity(ref: BillOfEntryRef) -> dict[str, Any]:
    return {"port_code": ref.port_code, "be_no": ref.be_no, "be_date": ref.be_date}


_GET_SAMPLE = text(
    "SELECT version, drawn, results, laboratory, report_no, conforming, concluded_at "
    "FROM bis_sample WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date"
)
_SAVE_SAMPLE = text(
    "INSERT INTO bis_sample (port_code, be_no, be_date, version, drawn, results, laboratory, "
    "report_no, conforming, concluded_at, updated_at) VALUES (:port_code, :be_no, :be_date, "
    ":version, CAST(:drawn AS jsonb), CAST(:results AS jsonb), :laboratory, :report_no, "
    ":conforming, :concluded_at, :at) ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET "
    "version = EXCLUDED.version, drawn = EXCLUDED.drawn, results = EXCLUDED.results, "
    "laboratory = EXCLUDED.laboratory, report_no = EXCLUDED.report_no, "
    "conforming = EXCLUDED.conforming, concluded_at = EXCLUDED.concluded_at, "
    "updated_at = EXCLUDED.updated_at"
)


class SqlSamples:
    """Sample cases; one read per BE per unit of work (what was saved is read back from
    memory, so two events about one BE in one batch see each other)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow
        self._seen: dict[Identity, SampleCase | None] = {}

    async def get(self, identity: Identity) -> SampleCase | None:
        if identity in self._seen:
            return self._seen[identity]
        port_code, be_no, be_date = identity
        row = (
            await self.uow.session.execute(
                _GET_SAMPLE, {"port_code": port_code, "be_no": be_no, "be_date": be_date}
            )
        ).first()
        case = None
        if row is not None:
            case = SampleCase(
                BillOfEntryRef(port_code, be_no, be_date, row.version),
                drawn={int(n): Origin(origin) for n, origin in row.drawn.items()},
                results={int(n): bool(passed) for n, passed in row.results.items()},
                laboratory=row.laboratory,
                report_no=row.report_no,
                concluded_at=row.concluded_at,
                conforming=row.conforming,
            )
        self._seen[identity] = case
        return case

    def save(self, case: SampleCase) -> None:
        self._seen[case.ref.identity] = case
        self.uow.defer(
            _SAVE_SAMPLE,
            {
                **_identity(case.ref),
                "version": case.ref.version,
                "drawn": _json({str(n): origin.value for n, origin in case.drawn.items()}),
                "results": _json({str(n): passed for n, passed in case.results.items()}),
                "laboratory": case.laboratory,
                "report_no": case.report_no,
                "conforming": case.conforming,
                "concluded_at": case.concluded_at,
                "at": self.uow.clock.now(),
            },
        )
