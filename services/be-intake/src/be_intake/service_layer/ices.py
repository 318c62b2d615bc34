"""ICES 1.5 flat files in (CACHI01, CACHI01_A) and acknowledgements out (CHCAI02): the one
path both transports (HTTP upload, inbox directory) take.

A file is read against the spec (`adapters/ices`); a fresh BE gets its BE number from the
custom house's sequence and goes, as the canonical BE, through the same `process` as the
JSON path (every intake rule, INTAKE-BE-1 registration, INTAKE-TIME-1 at the service
centre's cut-off); an amendment is applied to the registered BE and goes through the same
amendment path (INTAKE-AMEND-1, -2). Whatever the outcome, the acknowledgement is published
as `clearance.ices-acknowledgement.issued.v1` in the same transaction; a file at fault
registers nothing and publishes nothing else. A BE registered from a flat file remembers its
sender and transport: its CHCAI04 and CHCAI07 follow later as
`clearance.ices-message.issued.v1` (`handlers.render_events`), and for the inbox as files
beside the `.ack` (`write_message`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    ContractViolation,
    validate_event,
)
from clearance_domain import BillOfEntryRef
from clearance_runtime.clock import CUSTOMS_TIMEZONE
from clearance_runtime.policies import PolicyBook

from be_intake.adapters.ices import flatfile, mapping, messages, spec
from be_intake.adapters.ices.flatfile import Fault
from be_intake.domain.case import filer_of
from be_intake.domain.routing import appraising_group
from be_intake.service_layer.handlers import process
from be_intake.service_layer.messages import Amendment, Filing, FlatFile, Result
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

ICES_ACKNOWLEDGEMENT_ISSUED = "clearance.ices-acknowledgement.issued.v1"
_FILER = re.compile(r"^[A-Z0-9]{10,15}$")


@dataclass
class Acknowledgement:
    """What became of a file: the CHCAI02 text and its file name, and the event's data."""

    outcome: str  # registered | duplicate | pending | rejected
    file_name: str
    text: str
    ref: BillOfEntryRef | None
    faults: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def positive(self) -> bool:
        return self.outcome != "rejected"


def ack_name(name: str, positive: bool) -> str:
    """`<ICEGATE MESSAGE FILE NO>.ack` / `.nak` (spec p. 11): for a fresh BE the input's
    name, its extension replaced (`401272025.be` -> `401272025.ack`); for an amendment the
    whole name (`401272025.beamd` -> `401272025.beamd.ack`), as the spec names a BE and its
    amendments after the same job (`<jobno><year>.be`, `<jobno><year>.beamd`, p. 10): the
    amendment's answer neither overwrites the BE's nor passes for it."""
    suffix = "ack" if positive else "nak"
    if name.endswith(".beamd"):
        return f"{name}.{suffix}"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.{suffix}"


def filed_as(raw: bytes) -> tuple[str | None, str | None] | None:
    """Whom a file files for, as (CB code, IEC): a fresh BE's own; for an amendment its
    sender, whom `_amend` ties to the BE's filer (code 19). None for a file that cannot be
    read: its NAK names the faults and registers nothing."""
    read = flatfile.read(raw)
    if isinstance(read, list):
        return None
    if read.header.message_id != spec.FRESH:
        return read.header.sender, read.header.sender
    parsed = mapping.fresh(read)
    if isinstance(parsed, list):
        return None
    be = parsed.bill_of_entry
    return be.get("customs_broker_code"), be.get("iec")


async def receive(
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    book: PolicyBook,
    raw: bytes,
    *,
    name: str,
    channel: str,
) -> Acknowledgement:
    """Read, register or reject, acknowledge: never raises on any input."""
    read = flatfile.read(raw)
    async with unit_of_work() as uow:
        if isinstance(read, list):
            header = flatfile.header_of(raw)
            message = None if header is None else flatfile.Message(header)
            return _nak(uow, message, read, name, channel, raw)
        if read.header.message_id == spec.FRESH:
            return await _fresh(uow, book, read, name, channel, raw)
        return await _amend(uow, book, read, name, channel, raw)


