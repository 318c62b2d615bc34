"""The BIS-CRS public register as published, read into typed records (pure; no I/O but `load`).

The register (`shared/domain/bis/crs-register-2021.csv`, 9,011 rows) is a
scrape of the portal customs officers consult under CBIC Instruction 07/2025.
Its scraper stripped every space, and its status column is free text. This
module maps that text to a small vocabulary (anything unrecognised is
`unknown`, which never clears), parses the dates inside it (`Cancelled w.e.f.
01 Nov 2017`), and reads the history the models column carries inline
(`(following models included on 12 Jul 2019)`) together with the models
deleted from scope and stopped from sale.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path


class RegistrationStatus(StrEnum):
    """The documented vocabulary of a registration's status."""

    VALID = "valid"  # `Operative`
    MODEL_STOP_SALE = "model_stop_sale"  # `Stop Sale and Supply Model no. X, w.e.f. D`
    DEFERRED = "deferred"
    CANCELLED = "cancelled"  # also `Cancelled w.e.f. D`, misspellings
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # `WITHDRAWN W.E.F. D`, `Non-Operative ... due to surrendering`
    UNKNOWN = "unknown"  # anything else: never clears


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# `01Nov2017`, `1Dec2015`, `25JULY2016`, `16-Feb-2016`, `01.11.2017`, `01-11-2017`
_DATE_IN_TEXT = re.compile(r"(\d{1,2})[-. ]?([A-Za-z]{3,9}|\d{1,2})[-. ]?(\d{4})")


def date_in_text(text: str) -> date | None:
    """The first date written inside free text, in any of the register's forms."""
    for match in _DATE_IN_TEXT.finditer(text):
        day, month_text, year = match.groups()
        month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.casefold(), 0)
        try:
            return date(int(year), month, int(day))
        except ValueError:
            continue
    return None


_COLUMN_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")


def register_date(text: str) -> date | None:
    """`25-Dec-2021`, the form of the date columns; None when absent (`-`) or unreadable."""
    match = _COLUMN_DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[3]), _MONTHS.get(match[2].casefold(), 0), int(match[1]))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class StatusReading:
    status: RegistrationStatus
    since: date | None = None  # the `w.e.f.` date, when the text gives one
    model: str | None = None  # the model a stop-sale names


_STOP_SALE = re.compile(
    r"^stopsaleandsupplymodelno\.?(?P<model>.+?),?w\.?e\.?f\.?(?P<when>.*)$", re.IGNORECASE
)
_STATUS_PATTERNS = (
    (re.compile(r"^operative$", re.I), RegistrationStatus.VALID),
    (re.compile(r"^expired$", re.I), RegistrationStatus.EXPIRED),
    (re.compile(r"^can+cel+ed", re.I), RegistrationStatus.CANCELLED),
    (re.compile(r"^deferred$", re.I), RegistrationStatus.DEFERRED),
    (re.compile(r"^withdrawn", re.I), RegistrationStatus.WITHDRAWN),
    (re.compile(r"^non-?operative", re.I), RegistrationStatus.WITHDRAWN),
)


