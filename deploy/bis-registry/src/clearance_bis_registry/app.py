"""The registry's HTTP API: what a deployment's BIS source answers, the same shape here.

    GET /registrations/{registration_no}[?on=YYYY-MM-DD]   a BIS-CRS registration
    GET /licences/{licence_no}[?on=YYYY-MM-DD]             a CM/L licence (7- or 10-digit form)
    GET /healthz, /readyz                                  liveness, readiness

`on` adds `status_on`: the status on that day (an `Operative` registration past
its `Valid Upto` is not valid). 404 when the register has no such number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, HTTPException

from clearance_bis_registry.licences import Licence, canonical_licence_no
from clearance_bis_registry.register import Registration


def create_app(
    registrations: Mapping[str, Registration],
    licences: Mapping[str, Licence],
    *,
    snapshot: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    app = FastAPI(
        title="BIS registry (stand-in for the BIS portal)",
        description=(
            "The real BIS-CRS register (a 2021 scrape of the public register that CBIC "
            "Instruction 07/2025 tells officers to consult) and SAMPLE CM/L licences."
        ),
    )

    def answered(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "register_snapshot": snapshot, "answered_at": now().isoformat()}

    @app.get("/registrations/{registration_no}", summary="A BIS-CRS registration")
    async def registration(registration_no: str, on: date | None = None) -> dict[str, Any]:
        found = registrations.get(registration_no.strip().upper())
        if found is None:
            raise HTTPException(404, f"registration {registration_no} is not in the register")
        return answered(found.to_data(on))

    @app.get("/licences/{licence_no:path}", summary="A CM/L licence (either number form)")
    async def licence(licence_no: str, on: date | None = None) -> dict[str, Any]:
        number = canonical_licence_no(licence_no)
        if number is None:
            raise HTTPException(400, f"{licence_no!r} is not a CM/L licence number")
        found = licences.get(number)
        if found is None:
            raise HTTPException(404, f"licence {number} is not in the register")
        return answered(found.to_data(on))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "bis-registry"}

    @app.get("/readyz")
    async def readyz() -> dict[str, Any]:
        return {
            "registrations": len(registrations),
            "licences": len(licences),
            "register_snapshot": snapshot,
        }

    return app
