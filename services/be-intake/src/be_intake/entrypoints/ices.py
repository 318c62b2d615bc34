"""ICES 1.5 flat files over HTTP (the service centre's upload) and the inbox directory.

`POST /ices/messages` takes the raw file as `text/plain` (its name in `X-Ices-File-Name`,
or the `name` query parameter) and answers with the acknowledgement (CHCAI02) and every
fault, as JSON (`ices.acknowledgement.v1`): 202 registered / pending, 200 duplicate, 422
rejected, 413 too large. The inbox watcher (`watch_inbox`, a periodic task) answers each
`*.be` / `*.beamd` dropped in the directory with `<name>.ack` / `<name>.nak` beside it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Annotated, Any

from clearance_contracts import HTTP_ERROR, ICES_ACKNOWLEDGEMENT, dereferenced_schema, validate_http
from clearance_runtime.access import Principal, requires
from clearance_runtime.policies import PolicyBook
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from be_intake.adapters.ices import flatfile
from be_intake.service_layer import ices
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)
Filer = Annotated[Principal, Depends(requires("filer"))]
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(be|beamd)$")
_CODES = {"registered": 202, "pending": 202, "duplicate": 200, "rejected": 422}


def _json(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


def router(
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    book: PolicyBook,
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
            403: {"description": "not a filer", **_json(HTTP_ERROR)},
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
        _: Filer,
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
        ack = await ices.receive(unit_of_work, book, bytes(raw), name=file_name, channel="http")
        response.status_code = _CODES[ack.outcome]
        validate_http(ICES_ACKNOWLEDGEMENT, ack.data)
        return ack.data

    return api


def watch_inbox(
    directory: Path,
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    book: PolicyBook,
) -> Callable[[], Awaitable[None]]:
    """A periodic task: each file named as the spec names BE messages (`<jobno><year>.be`,
    `.beamd`, p. 10-11) without an answer yet is read and answered beside it (`.ack` /
    `.nak`, written whole then renamed). A file too large is answered without being read."""

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
        stem = path.name.rsplit(".", 1)[0]
        if (directory / f"{stem}.ack").exists() or (directory / f"{stem}.nak").exists():
            continue
        too_large = path.stat().st_size > flatfile.MAX_BYTES
        out.append((path.name, b"x" * (flatfile.MAX_BYTES + 1) if too_large else path.read_bytes()))
    return out


def _answer(directory: Path, name: str, text: str) -> None:
    partial = directory / f".{name}.part"
    partial.write_text(text, encoding="ascii")
    os.replace(partial, directory / name)