def read_status(text: str) -> StatusReading:
    """The register's free-text status in the vocabulary; `unknown` when not recognised."""
    compact = re.sub(r"\s+", "", text)
    stop_sale = _STOP_SALE.match(compact)
    if stop_sale:
        return StatusReading(
            RegistrationStatus.MODEL_STOP_SALE,
            date_in_text(stop_sale["when"]),
            stop_sale["model"].strip(" ,."),
        )
    for pattern, status in _STATUS_PATTERNS:
        if pattern.search(compact):
            return StatusReading(status, date_in_text(compact))
    return StatusReading(RegistrationStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A model in a registration's scope, with when it joined and left it."""

    model: str
    included_on: date | None = None  # None: in scope since the grant (or undated)
    inclusion: str = "at grant"  # how the register records its inclusion
    removed: bool = False  # deleted from scope
    removed_on: date | None = None  # None while removed: date unknown (removed throughout)
    stop_sale_from: date | None = None

    def in_scope_on(self, day: date) -> bool:
        if self.included_on is not None and day < self.included_on:
            return False
        if self.removed and (self.removed_on is None or self.removed_on <= day):
            return False
        return not (self.stop_sale_from is not None and self.stop_sale_from <= day)


# A parenthesised note is history only when it speaks of inclusion, deletion or changeover;
# other brackets belong to model names (`80XS(Lenovoideapad320-15ABRD)`, `(H)`).
_HISTORY = re.compile(r"f\w*l+owing|includ|delet|changeover", re.IGNORECASE)
_LABEL = re.compile(r"^[a-z]*models?:", re.IGNORECASE)  # `NewSeriesModels:`


_PARENS = re.compile(r"[(),]")
_BRACKETS = re.compile(r"[()]")


def _split_models(text: str) -> list[str]:
    """Comma-separated models, commas inside brackets kept, register noise trimmed."""
    if "(" not in text:
        models = text.split(",")
    else:
        models, depth, start = [], 0, 0
        for match in _PARENS.finditer(text):
            char = match.group()
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(depth - 1, 0)
            elif depth == 0:
                models.append(text[start : match.start()])
                start = match.end()
        models.append(text[start:])
    cleaned = (
        (_LABEL.sub("", model.strip()) if ":" in model else model).strip(" .,;") for model in models
    )
    return [model for model in cleaned if model]


def _bracketed(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, inside) of each outermost bracketed group (nesting allowed)."""
    depth, start = 0, 0
    for match in _BRACKETS.finditer(text):
        char, index = match.group(), match.start()
        if char == "(":
            if depth == 0:
                start = index
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                yield start, index + 1, text[start + 1 : index]


def _notes(text: str) -> Iterator[tuple[int, int, str]]:
    """The bracketed groups that are history notes."""
    return ((s, e, inside) for s, e, inside in _bracketed(text) if _HISTORY.search(inside))


def _history_segments(text: str) -> Iterator[tuple[str | None, str]]:
    """(history note before it, or None for the first) and each run of models."""
    note: str | None = None
    start = 0
    for begin, end, inside in _notes(text):
        yield note, text[start:begin]
        note, start = inside, end
    yield note, text[start:]


def read_models(view_models: str) -> list[RegisteredModel]:
    """The models of `View Models`, each with the date the inline history gives it.

    A model listed again later (a changeover to a revised standard) keeps its first
    inclusion. Undated notes (`included as per IS 16333 (Part 3)`) give no date.
    """
    found: dict[str, RegisteredModel] = {}
    for note, segment in _history_segments(view_models):
        if note is None:
            included, inclusion = None, "at grant"
        elif re.search(r"changeover", note, re.IGNORECASE):
            included, inclusion = None, note
        else:
            included, inclusion = date_in_text(note), note
        for model in _split_models(segment):
            found.setdefault(model.casefold(), RegisteredModel(model, included, inclusion))
    return list(found.values())


def read_deleted_models(text: str) -> tuple[date | None, list[str]]:
    """`Models deleted from scope`: the date, when given, and the models.

    Forms seen: `MODELDELETEDFROMSCOPE21JAN2020,MODELNO.X`, `(Following Models deleted
    from scope w.e.f. 01 Sep 2017)X,Y`, and a bare list without a date."""
    text = text.strip()
    if text in ("", "-"):
        return None, []
    note = next(_notes(text), None)
    if note is not None:
        return date_in_text(note[2]), _split_models(text[note[1] :])
    header = re.match(r"^modeldeletedfromscope(?P<when>[^,]*),(?P<rest>.*)$", text, re.I)
    if header:
        rest = re.sub(r"^modelno\.?", "", header["rest"], flags=re.IGNORECASE)
        return date_in_text(header["when"]), _split_models(rest)
    return None, _split_models(text)


# Where the manufacturer's name ends in `Name Factory Address` (no separator there):
# its legal form. Compound forms first, so `CO.,LTD.` is not cut after `CO.`.
_LEGAL_FORM = re.compile(
    r"(CO\.?,?\s*LTD\.?|COMPANY\s*LIMITED|CO\.?,?\s*LIMITED|PVT\.?\s*LTD\.?|PRIVATE\s*LIMITED"
    r"|PTE\.?\s*LTD\.?|SDN\.?\s*BHD\.?|S\.?\s*DE\s*R\.?\s*L\.?\s*DE\s*C\.?\s*V\.?"
    r"|S\.?\s*A\.?\s*DE\s*C\.?\s*V\.?|LIMITED|LTD\.?|INC\.|INC(?=[,\d(]|$)|CORPORATION"
    r"|CORP\.|GMBH|LLC|LLP)",
    re.IGNORECASE,
)


# Otherwise where a mixed-case name meets the upper-case address (`...FactoryF/G5,BUILDING1`).
_ADDRESS_STARTS = re.compile(r"(?<=[a-z.)])(?=[A-Z0-9][A-Z0-9#/&,.()\-]{4})")


def split_manufacturer(name_and_address: str) -> tuple[str | None, str]:
    """(manufacturer, factory address): cut at the first legal form in the first 90
    characters, else where a mixed-case name gives way to the upper-case address;
    (None, the whole text) when neither is found."""
    match = _LEGAL_FORM.search(name_and_address)
    if match is not None and match.end() <= 90:
        end = match.end()
    else:
        turn = _ADDRESS_STARTS.search(name_and_address)
        if turn is None or turn.start() > 90 or name_and_address[: turn.start()].isupper():
            return None, name_and_address
        end = turn.start()
    return name_and_address[:end].strip(), name_and_address[end:].lstrip(" ,.")


def read_standards(text: str) -> list[str]:
    """`IS13252(Part1):2010/IEC60950-1:2005&IS16333(Part3):2017` -> its standards."""
    parts = re.split(r"&|/(?=IS|IEC)|,(?=IS)", text.strip())
    return [part.strip() for part in parts if part.strip()]


@dataclass(frozen=True, slots=True)
class Registration:
    """One row of the register, read."""

    serial_no: str
    number: str
    granted_on: date | None
    name_and_factory_address: str
    manufacturer: str | None
    factory_address: str
    standards: tuple[str, ...]
    product: str
    status: RegistrationStatus
    status_text: str
    status_since: date | None
    valid_upto: date | None
    brand: str
    models: tuple[RegisteredModel, ...] = field(default_factory=tuple)

    def status_on(self, day: date) -> tuple[RegistrationStatus, str]:
        """The status on `day`, and why: an `Operative` registration past its `Valid
        Upto` (or before its grant) is not valid; other statuses stand as published."""
        if self.status in (RegistrationStatus.VALID, RegistrationStatus.MODEL_STOP_SALE):
            if self.granted_on is None or day < self.granted_on:
                return RegistrationStatus.UNKNOWN, f"not granted on {day}"
            if self.valid_upto is None or self.valid_upto < day:
                return RegistrationStatus.EXPIRED, f"valid only up to {self.valid_upto}"
        return self.status, self.status_text

    def to_data(self, on: date | None = None) -> dict[str, object]:
        """The registry's answer (`GET /registrations/{number}`)."""
        data: dict[str, object] = {
            "registration_no": self.number,
            "granted_on": _iso(self.granted_on),
            "valid_upto": _iso(self.valid_upto),
            "status": self.status.value,
            "status_text": self.status_text,
            "status_since": _iso(self.status_since),
            "manufacturer": self.manufacturer,
            "factory_address": self.factory_address,
            "name_and_factory_address": self.name_and_factory_address,
            "standards": list(self.standards),
            "product": self.product,
            "brand": self.brand,
            "models": [
                {
                    "model": m.model,
                    "included_on": _iso(m.included_on),
                    "inclusion": m.inclusion,
                    "removed": m.removed,
                    "removed_on": _iso(m.removed_on),
                    "stop_sale_from": _iso(m.stop_sale_from),
                }
                for m in self.models
            ],
            "source": {"register": "BIS-CRS public register", "serial_no": self.serial_no},
        }
        if on is not None:
            status, why = self.status_on(on)
            data["status_on"] = {"date": on.isoformat(), "status": status.value, "reason": why}
        return data


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def read_row(row: dict[str, str]) -> Registration:
    """One CSV row (columns as published) as a registration."""
    reading = read_status(row["Status"])
    models = read_models(row["View Models"])
    removed_on, removed = read_deleted_models(row["Models deleted from scope"])
    by_name = {m.model.casefold(): m for m in models}
    for name in removed:
        model = by_name.get(name.casefold(), RegisteredModel(name, inclusion="deleted only"))
        by_name[name.casefold()] = replace(model, removed=True, removed_on=removed_on)
    if reading.model is not None:
        model = by_name.get(reading.model.casefold(), RegisteredModel(reading.model))
        by_name[reading.model.casefold()] = replace(model, stop_sale_from=reading.since)
    name_and_address = row["Name Factory Address"].strip()
    manufacturer, factory = split_manufacturer(name_and_address)
    return Registration(
        serial_no=row["serial no"].strip(),
        number=row["Registration Number"].strip().upper(),
        granted_on=register_date(row["Date of Grant"]),
        name_and_factory_address=name_and_address,
        manufacturer=manufacturer,
        factory_address=factory,
        standards=tuple(read_standards(row["IS NO"])),
        product=row["Product"].strip(),
        status=reading.status,
        status_text=row["Status"].strip(),
        status_since=reading.since,
        valid_upto=register_date(row["Valid Upto"]),
        brand=row["Brand"].strip(),
        models=tuple(by_name.values()),
    )


def read_register(rows: Iterable[dict[str, str]]) -> dict[str, Registration]:
    """Registrations by number. A number listed twice keeps its latest grant."""
    register: dict[str, Registration] = {}
    for row in rows:
        registration = read_row(row)
        known = register.get(registration.number)
        if known is None or (registration.granted_on or date.min) >= (known.granted_on or date.min):
            register[registration.number] = registration
    return register


def load_register(path: Path) -> dict[str, Registration]:
    with path.open(newline="", encoding="utf-8") as handle:
        return read_register(csv.DictReader(handle))


def shared_register_path() -> Path:
    """The real register in `shared/domain/bis/` beside the repository."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "domain" / "bis" / "crs-register-2021.csv"
        if candidate.exists():
            return candidate
    return Path("shared/domain/bis/crs-register-2021.csv")
