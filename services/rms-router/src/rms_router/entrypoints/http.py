"""HTTP API of rms-router: the officers' queues and tasks (RMS-QUEUE-1), the decisions of
a BE with their replay (RMS-LANES-1), and its audit trail.

Every route has one access dependency, `requires(...)` (issue 12 swaps its body for
bearer tokens). Bodies are validated against their contracts
(`contracts/.../schemas/http/`), and OpenAPI publishes those schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from clearance_contracts import ContractViolation, dereferenced_schema, validate_http
from clearance_contracts.names import (
    ASSESSMENT_RESULT,
    AUDIT_TRAIL,
    EXAMINATION_RESULT,
    OFFICER_QUEUE,
    OFFICER_TASK,
    PGA_NOC_RESULT,
    RMS_DECISION_REPLAY,
    RMS_DECISIONS,
)
from clearance_domain import BillOfEntryRef, PolicyRef
from clearance_runtime.access import Principal, requires
from clearance_runtime.policies import Policies
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rms_router.adapters import views
from rms_router.domain.decision import RmsDecision, decide
from rms_router.domain.facts import RiskFacts
from rms_router.domain.rule_set import RULE_SET
from rms_router.domain.work import (
    BILL_OF_ENTRY,
    KINDS,
    SHIPPING_BILL,
    InvalidResult,
    document_reference,
    group_queue,
    location_queue,
)
from rms_router.service_layer import officers
from rms_router.service_layer.officers import Conflict, Forbidden, NotFound, Officer
from rms_router.service_layer.unit_of_work import RmsUnitOfWork, TaskDetail

OfficerCaller = Annotated[Principal, Depends(requires("officer"))]
Reader = Annotated[Principal, Depends(requires("officer", "administrator"))]
UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[RmsUnitOfWork]]


def _json_body(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


def _request(name: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, **_json_body(name)}}


def _plain(value: Any) -> Any:
    """A database value as JSON data."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _body(request: Request, schema_name: str) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
        validate_http(schema_name, body)
    except orjson.JSONDecodeError as error:
        raise HTTPException(status_code=400, detail=f"the body is not JSON: {error}") from error
    except ContractViolation as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return dict(body)


def _officer(caller: Principal) -> Officer:
    try:
        return Officer.of(caller)
    except Forbidden as error:
        raise HTTPException(status_code=403, detail=str(error)) from error


def _refusal(error: Exception) -> HTTPException:
    status = {NotFound: 404, Forbidden: 403, Conflict: 409, InvalidResult: 422}
    return HTTPException(status_code=status[type(error)], detail=str(error))


def task_body(detail: TaskDetail) -> dict[str, Any]:
    task = detail.task
    body = {
        "task_id": task.task_id,
        **task.reference_data(),
        "kind": task.kind,
        "queue": task.queue,
        "state": task.state,
        "agency": task.agency,
        "instructions": detail.instructions,
        "position": detail.position,
        "claimed_by": task.claimed_by,
        "claim_no": task.claim_no,
        "claimed_at": _plain(detail.claimed_at),
        "claim_expires_at": _plain(detail.claim_expires_at),
        "opened_at": _plain(detail.opened_at),
        "completed_at": _plain(detail.completed_at),
        "summary": dict(detail.summary),
        "result": detail.result,
    }
    validate_http(OFFICER_TASK, body)
    return body


