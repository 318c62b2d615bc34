"""Messages the platform sends back as ICES 1.5 flat files: the acknowledgement CHCAI02
(.ack / .nak, spec pp. 53-55), the processed BE CHCAI04 (.chl, p. 55) and the out-of-charge
message CHCAI07 (p. 56).

The spec gives CHCAI07 no record layout ("On OOC, the printable BE file is generated and
transmitted to the importer", p. 56): its one record here is the platform's own (see
`OOC_FIELDS`), keyed as CHCAI04 is.

File names (p. 11): the processed BE is `<Sequence Number>.chl`; the spec names no file for
CHCAI07, so it is `<Sequence Number>.ooc` here. The sequence number is the HREC "Sequence or
Control Number" of the message (p. 9: "a unique value ... to uniquely identify the
document"): custom house, BE number, BE date and version (`sequence`), so a message sent
again (a redelivery) has the same name and overwrites its file rather than adding one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from clearance_runtime.clock import CUSTOMS_TIMEZONE

from be_intake.adapters.ices import spec
from be_intake.adapters.ices.flatfile import Fault, Header, envelope
from be_intake.domain.case import IcesMessage

#: File extensions (p. 11): `.chl` the spec's for the processed BE; `.ooc` the platform's.
EXTENSIONS = {spec.PROCESSED: "chl", spec.OUT_OF_CHARGE: "ooc"}

#: CHCAI07 (no layout in the spec, p. 56): the platform's record.
OOC_FIELDS = (
    "Message Type",
    "Custom House Code",
    "BE Number",
    "BE Date",
    "BE Version",
    "Out of Charge Number",
    "Out of Charge Date",
    "Out of Charge Mode (automatic/officer/ccv)",
    "Gatepass Number",
)


def _date(day: date | str | None) -> str:
    if day is None:
        return ""
    return str(day)[:10].replace("-", "")


def _reply_header(
    to: str, port_code: str, message_id: str, control_no: str, at: datetime
) -> Header:
    return Header(
        sender=port_code or "ICES",
        receiver=to or "UNKNOWN",
        test=False,
        message_id=message_id,
        control_no=control_no or "0",
        date=at.strftime("%Y%m%d"),
        time=at.strftime("%H%M"),
    )


def _line(values: list[str]) -> str:
    return spec.DELIMITER.join(values)


def positive(
    *,
    to: str,
    control_no: str,
    at: datetime,
    port_code: str,
    job: tuple[str, str] | None,
    be_no: str,
    be_date: date | str,
    be_type: str = "",
    appraising_group: str = "",
    amendment: tuple[int, date | str, Sequence[str]] | None = None,
) -> str:
    """CHCAI02 with error code 00 (p. 53-54): one record for a fresh BE; for an amendment one
    per amended segment, with the amendment number and date."""
    header = _reply_header(to, port_code, spec.ACKNOWLEDGEMENT, control_no, at)
    records = []
    segments = [""] if amendment is None else list(amendment[2]) or [""]
    for segment in segments:
        v = [""] * len(spec.CHCAI02.fields)
        v[0], v[1] = "F", port_code
        if job is not None and amendment is None:
            v[2], v[3] = job[0], _date(job[1])
        v[4], v[5] = be_no, _date(be_date)
        v[19] = "00"
        if amendment is None:
            v[6], v[22] = be_type, appraising_group
        else:
            v[20], v[21], v[23] = str(amendment[0]), _date(amendment[1]), segment
        records.append(_line(v))
    return envelope(header, records)


def negative(
    *,
    to: str,
    control_no: str,
    at: datetime,
    port_code: str,
    job: tuple[str, str] | None,
    faults: Sequence[Fault],
) -> str:
    """CHCAI02 with the error codes (p. 54-55): a record per record at fault (its codes joined
    by '|', p. 55), and one per fault of the file as a whole."""
    header = _reply_header(to, port_code, spec.ACKNOWLEDGEMENT, control_no, at)
    grouped: dict[tuple[int | None, str | None], list[str]] = {}
    for fault in faults:
        key = (fault.line, fault.segment) if fault.line is not None else (None, fault.segment)
        codes = grouped.setdefault(key, [])
        if fault.code not in codes:
            codes.append(fault.code)
    records = []
    for (_, segment), codes in grouped.items():
        v = [""] * len(spec.CHCAI02.fields)
        v[0], v[1] = "F", port_code
        if job is not None:
            v[2], v[3] = job[0], _date(job[1])
        v[19] = "|".join(codes)[:100]
        v[23] = (segment or "")[:10]
        records.append(_line(v))
    return envelope(header, records)


def sequence(port_code: str, be_no: str, be_date: date | str, version: int) -> str:
    """The message's Sequence or Control Number (p. 9) and file stem (p. 11): custom house
    (C6), BE number (N7), BE date (YYYYMMDD), version (two digits)."""
    return f"{port_code}{be_no}{_date(be_date)}{version:02d}"


def processed(
    *,
    to: str,
    at: datetime,
    port_code: str,
    be_no: str,
    be_date: date | str,
    user_id: str,
    control_no: str | None = None,
) -> str:
    """CHCAI04, the processed (assessed) BE (p. 55); no challan or print file here."""
    control = control_no or f"{be_no}{_date(be_date)}"
    header = _reply_header(to, port_code, spec.PROCESSED, control, at)
    v = ["F", port_code, be_no, _date(be_date), user_id[:20], "", ""]
    return envelope(header, [_line(v)])


def out_of_charge(
    *,
    to: str,
    at: datetime,
    port_code: str,
    be_no: str,
    be_date: date | str,
    version: int,
    ooc_no: str,
    ooc_date: date | str,
    mode: str,
    gatepass_no: str | None,
    control_no: str | None = None,
) -> str:
    """CHCAI07, the out-of-charge message (p. 56; the record is the platform's, OOC_FIELDS)."""
    control = control_no or f"{be_no}{_date(be_date)}"
    header = _reply_header(to, port_code, spec.OUT_OF_CHARGE, control, at)
    v = [
        "F",
        port_code,
        be_no,
        _date(be_date),
        str(version),
        ooc_no,
        _date(ooc_date),
        mode,
        gatepass_no or "",
    ]
    return envelope(header, [_line(v)])


def issued(message: IcesMessage) -> dict[str, Any]:
    """The CHCAI04 / CHCAI07 a case owes its filer, rendered: the data of
    `clearance.ices-message.issued.v1` (its file name, sequence number and flat file). The
    header's date and time are the customs day's (IST); the same message renders the same."""
    ref = message.ref
    control = sequence(ref.port_code, ref.be_no, ref.be_date, ref.version)
    at = message.at.astimezone(CUSTOMS_TIMEZONE)
    ooc = message.ooc or {}
    if message.message_id == spec.PROCESSED:
        text = processed(
            to=message.to,
            at=at,
            port_code=ref.port_code,
            be_no=ref.be_no,
            be_date=ref.be_date,
            user_id=message.filer,
            control_no=control,
        )
    else:
        text = out_of_charge(
            to=message.to,
            at=at,
            port_code=ref.port_code,
            be_no=ref.be_no,
            be_date=ref.be_date,
            version=ref.version,
            ooc_no=ooc["ooc_no"],
            ooc_date=ooc["ooc_date"],
            mode=ooc.get("mode") or "",
            gatepass_no=ooc.get("gatepass_no"),
            control_no=control,
        )
    return {
        "filer": message.filer,
        "message_id": message.message_id,
        "control_no": control,
        "bill_of_entry_ref": ref.to_data(),
        "file_name": f"{control}.{EXTENSIONS[message.message_id]}",
        "channel": message.channel,
        "message": text,
        "ooc_no": ooc.get("ooc_no") if message.message_id == spec.OUT_OF_CHARGE else None,
        "issued_at": message.at.isoformat(),
    }
