"""Administration over HTTP, the same in every service: policies and (in tests) the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException

from clearance_runtime.access import Principal, requires
from clearance_runtime.clock import Clock, ControllableClock
from clearance_runtime.policies import (
    InvalidPolicy,
    Policies,
    PolicyNotInForce,
    PolicyStore,
    PolicyVersion,
)

Administrator = Annotated[Principal, Depends(requires("administrator"))]
JsonObject = Annotated[dict[str, Any], Body()]


def policy_routes(
    store: PolicyStore,
    clock: Clock,
    changed: Callable[[], Awaitable[None]] | None = None,
) -> APIRouter:
    """List, read, and add versions of the service's policies (administrators); `changed`
    runs after a version is added (the service's `ServiceParts.policies_changed`)."""
    api = APIRouter(prefix="/admin/policies", tags=["administration"])
    book: Policies = store.policies

    @api.get("", summary="The service's policies and the version of each in force now")
    async def index(_: Administrator) -> list[dict[str, Any]]:
        now = clock.now()
        return [
            {
                "policy_id": kind.policy_id,
                "description": kind.description,
                "in_force_now": _version_in_force(book, kind.policy_id, now),
                "versions": [p.summary() for p in book.versions(kind.policy_id)],
            }
            for kind in book.kinds
        ]

    @api.get("/{policy_id}", summary="Every version of one policy, with its body")
    async def versions(policy_id: str, _: Administrator) -> list[dict[str, Any]]:
        _known(book, policy_id)
        return [{**p.summary(), "body": p.raw_body} for p in book.versions(policy_id)]

    @api.post(
        "/{policy_id}",
        status_code=201,
        summary="Add a version, in force from its effective_from (no deploy needed)",
    )
    async def add(
        policy_id: str,
        version: JsonObject,
        who: Administrator,
    ) -> dict[str, Any]:
        _known(book, policy_id)
        try:
            parsed = PolicyVersion.from_data(version, policy_id)
            policy = await store.add_version(parsed, f"admin:{who.subject}")
        except InvalidPolicy as error:
            raise HTTPException(status_code=422, detail=str(error)) from error
        if changed is not None:
            await changed()
        return policy.summary()

    return api


def clock_routes(
    clock: ControllableClock, remember: Callable[[ControllableClock], Awaitable[None]]
) -> APIRouter:
    """Move a controllable clock (tests and replays only: `CLEARANCE_CLOCK_CONTROL`);
    `remember` keeps the move for the next start of the service."""
    api = APIRouter(prefix="/admin/clock", tags=["administration"])

    @api.get("", summary="The service's now")
    async def now(_: Administrator) -> dict[str, str]:
        return {"now": clock.now().isoformat()}

    @api.post("", summary="Advance the clock by seconds, or set it to an instant")
    async def move(change: JsonObject, _: Administrator) -> dict[str, str]:
        try:
            if "set" in change:
                clock.set(datetime.fromisoformat(str(change["set"])))
            else:
                clock.advance(timedelta(seconds=float(change["advance_seconds"])))
        except (KeyError, TypeError, ValueError) as error:
            raise HTTPException(status_code=422, detail=f"bad clock change: {error}") from error
        await remember(clock)
        return {"now": clock.now().isoformat()}

    return api


def _known(book: Policies, policy_id: str) -> None:
    try:
        book.kind(policy_id)
    except KeyError as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


def _version_in_force(book: Policies, policy_id: str, now: datetime) -> int | None:
    try:
        return book.in_force(book.kind(policy_id), now).version
    except PolicyNotInForce:
        return None
