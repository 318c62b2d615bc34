"""bis-verifier's HTTP API: where a BE's BIS verification stands, and the registry link."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from clearance_runtime.access import Principal, requires
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine

from bis_verifier.adapters.registry_http import CircuitBreaker
from bis_verifier.adapters.views import verification_view
from bis_verifier.service_layer.registry import CachedRegistry

#: An officer reads the verdicts of its own customs locations only (`location` claim).
Reader = Annotated[
    Principal, Depends(requires("officer", "upstream", "administrator", location="port_code"))
]
Administrator = Annotated[Principal, Depends(requires("administrator"))]


def routes(
    engine: AsyncEngine, registry: CachedRegistry, breaker: CircuitBreaker, base_url: str
) -> APIRouter:
    api = APIRouter(tags=["bis verification"])

    @api.get(
        "/verifications/{port_code}/{be_no}/{be_date}",
        summary="Each version's BIS verdict, or why it waits; the BE's samples",
    )
    async def verification(port_code: str, be_no: str, be_date: date, _: Reader) -> dict[str, Any]:
        view = await verification_view(engine, port_code, be_no, be_date)
        if view is None:
            raise HTTPException(404, f"no BIS verification of {port_code}/{be_no}/{be_date}")
        return view

    @api.get("/admin/registry", summary="The BIS registry link: circuit and cache")
    async def registry_link(_: Administrator) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "circuit": breaker.state.value,
            "cached_answers": len(registry),
            "max_status_age_s": registry.max_age.total_seconds(),
        }

    return api
