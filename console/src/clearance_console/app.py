"""The console's web app: the page, and the JSON it reads, behind the platform's roles.

The page itself (`/`, `/static/...`) is public and holds no data; every `/api/...`
route takes `clearance_runtime.access.requires(...)` as its one dependency
(officers and administrators read; administrators replay dead letters): the caller's
bearer token is verified as the services verify it. The console then reads the services
as itself, with its own token (client credentials of the `clearance-console` client),
and Kafka's dead letters as its own principal.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
from clearance_runtime import dlq
from clearance_runtime.access import (
    AuthConfig,
    ClientCredentials,
    Principal,
    TokenVerifier,
    requires,
)
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from clearance_console import sources
from clearance_console.config import Settings
from clearance_console.figures import IST, day_bounds, day_figures

STATIC = Path(__file__).parent / "static"
_READ = Depends(requires("officer", "administrator"))
_REPLAY = Depends(requires("administrator"))
#: The most BEs one day's figures read from be-intake.
DAY_LIMIT = 20000


class ReplayRequest(BaseModel):
    topic: str
    partition: int
    offset: int


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = settings.service_urls()
    intake = services["be-intake"]
    state: dict[str, httpx.AsyncClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            state["client"] = client
            yield

    app = FastAPI(
        title="clearance: operations console", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.token_verifier = (
        TokenVerifier(
            AuthConfig(
                issuer=settings.auth_issuer,
                audience=settings.auth_audience,
                jwks_url=settings.auth_jwks_url,
                roles_claim=settings.auth_roles_claim,
                subject_claim=settings.auth_subject_claim,
            )
        )
        if settings.auth_issuer
        else None
    )
    itself = ClientCredentials(
        settings.auth_issuer,
        settings.auth_client_id,
        settings.auth_client_secret.get_secret_value(),
    )

    async def own_headers() -> dict[str, str]:
        """The console's own token for the services (none without an issuer or secret)."""
        if not (settings.auth_issuer and settings.auth_client_secret.get_secret_value()):
            return {}
        try:
            return await itself.headers()
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise HTTPException(502, f"the console cannot sign in: {error!r}") from error

    def client() -> httpx.AsyncClient:
        return state["client"]

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "console"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, Any]:
        return {"service": "console", "instance_id": settings.instance_id, "ready": True}

    api = APIRouter(prefix="/api")

    async def call(url: str, request: Request, **params: Any) -> Any:
        del request  # the caller is checked by the route; the console reads as itself
        try:
            return await sources.get_json(client(), url, await own_headers(), **params)
        except sources.ServiceError as error:
            raise HTTPException(status_code=502, detail=str(error)) from error

    @api.get("/bills-of-entry")
    async def search(
        request: Request,
        _caller: Annotated[Principal, _READ],
        be_no: str | None = None,
        iec: str | None = None,
        port_code: str | None = None,
        be_date: date | None = None,
        stuck: bool | None = None,
    ) -> Any:
        """The BE tracker's search: be-intake's status view by BE, IEC, port and date."""
        return await call(
            f"{intake}/bills-of-entry",
            request,
            be_no=be_no,
            iec=iec,
            port_code=port_code,
            be_date=be_date.isoformat() if be_date else None,
            stuck=None if stuck is None else str(stuck).lower(),
            limit=200,
        )

    @api.get("/bills-of-entry/{port_code}/{be_no}/{be_date}")
    async def timeline(
        port_code: str,
        be_no: str,
        be_date: date,
        request: Request,
        _caller: Annotated[Principal, _READ],
    ) -> Any:
        """One BE: its timeline with reasons and rule ids, and its traces."""
        key = f"{port_code}/{be_no}/{be_date.isoformat()}"
        status = await call(f"{intake}/bills-of-entry/{key}", request)
        if status is None:
            raise HTTPException(status_code=404, detail=f"be-intake knows no BE {key}")
        ids = await sources.trace_ids(client(), settings.zipkin_url, key)
        viewer = settings.zipkin_url
        return {
            "status": status,
            "traces": [f"{viewer}/zipkin/traces/{trace_id}" for trace_id in ids],
            "trace_search": (
                f"{viewer}/zipkin/?annotationQuery=clearance.bill_of_entry%3D{key}&lookback=7d"
                if viewer
                else None
            ),
        }

    @api.get("/dead-letters")
    async def dead_letters(
        request: Request, _caller: Annotated[Principal, _READ]
    ) -> dict[str, Any]:
        """Every dead letter with its reason, and the BEs stuck (be-intake's view)."""
        letters = await sources.dead_letters(settings.kafka_bootstrap)
        stuck = await call(f"{intake}/bills-of-entry", request, stuck="true", limit=500)
        stuck_keys = {
            "{port_code}/{be_no}/{be_date}".format(**be["bill_of_entry_ref"])
            for be in (stuck or {}).get("bills_of_entry", [])
        }
        return {
            "dead_letters": [
                {**sources.letter_data(letter), "stuck": letter.key in stuck_keys}
                for letter in letters
            ],
            "stuck": (stuck or {}).get("bills_of_entry", []),
        }

    @api.post("/dead-letters/replay")
    async def replay(
        wanted: ReplayRequest, _caller: Annotated[Principal, _REPLAY]
    ) -> dict[str, Any]:
        """Put one dead letter back on its topic (clearance_runtime.dlq.replay): the
        consumer that gave up handles it afresh; the others drop it by its id."""

        def chosen(letter: dlq.DeadLetter) -> bool:
            return (letter.partition, letter.offset) == (wanted.partition, wanted.offset)

        if not wanted.topic.endswith(".dlq"):
            raise HTTPException(status_code=422, detail="only a dead-letter topic (*.dlq)")
        replayed = await dlq.replay(settings.kafka_bootstrap, wanted.topic, select=chosen)
        if not replayed:
            raise HTTPException(status_code=404, detail="no such dead letter")
        return {"replayed": [sources.letter_data(letter) for letter in replayed]}

    @api.get("/queues")
    async def queues(request: Request, _caller: Annotated[Principal, _READ]) -> Any:
        """Officers' queue depths and oldest item per location and group."""
        return {"queues": await sources.queue_depths(client(), services, await own_headers())}

    @api.get("/flow")
    async def flow(_caller: Annotated[Principal, _READ]) -> Any:
        """Consumer lag, outbox backlog, dead letters and stuck BEs per service."""
        return {"services": await sources.flow(client(), services)}

    @api.get("/day")
    async def day(
        request: Request,
        _caller: Annotated[Principal, _READ],
        on: Annotated[date | None, Query(description="the customs day (IST)")] = None,
    ) -> Any:
        """The day's counts by outcome and release times (NTRS manner)."""
        chosen = on or datetime.now(IST).date()
        start, end = day_bounds(chosen)
        found = await call(
            f"{intake}/bills-of-entry",
            request,
            seen_from=start.isoformat(),
            seen_until=end.isoformat(),
            limit=DAY_LIMIT,
        )
        bills = (found or {}).get("bills_of_entry", [])
        return day_figures(chosen, bills, truncated=len(bills) >= DAY_LIMIT).to_data()

    app.include_router(api)

    @app.exception_handler(sources.ServiceError)
    async def service_error(_: Request, error: sources.ServiceError) -> Response:
        return Response(str(error), status_code=502)

    return app
