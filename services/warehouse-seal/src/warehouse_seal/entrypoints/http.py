"""HTTP API of warehouse-seal: vendors' bulk sales, sealings, officers' exemptions and
deadline extensions, seals and their trips, trip reports (JSON and PDF), BE verdicts.

Bodies are validated against their contracts (`contracts/.../schemas/http/`, and the
event `vendor.rfid-seal.affixed.v1` for a sealing); each route names the role it
needs (`requires`), and the caller's subject is recorded as the officer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from clearance_contracts import (
    RFID_SEAL_AFFIXED,
    RFID_SEAL_SOLD,
    SEAL_SALES_RECORDED,
    SEAL_SALES_UPLOAD,
    SEAL_TRIP,
    SEAL_TRIP_DEADLINE_EXTENSION,
    SEAL_TRIP_EXEMPTION,
    SEAL_TRIP_REPORT,
    SEAL_VERDICT,
    ContractViolation,
    dereferenced_schema,
    validate_event,
    validate_http,
)
from clearance_domain import Reason
from clearance_runtime.access import Principal, requires
from clearance_runtime.policies import PolicyBook
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from warehouse_seal.adapters import report_pdf, views
from warehouse_seal.domain.movements import Exemption
from warehouse_seal.domain.seals import seal_number
from warehouse_seal.service_layer.handlers import submit
from warehouse_seal.service_layer.settlement import Fact
from warehouse_seal.service_layer.unit_of_work import SealUnitOfWork

Vendor = Annotated[Principal, Depends(requires("upstream"))]
Officer = Annotated[Principal, Depends(requires("officer"))]
Sealer = Annotated[Principal, Depends(requires("custodian", "officer"))]
#: An officer reads a BE's verdict of its own customs locations only (`location` claim).
Reader = Annotated[
    Principal, Depends(requires("officer", "custodian", "upstream", location="port_code"))
]

CSV_COLUMNS = ("seal_no", "tid", "vendor_brand", "warehouse_code", "sold_at")
CSV_OPTIONAL = ("vendor_name", "licensee_name")


def _json_body(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


async def _json_object(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise HTTPException(status_code=400, detail=f"the body is not JSON: {error}") from error


def _checked(name: str, body: Any, *, event: bool = False) -> Any:
    try:
        (validate_event if event else validate_http)(name, body)
    except ContractViolation as error:
        raise HTTPException(status_code=400, detail=str(error)) from error
    return body


def _seal(text: str) -> str:
    seal_no = seal_number(text)
    if seal_no is None:
        raise HTTPException(status_code=404, detail=f"{text!r} is not a seal number (SEAL-FMT-1)")
    return seal_no


def _refused(reasons: list[Reason]) -> HTTPException:
    return HTTPException(status_code=422, detail={"reasons": [r.to_data() for r in reasons]})


def sales_from_csv(content: str) -> list[dict[str, Any] | str]:
    """The lines of a vendor's CSV file as sale records, or for a line that is not one,
    why (a malformed line is refused alone)."""
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise HTTPException(status_code=400, detail=f"the CSV header lacks {missing}")
    lines: list[dict[str, Any] | str] = []
    for row in reader:
        record: dict[str, Any] = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
        record.update({c: row[c].strip() for c in CSV_OPTIONAL if row.get(c)})
        try:
            validate_event(RFID_SEAL_SOLD, record)
            lines.append(record)
        except ContractViolation as error:
            lines.append(f"not a sale record: {error.path}: {error.reason}")
    return lines


def router(
    unit_of_work: Callable[[], AbstractAsyncContextManager[SealUnitOfWork]],
    sessions: async_sessionmaker[AsyncSession],
    policies: PolicyBook,
) -> APIRouter:
    api = APIRouter(tags=["RFID seals"])

    @api.post(
        "/seals/sales",
        summary="A vendor's bulk file of seal sales (JSON, or CSV with a header line)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    **_json_body(SEAL_SALES_UPLOAD)["content"],
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
        responses={200: _json_body(SEAL_SALES_RECORDED)},
    )
    async def upload_sales(request: Request, _: Vendor) -> dict[str, Any]:
        """SEAL-FMT-1, SEAL-LINK-1: each line recorded, a duplicate, or refused with reasons."""
        if "csv" in request.headers.get("content-type", ""):
            lines = sales_from_csv((await request.body()).decode("utf-8-sig"))
        else:
            lines = list(_checked(SEAL_SALES_UPLOAD, await _json_object(request))["sales"])
        facts: list[Fact | None] = []
        async with unit_of_work() as uow:
            for line in lines:
                facts.append(
                    submit(uow, policies, Fact("sold", line)) if isinstance(line, dict) else None
                )
        results: list[dict[str, Any]] = []
        for number, (line, fact) in enumerate(zip(lines, facts, strict=True), start=1):
            if fact is None:
                reasons = [Reason.of("SEAL-LINK-1", str(line))]
                results.append(
                    {"line": number, "seal_no": "", "outcome": "refused", "reasons": reasons}
                )
                continue
            assert isinstance(line, dict)
            results.append(
                {
                    "line": number,
                    "seal_no": str(line["seal_no"]),
                    "outcome": fact.outcome.outcome,
                    "reasons": fact.outcome.reasons,
                }
            )
        body = {
            "recorded": sum(r["outcome"] == "recorded" for r in results),
            "duplicates": sum(r["outcome"] == "duplicate" for r in results),
            "refused": sum(r["outcome"] == "refused" for r in results),
            "lines": [{**r, "reasons": [x.to_data() for x in r["reasons"]]} for r in results],
        }
        return _checked(SEAL_SALES_RECORDED, body)  # type: ignore[no-any-return]

    @api.post(
        "/seal-trips",
        status_code=201,
        summary="Seal a movement with its data elements (SEAL-DATA-1..3)",
        openapi_extra={"requestBody": {"required": True, **_json_body(RFID_SEAL_AFFIXED)}},
        responses={200: _json_body(SEAL_TRIP), 201: _json_body(SEAL_TRIP)},
    )
    async def seal_movement(request: Request, response: Response, _: Sealer) -> dict[str, Any]:
        sealing = _checked(RFID_SEAL_AFFIXED, await _json_object(request), event=True)
        async with unit_of_work() as uow:
            fact = submit(uow, policies, Fact("affixed", sealing))
        if fact.outcome.outcome == "refused":
            raise _refused(fact.outcome.reasons)
        if fact.outcome.outcome == "duplicate":
            response.status_code = 200
        return await _seal_view(_seal(str(sealing["seal_no"])))

    @api.post(
        "/seal-trips/exemptions",
        status_code=201,
        summary="Record a movement exempt from RFID sealing (SEAL-EXEMPT-1)",
        openapi_extra={"requestBody": {"required": True, **_json_body(SEAL_TRIP_EXEMPTION)}},
        responses={201: _json_body(SEAL_VERDICT)},
    )
    async def exempt(request: Request, officer: Officer) -> dict[str, Any]:
        body = _checked(SEAL_TRIP_EXEMPTION, await _json_object(request))
        be = body["bill_of_entry"]
        key = f"{be['port_code']}/{be['be_no']}/{be['be_date']}"
        async with unit_of_work() as uow:
            exemption = Exemption(
                body["ground"],
                body["reference"],
                officer.subject,
                uow.clock.now(),
                body.get("note"),
            )
            fact = submit(uow, policies, Fact("exemption", (key, exemption)))
        if fact.outcome.outcome == "refused":
            raise _refused(fact.outcome.reasons)
        async with sessions() as session:
            view = await views.verdict_view(session, key)
        if view is None:  # the BE is not registered yet: the exemption waits for it
            return _checked(  # type: ignore[no-any-return]
                SEAL_VERDICT,
                {
                    "bill_of_entry_ref": {**be, "version": 1},
                    "warehouse_code": None,
                    "seal_numbers": [],
                    "state": "awaiting",
                    "awaiting_since": None,
                    "verdict": None,
                    "exemption": exemption.to_data(),
                },
            )
        return _checked(SEAL_VERDICT, view)  # type: ignore[no-any-return]

    @api.post(
        "/seal-trips/{seal_no}/acknowledgement-deadline",
        summary="Extend the deadline for acknowledging due arrival (SEAL-ACK-1)",
        openapi_extra={
            "requestBody": {"required": True, **_json_body(SEAL_TRIP_DEADLINE_EXTENSION)}
        },
        responses={200: _json_body(SEAL_TRIP)},
    )
    async def extend(seal_no: str, request: Request, officer: Officer) -> dict[str, Any]:
        body = _checked(SEAL_TRIP_DEADLINE_EXTENSION, await _json_object(request))
        number = _seal(seal_no)
        extension = {
            "seal_no": number,
            "until": datetime.fromisoformat(body["extended_until"]),
            "reason": body["reason"],
            "officer": officer.subject,
        }
        async with unit_of_work() as uow:
            fact = submit(uow, policies, Fact("extension", extension))
        if fact.outcome.outcome == "not_found":
            raise HTTPException(status_code=404, detail=f"no trip of seal {number}")
        if fact.outcome.outcome == "refused":
            raise HTTPException(
                status_code=409, detail={"reasons": [r.to_data() for r in fact.outcome.reasons]}
            )
        return await _seal_view(number)

    async def _seal_view(seal_no: str) -> dict[str, Any]:
        async with sessions() as session:
            view = await views.seal_view(session, seal_no)
        if view is None:
            raise HTTPException(status_code=404, detail=f"nothing is known of seal {seal_no}")
        return _checked(SEAL_TRIP, view)  # type: ignore[no-any-return]

    @api.get(
        "/seal-trips/{seal_no}",
        summary="A seal: its sale, its trip, what was refused",
        responses={200: _json_body(SEAL_TRIP)},
    )
    async def seal(seal_no: str, _: Reader) -> dict[str, Any]:
        return await _seal_view(_seal(seal_no))

    async def _report(seal_no: str) -> dict[str, Any]:
        number = _seal(seal_no)
        async with sessions() as session:
            trip = await views.trip_of(session, number)
        if trip is None or trip.report is None:
            raise HTTPException(status_code=404, detail=f"no trip report of seal {number} (yet)")
        return _checked(SEAL_TRIP_REPORT, trip.report)  # type: ignore[no-any-return]

    @api.get(
        "/seal-trips/{seal_no}/report",
        summary="The trip report (SEAL-TRIP-1), as JSON",
        responses={200: _json_body(SEAL_TRIP_REPORT)},
    )
    async def report(seal_no: str, _: Reader) -> dict[str, Any]:
        return await _report(seal_no)

    @api.get(
        "/seal-trips/{seal_no}/report.pdf",
        summary="The trip report (SEAL-TRIP-1), printable (PDF, A4)",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def report_as_pdf(seal_no: str, _: Reader) -> Response:
        content = report_pdf.render(await _report(seal_no))
        filename = f"trip-report-{_seal(seal_no).replace(' ', '')}.pdf"
        return Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )

    @api.get(
        "/seal-verdicts/{port_code}/{be_no}/{be_date}",
        summary="Where a warehousing BE's seal reconciliation stands (OOC-WH-1)",
        responses={200: _json_body(SEAL_VERDICT)},
    )
    async def verdict(port_code: str, be_no: str, be_date: date, _: Reader) -> dict[str, Any]:
        key = f"{port_code}/{be_no}/{be_date.isoformat()}"
        async with sessions() as session:
            view = await views.verdict_view(session, key)
        if view is None:
            raise HTTPException(status_code=404, detail=f"no warehousing BE {key}")
        return _checked(SEAL_VERDICT, view)  # type: ignore[no-any-return]

    return api
