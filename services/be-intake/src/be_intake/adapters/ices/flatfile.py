"""Reading and writing ICES 1.5 flat files: the HREC ... TREC envelope (spec p. 9), records
of fields delimited by ASCII 29 (p. 10), `<TABLE>` segment lines, LF or CR LF line endings.

`read` checks the envelope and every field against the spec's table for the record's mode
(`spec.py`) and returns the message, or every fault it found (never raises on any input;
the number of faults reported is capped). `write` renders records back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from be_intake.adapters.ices import spec

MAX_BYTES = 8 * 1024 * 1024  # a 999-item BE is well under 2 MB
MAX_FAULTS = 200
_PRINTABLE = re.compile(rb"[^\x20-\x7e\x1d\r\n\t]")
_NUMBER = re.compile(r"^-?([0-9]*)(?:\.([0-9]*))?$")


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong in a file: where (line, segment, record within it, field number)
    and what the spec expects there; `code` is an entry of `spec.ERROR_CODES`."""

    code: str
    expected: str
    line: int | None = None
    segment: str | None = None
    record: int | None = None
    field: int | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "line": self.line,
            "segment": self.segment,
            "record": self.record,
            "field": self.field,
            "expected": self.expected,
        }


@dataclass(frozen=True, slots=True)
class Header:
    sender: str
    receiver: str
    test: bool
    message_id: str
    control_no: str
    date: str  # YYYYMMDD
    time: str  # HHMM


@dataclass(frozen=True, slots=True)
class Record:
    segment: str
    values: tuple[str, ...]  # field 1 .. n, stripped
    line: int = 0
    index: int = 0  # 1-based within its segment

    @property
    def mode(self) -> str:
        return self.values[0]

    def text(self, no: int) -> str:
        return self.values[no - 1]

    def where(self, no: int | None = None) -> dict[str, Any]:
        return {"line": self.line, "segment": self.segment, "record": self.index, "field": no}


@dataclass
class Message:
    header: Header
    records: list[Record] = field(default_factory=list)

    def of(self, segment: str) -> list[Record]:
        return [r for r in self.records if r.segment == segment]


class Faults(list[Fault]):
    """A capped list of faults."""

    def add(self, fault: Fault) -> None:
        if len(self) < MAX_FAULTS:
            self.append(fault)

    @property
    def full(self) -> bool:
        return len(self) >= MAX_FAULTS