async def _fresh(
    uow: IntakeUnitOfWork,
    book: PolicyBook,
    message: flatfile.Message,
    name: str,
    channel: str,
    raw: bytes,
) -> Acknowledgement:
    parsed = mapping.fresh(message)
    if isinstance(parsed, list):
        return _nak(uow, message, parsed, name, channel, raw)
    data = parsed.bill_of_entry
    now = uow.clock.now()
    today = now.astimezone(CUSTOMS_TIMEZONE).date()
    data |= {"be_no": "0000000", "be_date": today.isoformat(), "filed_at": now.isoformat()}
    try:  # what the canonical BE cannot hold is a fault of the file, before any number
        validate_event(BILL_OF_ENTRY_FILED, data)
    except ContractViolation as error:
        return _nak(uow, message, [Fault("20", str(error)[:500])], name, channel, raw)
    filer = filer_of(data.get("customs_broker_code"), data["iec"])
    job = (filer, data.get("user_job_no") or "", date.fromisoformat(data["user_job_date"]))
    known = await uow.intake.registered_for_jobs([job]) if data.get("user_job_date") else {}
    if job in known:  # a duplicate keeps the BE number it got (INTAKE-BE-1)
        port, be_no, be_date = known[job]
        data |= {"port_code": port, "be_no": be_no, "be_date": be_date.isoformat()}
    else:
        data["be_no"] = await uow.intake.next_be_no(data["port_code"], today)
    event_id = str(uuid.uuid4())
    flat_file = FlatFile(message.header.sender, channel, name)
    filing = Filing(data, event_id, service_centre=True, flat_file=flat_file)
    [result] = await process(uow, book, [filing])
    assert result is not None
    if result.outcome == "rejected":
        return _nak(uow, message, _rule_faults(result), name, channel, raw)
    ref = result.ref or BillOfEntryRef.from_data(data)
    # RMS-FAG-1: rms-router's routing as it published it, for the version in force on the
    # BE date (None: none held yet, or a heading the table does not list; README)
    group = appraising_group(await uow.intake.routings(), ref.be_date, data)
    text = messages.positive(
        to=message.header.sender,
        control_no=message.header.control_no,
        at=now,
        port_code=ref.port_code,
        job=(data.get("user_job_no") or "", data.get("user_job_date") or ""),
        be_no=ref.be_no,
        be_date=ref.be_date,
        be_type=data["be_type"],
        appraising_group=group or "",
    )
    return _ack(uow, message, result.outcome, ref, text, name, channel, raw, filer, group)


async def _amend(
    uow: IntakeUnitOfWork,
    book: PolicyBook,
    message: flatfile.Message,
    name: str,
    channel: str,
    raw: bytes,
) -> Acknowledgement:
    request = mapping.amendment(message)
    if isinstance(request, list):
        return _nak(uow, message, request, name, channel, raw)
    port, be_no, be_date = request.identity
    identity = (port, be_no, date.fromisoformat(be_date))
    current = await uow.intake.current_bill_of_entry(identity)
    sender = message.header.sender
    if current is None or sender not in (
        current.get("customs_broker_code"),
        current.get("iec"),
        filer_of(current.get("customs_broker_code"), current["iec"]),
    ):
        fault = Fault("19", f"a BE registered for the filer {sender}: {port}/{be_no}/{be_date}")
        return _nak(uow, message, [fault], name, channel, raw)
    amended = mapping.amended(current, request)
    if isinstance(amended, list):
        return _nak(uow, message, amended, name, channel, raw)
    now = uow.clock.now()
    data = {"bill_of_entry": amended, "reason": request.reason, "requested_at": now.isoformat()}
    try:
        validate_event(BILL_OF_ENTRY_AMENDMENT_FILED, data)
    except ContractViolation as error:
        return _nak(uow, message, [Fault("20", str(error)[:500])], name, channel, raw)
    [result] = await process(uow, book, [Amendment(data, str(uuid.uuid4()))])
    assert result is not None
    if result.outcome == "rejected":
        return _nak(uow, message, _rule_faults(result), name, channel, raw)
    ref = result.ref or BillOfEntryRef(*identity)
    segments = list(dict.fromkeys(r.segment for r in request.records)) or ["AMEND"]
    text = messages.positive(
        to=sender,
        control_no=message.header.control_no,
        at=now,
        port_code=port,
        job=None,
        be_no=be_no,
        be_date=be_date,
        amendment=(max(ref.version - 1, 1), now.astimezone(CUSTOMS_TIMEZONE).date(), segments),
    )
    filer = filer_of(current.get("customs_broker_code"), current["iec"])
    return _ack(uow, message, result.outcome, ref, text, name, channel, raw, filer)


