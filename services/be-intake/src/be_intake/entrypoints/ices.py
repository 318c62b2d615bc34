"""ICES 1.5 flat files over HTTP (the service centre's upload) and the inbox directory.

`POST /ices/messages` takes the raw file as `text/plain` (its name in `X-Ices-File-Name`,
or the `name` query parameter) and answers with the acknowledgement (CHCAI02) and every
fault, as JSON (`ices.acknowledgement.v1`): 202 registered / pending, 200 duplicate, 422
rejected, 413 too large. The inbox watcher (`watch_inbox`, a periodic task) answers each
`<name>.be` dropped in the directory with `<name>.ack` / `<name>.nak` beside it, each
`<name>.beamd` with `<name>.beamd.ack` / `.nak`.

Later messages of a BE filed as a flat file (CHCAI04 processed BE, spec p. 55; CHCAI07
out-of-charge BE, p. 56): `GET /ices/messages/{port_code}/{be_no}/{be_date}/{message_id}`
answers the latest one sent as the flat file itself (`text/plain`), 404 until its facts
exist; for a BE filed through the inbox the file also appears beside the `.ack`
(`inbox_writer`, from be-intake's consumer of `clearance.ices-message.issued.v1`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from clearance_contracts import HTTP_ERROR, ICES_ACKNOWLEDGEMENT, dereferenced_schema, validate_http
from clearance_runtime.access import Principal, requires
from clearance_runtime.policies import PolicyBook
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParameter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import views
from be_intake.adapters.ices import flatfile
from be_intake.adapters.ices import messages as rendered
from be_intake.service_layer import ices
from be_intake.service_layer.handlers import FileWriter
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)
Filer = Annotated[Principal, Depends(requires("filer"))]
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(be|beamd)$")
_CODES = {"registered": 202, "pending": 202, "duplicate": 200, "rejected": 422}
PortCode = Annotated[str, PathParameter(pattern=r"^[A-Z]{2}[A-Z0-9]{4}$", examples=["INNSA1"])]
BeNo = Annotated[str, PathParameter(pattern=r"^[0-9]{7}$", examples=["5000001"])]
BeDate = Annotated[date, PathParameter(examples=["2025-03-20"])]
MessageId = Annotated[
    Literal["CHCAI04", "CHCAI07"],
    PathParameter(description="CHCAI04 processed BE (spec p. 55), CHCAI07 out-of-charge BE"),
]
_SAMPLE_CHCAI07 = (
    "HREC\x1dZZ\x1dINNSA1\x1dZZ\x1dAABCJ2231PCH001\x1dICES1_5\x1dP\x1d\x1dCHCAI07\x1d"
    "INNSA150000012025032001\x1d20250321\x1d1512\nF\x1dINNSA1\x1d5000001\x1d20250320\x1d1\x1d"
    "INNSA1-OOC-000012871\x1d20250321\x1dautomatic\x1dINNSA1-GP-000098112\n"
    "TREC\x1dINNSA150000012025032001\n"
)


def _json(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


def router(
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    book: PolicyBook,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> APIRouter:
    api = APIRouter(tags=["ICES 1.5 flat files"])

    @api.post(
        "/ices/messages",
        status_code=202,
        summary="Upload an ICES 1.5 BE message (CACHI01 / CACHI01_A flat file), get CHCAI02",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
        responses={
            200: {
                "description": "duplicate: the BE number it already has",
                **_json(ICES_ACKNOWLEDGEMENT),
            },
            202: {
                "description": "registered (or amendment pending the officer)",
                **_json(ICES_ACKNOWLEDGEMENT),
            },
            400: {"description": "the file name is malformed", **_json(HTTP_ERROR)},
            401: {"description": "no identity", **_json(HTTP_ERROR)},
            403: {
                "description": "not a filer, or a BE of another CB code or IEC",
                **_json(HTTP_ERROR),
            },
            413: {"description": "larger than the limit", **_json(HTTP_ERROR)},
            422: {
                "description": "rejected: the negative acknowledgement",
                **_json(ICES_ACKNOWLEDGEMENT),
            },
        },
    )
    async def upload(
        request: Request,
        response: Response,
        caller: Filer,
        name: Annotated[str | None, Query(max_length=70)] = None,
    ) -> dict[str, Any]:
        file_name = name or request.headers.get("x-ices-file-name") or "upload.be"
        if _NAME.fullmatch(file_name) is None:
            raise HTTPException(400, "the file name is <name>.be or <name>.beamd (spec p. 11)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > flatfile.MAX_BYTES:
            raise HTTPException(413, f"at most {flatfile.MAX_BYTES} bytes")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > flatfile.MAX_BYTES:
                raise HTTPException(413, f"at most {flatfile.MAX_BYTES} bytes")
        filer = ices.filed_as(bytes(raw))
        if filer is not None and not caller.permits(cb_code=filer[0], iec=filer[1]):
            raise HTTPException(403, "a filer uploads only BEs of its own CB code or IEC")
        ack = await ices.receive(unit_of_work, book, bytes(raw), name=file_name, channel="http")
        response.status_code = _CODES[ack.outcome]
        validate_http(ICES_ACKNOWLEDGEMENT, ack.data)
        return ack.data

    @api.get(
        "/ices/messages/{port_code}/{be_no}/{be_date}/{message_id}",
        summary="The latest CHCAI04 (processed BE) or CHCAI07 (out-of-charge BE) of a BE "
        "filed as an ICES flat file, as the flat file",
        response_class=Response,
        responses={
            200: {
                "description": "the flat file (HREC ... TREC, ASCII 29 delimiters); its name "
                "in Content-Disposition: <sequence>.chl (spec p. 11) or <sequence>.ooc",
                "content": {
                    "text/plain": {"schema": {"type": "string"}, "example": _SAMPLE_CHCAI07}
                },
            },
            401: {"description": "no identity", **_json(HTTP_ERROR)},
            403: {"description": "not a filer", **_json(HTTP_ERROR)},
            404: {
                "description": "no such BE, not filed as a flat file, or not assessed (CHCAI04) "
                "/ not out of charge (CHCAI07) yet",
                **_json(HTTP_ERROR),
            },
            422: {"description": "a malformed path parameter", **_json(HTTP_ERROR)},
        },
    )
    async def message(
        port_code: PortCode, be_no: BeNo, be_date: BeDate, message_id: MessageId, caller: Filer
    ) -> Response:
        """CHCAI04 once its version's assessment is complete, CHCAI07 once Out of Charge is
        issued (issue 9): the same text `clearance.ices-message.issued.v1` carried."""
        if sessions is None:
            raise HTTPException(404, "no messages here")
        async with sessions() as session:
            cb_code, iec = await views.filer_of(session, (port_code, be_no, be_date))
            caller.check(cb_code=cb_code or "-", iec=iec or "-")  # another filer's BE: 404
            found = await views.case_of(session, (port_code, be_no, be_date))
        sent = None if found is None else found[0].ices_message(message_id)
        if sent is None:
            raise HTTPException(404, f"no {message_id} for this BE (yet)")
        data = rendered.issued(sent)
        disposition = f'attachment; filename="{data["file_name"]}"'
        return Response(
            data["message"],
            media_type="text/plain",
            headers={"Content-Disposition": disposition},
        )

    return api


def inbox_writer(directory: Path) -> FileWriter:
    """Writes a CHCAI04 / CHCAI07 into the inbox directory, beside the `.ack` (written whole
    then renamed: the broker's system never reads half a file)."""

    async def write(name: str, text: str) -> None:
        await asyncio.to_thread(_answer, directory, name, text)

    return write


def watch_inbox(
    directory: Path,
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    book: PolicyBook,
) -> Callable[[], Awaitable[None]]:
    """A periodic task: each file named as the spec names BE messages (`<jobno><year>.be`,
    `.beamd`, p. 10-11) without an answer yet is read and answered beside it (`.ack` /
    `.nak`, written whole then renamed; an amendment's answer under its whole name,
    `ices.ack_name`). A file too large is answered without being read."""

    async def scan() -> None:
        for name, raw in await asyncio.to_thread(_waiting, directory):
            try:
                ack = await ices.receive(unit_of_work, book, raw, name=name, channel="inbox")
            except Exception:  # the database away: tried again on the next scan
                log.exception("inbox file %s not processed yet", name)
                continue
            await asyncio.to_thread(_answer, directory, ack.file_name, ack.text)

    return scan


def _waiting(directory: Path) -> list[tuple[str, bytes]]:
    """The files without an answer yet, and their bytes (a stand-in past the limit)."""
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.iterdir()):
        if _NAME.fullmatch(path.name) is None or not path.is_file():
            continue
        answers = (ices.ack_name(path.name, positive) for positive in (True, False))
        if any((directory / answer).exists() for answer in answers):
            continue
        too_large = path.stat().st_size > flatfile.MAX_BYTES
        out.append((path.name, b"x" * (flatfile.MAX_BYTES + 1) if too_large else path.read_bytes()))
    return out


def _answer(directory: Path, name: str, text: str) -> None:
    partial = directory / f".{name}.part"
    partial.write_text(text, encoding="ascii")
    os.replace(partial, directory / name)