def read(raw: bytes, *, max_bytes: int = MAX_BYTES) -> Message | list[Fault]:
    """The message in `raw`, or its faults."""
    if len(raw) > max_bytes:
        return [Fault("18", f"at most {max_bytes} bytes; the file has {len(raw)}")]
    faults = Faults()
    lines = raw.split(b"\n")
    for n, line in enumerate(lines, start=1):
        bad = _PRINTABLE.search(line)
        if bad is not None:
            faults.add(
                Fault(
                    "05",
                    f"printable ASCII or ASCII 29; byte 0x{bad.group()[0]:02X} at column "
                    f"{bad.start() + 1}",
                    line=n,
                )
            )
            if faults.full:
                return faults
    if faults:
        return faults
    text = [line.decode("ascii").rstrip("\r") for line in lines]
    while text and not text[-1].strip():
        text.pop()
    if not text:
        return [Fault("02", "HREC^]ZZ^]<Sender ID>^]ZZ^]<Receiver ID>^]... (p. 9)", line=1)]
    header = _header(text[0], faults)
    trailer = text[-1].split(spec.DELIMITER)
    last = len(text)
    if trailer[0] != "TREC":
        faults.add(Fault("03", "TREC^]<control number> as the last line (p. 9)", line=last + 1))
        last += 1
    elif len(trailer) != 2:
        faults.add(Fault("03", "TREC^]<control number>: 2 fields", line=last))
    elif header is not None and trailer[1].strip() != header.control_no:
        faults.add(
            Fault(
                "04",
                f"the control number of HREC, {header.control_no!r}; TREC has "
                f"{trailer[1].strip()!r} (p. 9)",
                line=last,
                field=2,
            )
        )
    if header is None:
        return faults
    mode_letters = {"F"} if header.message_id == spec.FRESH else {"A", "S", "D"}
    message = Message(header)
    segment: spec.Segment | None = None
    skipping = False
    counts: dict[str, int] = {}
    body = text[1 : len(text) - (1 if trailer[0] == "TREC" else 0)]
    for n, row in enumerate(body, start=2):
        if faults.full:
            break
        if not row.strip():
            continue
        if row.startswith("<TABLE>"):
            name = row[len("<TABLE>") :].strip()
            segment, skipping = spec.SEGMENTS.get(name), False
            if segment is None:
                skipping = True
                known = name in spec.NOT_SUPPORTED
                faults.add(
                    Fault(
                        "07" if known else "06",
                        (
                            f"<TABLE>{name} is in the spec but not taken by the platform"
                            if known
                            else "one of <TABLE>" + ", <TABLE>".join(sorted(spec.SEGMENTS))
                        ),
                        line=n,
                        segment=name,
                    )
                )
            continue
        if skipping:
            continue
        if segment is None:
            faults.add(Fault("14", "a <TABLE> line before the first record", line=n))
            continue
        counts[segment.name] = counts.get(segment.name, 0) + 1
        record = _record(segment, row, n, counts[segment.name], mode_letters, faults)
        if record is not None:
            message.records.append(record)
    return faults if faults else message


def _header(line: str, faults: Faults) -> Header | None:
    parts = line.split(spec.DELIMITER)
    expected = (
        "HREC^]ZZ^]<Sender ID>^]ZZ^]<Receiver ID>^]ICES1_5^]<T or P>^]^]<Message ID>^]"
        "<Control Number>^]<Date YYYYMMDD>^]<Time HHMM> (p. 9)"
    )
    if parts[0] != "HREC" or len(parts) != 12:
        faults.add(Fault("02", expected + f"; found {len(parts)} fields", line=1))
        return None
    wrong = [
        no
        for no, ok in (
            (2, parts[1] == "ZZ"),
            (3, bool(parts[2].strip())),
            (4, parts[3] == "ZZ"),
            (6, parts[5] == spec.VERSION),
            (7, parts[6] in ("T", "P")),
            (10, bool(parts[9].strip()) and len(parts[9].strip()) <= 20),
            (11, _date(parts[10]) is not None),
            (12, re.fullmatch(r"[0-9]{4}", parts[11]) is not None),
        )
        if not ok
    ]
    for no in wrong:
        faults.add(Fault("02", expected, line=1, segment="HREC", field=no))
    if parts[8] not in (spec.FRESH, spec.AMENDMENT):
        faults.add(
            Fault("01", "message ID CACHI01 or CACHI01_A (p. 9)", line=1, segment="HREC", field=9)
        )
        return None
    if wrong:
        return None
    return Header(
        sender=parts[2].strip(),
        receiver=parts[4].strip(),
        test=parts[6] == "T",
        message_id=parts[8],
        control_no=parts[9].strip(),
        date=parts[10],
        time=parts[11],
    )