def _rule_faults(result: Result) -> list[Fault]:
    return [
        Fault(
            "30",
            f"{r.rule_id}: {r.message}",
            segment="ITEMS" if r.item_sl_no is not None else None,
        )
        for r in result.reasons
    ]


def _ack(
    uow: IntakeUnitOfWork,
    message: flatfile.Message,
    outcome: str,
    ref: BillOfEntryRef,
    text: str,
    name: str,
    channel: str,
    raw: bytes,
    filer: str,
    appraising_group: str | None = None,
) -> Acknowledgement:
    ack = Acknowledgement(outcome, ack_name(name, True), text, ref)
    ack.data = _event(uow, message, ack, name, channel, filer)
    ack.data["appraising_group"] = appraising_group
    _publish(uow, ack)
    return ack


def _nak(
    uow: IntakeUnitOfWork,
    message: flatfile.Message | None,
    faults: list[Fault],
    name: str,
    channel: str,
    raw: bytes,
) -> Acknowledgement:
    header = None if message is None else message.header
    be = None if message is None or not message.of("BE") else message.of("BE")[0]
    port = be.text(2) if be is not None else (header.receiver if header else "")
    job = (be.text(3), be.text(4)) if be is not None and be.mode == "F" else None
    text = messages.negative(
        to=header.sender if header else "",
        control_no=header.control_no if header else "",
        at=uow.clock.now(),
        port_code=port if re.fullmatch(r"[A-Z0-9]{6}", port or "") else "",
        job=job,
        faults=faults,
    )
    ack = Acknowledgement(
        "rejected", ack_name(name, False), text, None, [f.to_data() for f in faults]
    )
    filer = None
    if be is not None and be.mode == "F":
        filer = filer_of(be.text(22) or None, be.text(8))
    elif header is not None:
        filer = header.sender
    ack.data = _event(uow, message, ack, name, channel, filer)
    _publish(uow, ack)
    return ack


def _event(
    uow: IntakeUnitOfWork,
    message: flatfile.Message | None,
    ack: Acknowledgement,
    name: str,
    channel: str,
    filer: str | None,
) -> dict[str, Any]:
    codes = sorted({f["code"] for f in ack.faults}) if ack.faults else ["00"]
    return {
        "filer": filer if filer and _FILER.fullmatch(filer) else None,
        "message_id": None if message is None else message.header.message_id,
        "control_no": None if message is None else message.header.control_no,
        "file_name": name,
        "channel": channel,
        "outcome": ack.outcome,
        "error_codes": codes,
        "bill_of_entry_ref": None if ack.ref is None else ack.ref.to_data(),
        "faults": ack.faults,
        "acknowledgement_file": ack.file_name,
        "acknowledgement": ack.text,
        "issued_at": uow.clock.now().isoformat(),
    }


def _publish(uow: IntakeUnitOfWork, ack: Acknowledgement) -> None:
    """The acknowledgement as an event, keyed by the filer; a file naming no filer at all
    (e.g. no HREC) is answered only by its .nak / HTTP response."""
    if ack.data["filer"] is not None:
        uow.publish(ICES_ACKNOWLEDGEMENT_ISSUED, ack.data["filer"], ack.data)