def router(
    unit_of_work: UnitOfWorkFactory,
    sessions: async_sessionmaker[AsyncSession],
    policies: Policies,
    claim_ttl_s: float,
) -> APIRouter:
    api = APIRouter()

    async def queue_of(name: str, kind: str | None, limit: int) -> dict[str, Any]:
        async with sessions() as session:
            tasks, counts = await views.queue(session, name, kind, limit)
        body = {
            "queue": name,
            "open": counts.get("open", 0),
            "claimed": counts.get("claimed", 0),
            "tasks": [
                {
                    "task_id": row["task_id"],
                    **document_reference(
                        row["document"],
                        BillOfEntryRef(
                            row["port_code"], row["be_no"], row["be_date"], row["version"]
                        ),
                    ),
                    "kind": row["kind"],
                    "agency": row["agency"],
                    "position": row["position"],
                    "opened_at": _plain(row["opened_at"]),
                }
                for row in tasks
            ],
        }
        validate_http(OFFICER_QUEUE, body)
        return body

    async def claim(caller: Principal, name: str, kind: str | None) -> Response:
        officer = _officer(caller)
        try:
            async with unit_of_work() as uow:
                detail = await officers.claim_next(uow, officer, name, kind, claim_ttl_s)
        except (Forbidden, Conflict) as error:
            raise _refusal(error) from error
        if detail is None:
            return Response(status_code=204)
        return Response(orjson.dumps(task_body(detail)), media_type="application/json")

    kinds = Query(None, description=f"only tasks of one kind: {', '.join(KINDS)}")

    @api.get(
        "/queues/locations/{port_code}",
        tags=["officer queues"],
        summary="Open tasks at a customs location, first in first out",
        responses={200: _json_body(OFFICER_QUEUE)},
    )
    async def location(
        port_code: str,
        caller: OfficerCaller,
        kind: str | None = kinds,
        limit: int = Query(100, ge=1, le=1000),
    ) -> dict[str, Any]:
        _check(caller, location_queue(port_code))
        return await queue_of(location_queue(port_code), kind, limit)

    @api.post(
        "/queues/locations/{port_code}/claim",
        tags=["officer queues"],
        summary="Claim the next BE of the location's queue (204 when it is empty)",
        responses={200: _json_body(OFFICER_TASK), 204: {"description": "nothing to claim"}},
    )
    async def claim_at_location(
        port_code: str, caller: OfficerCaller, kind: str | None = kinds
    ) -> Response:
        return await claim(caller, location_queue(port_code), kind)

    @api.get(
        "/queues/examination",
        tags=["officer queues"],
        summary="Open examinations and scans of every location, FIFO (operations overview)",
    )
    async def examinations(
        caller: Reader,
        assessment_group: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """RMS-QUEUE-1 at a glance, for the operations console: each open examination or
        scan with its location (`port_code`), the BE's group and since when it waits.
        Officers work the queues through /queues/locations/{port_code}."""
        async with sessions() as session:
            rows = await views.examinations(session, assessment_group, limit)
        return [_plain(row) for row in rows]

    @api.get(
        "/queues/groups/{group}",
        tags=["officer queues"],
        summary="Open assessments of a Faceless Assessment Group, first in first out",
        responses={200: _json_body(OFFICER_QUEUE)},
    )
    async def group(
        group: str, caller: OfficerCaller, limit: int = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        _check(caller, group_queue(group))
        return await queue_of(group_queue(group), None, limit)

    @api.post(
        "/queues/groups/{group}/claim",
        tags=["officer queues"],
        summary="Claim the next BE of the group's queue (204 when it is empty)",
        responses={200: _json_body(OFFICER_TASK), 204: {"description": "nothing to claim"}},
    )
    async def claim_in_group(group: str, caller: OfficerCaller) -> Response:
        return await claim(caller, group_queue(group), None)

    @api.get(
        "/tasks/{task_id}",
        tags=["officer tasks"],
        summary="A task of one of the officer's queues",
        responses={200: _json_body(OFFICER_TASK)},
    )
    async def task(task_id: int, caller: OfficerCaller) -> dict[str, Any]:
        officer = _officer(caller)
        try:
            async with unit_of_work() as uow:
                detail = await officers.read_task(uow, officer, task_id)
        except (NotFound, Forbidden) as error:
            raise _refusal(error) from error
        return task_body(detail)

    async def record(
        caller: Principal, task_id: int, request: Request, schema_name: str, command: Any
    ) -> dict[str, Any]:
        officer = _officer(caller)
        body = await _body(request, schema_name)
        try:
            async with unit_of_work() as uow:
                data: dict[str, Any] = await command(uow, officer, task_id, body)
        except (NotFound, Forbidden, Conflict, InvalidResult) as error:
            raise _refusal(error) from error
        return data

    @api.post(
        "/tasks/{task_id}/assessment",
        tags=["officer tasks"],
        summary="Confirm the self-assessment or re-assess the duty (the claimed task)",
        openapi_extra=_request(ASSESSMENT_RESULT),
    )
    async def assessment(task_id: int, request: Request, caller: OfficerCaller) -> dict[str, Any]:
        return await record(caller, task_id, request, ASSESSMENT_RESULT, officers.record_assessment)

    @api.post(
        "/tasks/{task_id}/examination",
        tags=["officer tasks"],
        summary="Record what the examination or scan found (the claimed task)",
        openapi_extra=_request(EXAMINATION_RESULT),
    )
    async def examination(task_id: int, request: Request, caller: OfficerCaller) -> dict[str, Any]:
        return await record(
            caller, task_id, request, EXAMINATION_RESULT, officers.record_examination
        )

    @api.post(
        "/tasks/{task_id}/pga-noc",
        tags=["officer tasks"],
        summary="Record a partner agency's NOC or refusal (the claimed task)",
        openapi_extra=_request(PGA_NOC_RESULT),
    )
    async def pga_noc(task_id: int, request: Request, caller: OfficerCaller) -> dict[str, Any]:
        return await record(caller, task_id, request, PGA_NOC_RESULT, officers.record_pga_noc)

    @api.post(
        "/tasks/{task_id}/release",
        tags=["officer tasks"],
        status_code=204,
        summary="Give the claimed BE back: it returns to its place in the queue",
    )
    async def release(task_id: int, caller: OfficerCaller) -> Response:
        officer = _officer(caller)
        try:
            async with unit_of_work() as uow:
                await officers.release(uow, officer, task_id)
        except (NotFound, Forbidden, Conflict) as error:
            raise _refusal(error) from error
        return Response(status_code=204)

    @api.get(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/audit",
        tags=["audit"],
        summary="Everything the engine and the officers decided about the BE, in order",
        responses={200: _json_body(AUDIT_TRAIL)},
    )
    async def audit_trail(
        port_code: str, be_no: str, be_date: date, caller: Reader
    ) -> dict[str, Any]:
        return await trail_of(caller, (port_code, be_no, be_date), BILL_OF_ENTRY)

    @api.get(
        "/shipping-bills/{port_code}/{sb_no}/{sb_date}/audit",
        tags=["audit"],
        summary="The examination of an export whose seal was tampered (SEAL-TAMPER-1), in order",
        responses={200: _json_body(AUDIT_TRAIL)},
    )
    async def export_audit_trail(
        port_code: str, sb_no: str, sb_date: date, caller: Reader
    ) -> dict[str, Any]:
        return await trail_of(caller, (port_code, sb_no, sb_date), SHIPPING_BILL)

    async def trail_of(
        caller: Principal, identity: tuple[str, str, date], document: str
    ) -> dict[str, Any]:
        async with sessions() as session:
            await _may_read(session, caller, identity, document)
            entries = await views.audit_trail(session, identity, document)
        if not entries:
            what = "BE" if document == BILL_OF_ENTRY else "Shipping Bill"
            raise HTTPException(status_code=404, detail=f"rms-router knows no such {what}")
        version = max(entry["version"] for entry in entries)
        body = {
            **document_reference(document, BillOfEntryRef(*identity, version)),
            "entries": [_plain(entry) for entry in entries],
        }
        validate_http(AUDIT_TRAIL, body)
        return body

    @api.get(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/decisions",
        tags=["audit"],
        summary="The RMS decision on each version, with the facts it was taken on",
        responses={200: _json_body(RMS_DECISIONS)},
    )
    async def decisions(
        port_code: str, be_no: str, be_date: date, caller: Reader
    ) -> dict[str, Any]:
        identity = (port_code, be_no, be_date)
        async with sessions() as session:
            await _may_read(session, caller, identity)
            rows = await views.decisions(session, identity)
        if not rows:
            raise HTTPException(status_code=404, detail="no decision on this BE")
        body = {"decisions": [_decision_body(row) for row in rows]}
        validate_http(RMS_DECISIONS, body)
        return body

    @api.get(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/decisions/{version}/replay",
        tags=["audit"],
        summary="Take a recorded decision again from its facts under its rule-set version",
        responses={200: _json_body(RMS_DECISION_REPLAY)},
    )
    async def replay(
        port_code: str, be_no: str, be_date: date, version: int, caller: Reader
    ) -> dict[str, Any]:
        identity = (port_code, be_no, be_date)
        async with sessions() as session:
            await _may_read(session, caller, identity)
            rows = await views.decisions(session, identity)
        row = next((r for r in rows if r["version"] == version and r["facts"]), None)
        if row is None:
            raise HTTPException(status_code=404, detail="no recorded decision on this version")
        number = row["rule_set_version"]
        policy = next(
            (p for p in policies.versions(RULE_SET.policy_id) if p.version == number), None
        )
        if policy is None:
            raise HTTPException(status_code=404, detail=f"rule-set version {number} is unknown")
        facts = RiskFacts.from_data(row["facts"])
        again = decide(facts, policy.body, PolicyRef(policy.policy_id, policy.version))
        recorded = _comparable(_decision_body(row))
        replayed = _comparable(_replayed_body(again))
        body = {
            "bill_of_entry_ref": facts.ref.to_data(),
            "rule_set": {"policy_id": policy.policy_id, "version": policy.version},
            "recorded": recorded,
            "replayed": replayed,
            "identical": recorded == replayed,
        }
        validate_http(RMS_DECISION_REPLAY, body)
        return body

    return api


def _check(caller: Principal, queue: str) -> None:
    try:
        _officer(caller).check(queue)
    except Forbidden as error:
        raise _refusal(error) from error


async def _may_read(
    session: AsyncSession,
    caller: Principal,
    identity: tuple[str, str, date],
    document: str = BILL_OF_ENTRY,
) -> None:
    """Administrators read every trail; an officer those of its location and groups."""
    if caller.has("administrator"):
        return
    officer = _officer(caller)
    if officer.location == identity[0]:
        return
    queues = {row["queue"] for row in await views.tasks_of(session, identity, document)}
    if not any(officer.may_work(queue) for queue in queues):
        raise HTTPException(status_code=403, detail="not a BE of the officer's location or groups")


def _decision_body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": row["version"],
        "outcome": row["outcome"],
        "selections": list(row["selections"] or []),
        "assessment_group": row["assessment_group"],
        "rule_set": (
            None
            if row["rule_set_version"] is None
            else {"policy_id": RULE_SET.policy_id, "version": row["rule_set_version"]}
        ),
        "fired_rules": list(row["fired_rules"] or []),
        "examination_instructions": row["examination_instructions"],
        "partner_agencies": list(row["partner_agencies"] or []),
        "interdiction": row["interdiction"],
        "reasons": row["reasons"],
        "decided_at": _plain(row["decided_at"]),
        "facts": row["facts"],
    }


def _replayed_body(decision: RmsDecision) -> dict[str, Any]:
    interdiction = decision.interdiction
    return {
        "outcome": decision.outcome,
        "selections": list(decision.selections),
        "assessment_group": decision.assessment_group,
        "fired_rules": list(decision.fired_rules),
        "interdiction": None if interdiction is None else interdiction.to_data(),
    }


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {
        key: body[key]
        for key in ("outcome", "selections", "assessment_group", "fired_rules", "interdiction")
    }