def _record(
    segment: spec.Segment, line: str, n: int, index: int, modes: set[str], faults: Faults
) -> Record | None:
    values = line.split(spec.DELIMITER)
    size = len(segment.fields)
    if len(values) == size + 1 and not values[-1].strip():
        values.pop()  # a delimiter after the last field (the spec's example on p. 10)
    where: dict[str, Any] = {"line": n, "segment": segment.name, "record": index}
    if len(values) != size:
        faults.add(
            Fault(
                "08",
                f"{size} fields in <TABLE>{segment.name} ({segment.part}, p. {segment.page}); "
                f"found {len(values)}",
                **where,
            )
        )
        return None
    values = [v.strip() for v in values]
    mode = values[0]
    if mode not in segment.modes or mode not in modes:
        allowed = sorted(set(segment.modes) & modes)
        faults.add(
            Fault(
                "01" if allowed else "14",
                (
                    f"message type {' or '.join(allowed)} in <TABLE>{segment.name} of this message"
                    if allowed
                    else f"no <TABLE>{segment.name} in this message (p. 12)"
                ),
                field=1,
                **where,
            )
        )
        return None
    ok = True
    for spec_field, value in zip(segment.fields[1:], values[1:], strict=True):
        problem = check(spec_field, value, mode)
        if problem is not None:
            code, expected = problem
            faults.add(Fault(code, f"{expected} (p. {segment.page})", field=spec_field.no, **where))
            ok = False
    return Record(segment.name, tuple(values), n, index) if ok else None


def check(f: spec.Field, value: str, mode: str) -> tuple[str, str] | None:
    """What is wrong with `value` in field `f` for `mode`, as (error code, expected)."""
    presence = f.presence(mode)
    label = f"field {f.no} {f.name!r} {_kind(f)}"
    if not value:
        if presence in ("M", "K"):
            return "09", f"{label}, {'a key' if presence == 'K' else 'mandatory'} in mode {mode}"
        return None
    if presence == "X":
        return "13", f"{label} empty in mode {mode} (X: not required)"
    if f.type == "D":
        return None if _date(value) is not None else ("12", f"{label}: a date YYYYMMDD")
    if f.type == "N":
        match = _NUMBER.fullmatch(value)
        if match is None or not (match.group(1) or match.group(2)):
            return "11", f"{label}: a number"
        whole, decimals = match.group(1), match.group(2) or ""
        if len(decimals) > f.scale or len(whole.lstrip("0")) > f.length - f.scale:
            return "11", f"{label}: at most {f.length - f.scale} digits before the point"
        return None
    if len(value) > f.length:
        return "10", f"{label}: at most {f.length} characters; found {len(value)}"
    return None


def _kind(f: spec.Field) -> str:
    if f.type == "D":
        return "Date"
    if f.type == "N":
        return f"N{f.length}" + (f",{f.scale}" if f.scale else "")
    return f"C{f.length}"


def _date(value: str) -> date | None:
    if re.fullmatch(r"[0-9]{8}", value) is None:
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def parse_date(value: str) -> date | None:
    return _date(value) if value else None


# -- writing ------------------------------------------------------------------------------


def envelope(header: Header, lines: Iterable[str], *, crlf: bool = False) -> str:
    head = spec.DELIMITER.join(
        [
            "HREC",
            "ZZ",
            header.sender,
            "ZZ",
            header.receiver,
            spec.VERSION,
            "T" if header.test else "P",
            "",
            header.message_id,
            header.control_no,
            header.date,
            header.time,
        ]
    )
    end = "\r\n" if crlf else "\n"
    body = [head, *lines, f"TREC{spec.DELIMITER}{header.control_no}"]
    return end.join(body) + end


def segment_lines(records: Sequence[Record]) -> list[str]:
    """`<TABLE>` lines and records, a segment's records together, in the order given."""
    out: list[str] = []
    current = None
    for record in records:
        if record.segment != current:
            out.append(f"<TABLE>{record.segment}")
            current = record.segment
        out.append(spec.DELIMITER.join(record.values))
    return out


def write(message: Message, *, crlf: bool = False) -> str:
    return envelope(message.header, segment_lines(message.records), crlf=crlf)


def header_of(raw: bytes) -> Header | None:
    """The HREC header of a file at fault, if it can be read (to address the answer)."""
    first = raw[:512].split(b"\n", 1)[0].rstrip(b"\r")
    if _PRINTABLE.search(first) is not None:
        return None
    return _header(first.decode("ascii"), Faults())
