"""The sealing of a movement with its data elements, and exempt movements (pure).

Circular 19/2018 para 4.4 lists what the vendor's web application captures for
each of three kinds of movement: customs station -> warehouse (SEAL-DATA-1),
warehouse -> customs station for export (SEAL-DATA-2), warehouse -> warehouse
under Section 67 (SEAL-DATA-3). `sealing_from` checks them with one reason per
fault: a container number only where the cargo is containerised (and then with
its ISO 6346 check digit), the vehicle's registration, the codes. SEAL-EXEMPT-1:
goods under physical customs escort, or moved by the Commissioner's permission,
carry no RFID seal (para 4.5(m), 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from clearance_domain import Reason

from warehouse_seal.domain.seals import Refused, format_reason, seal_number


class Movement(StrEnum):
    TO_WAREHOUSE = "customs_station_to_warehouse"  # SEAL-DATA-1
    FOR_EXPORT = "warehouse_to_customs_station"  # SEAL-DATA-2
    BETWEEN_WAREHOUSES = "warehouse_to_warehouse"  # SEAL-DATA-3

    @property
    def rule_id(self) -> str:
        return {
            Movement.TO_WAREHOUSE: "SEAL-DATA-1",
            Movement.FOR_EXPORT: "SEAL-DATA-2",
            Movement.BETWEEN_WAREHOUSES: "SEAL-DATA-3",
        }[self]

    @property
    def ends_at_warehouse(self) -> bool:
        return self is not Movement.FOR_EXPORT


_IEC = re.compile(r"^[A-Z0-9]{10}$")
_LOCATION = re.compile(r"^[A-Z]{2}[A-Z0-9]{4}$")
_WAREHOUSE = re.compile(r"^[A-Z0-9]{1,8}$")
_DOCUMENT_NO = re.compile(r"^[0-9]{7}$")
# Indian registration marks: state, district, series, number (MH 04 AB 1234), and the
# Bharat series (22 BH 1234 AB); written with or without spaces and hyphens.
_VEHICLE = re.compile(r"^(?:[A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{4}|[0-9]{2}BH[0-9]{4}[A-Z]{1,2})$")
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
# ISO 6346 letter values: 10 upwards, skipping the multiples of 11.
_LETTER_VALUES = dict(
    zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [v for v in range(10, 39) if v % 11], strict=True)
)


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of an ISO 6346 container number's first ten characters."""
    total: int = sum(
        (_LETTER_VALUES[c] if c.isalpha() else int(c)) << i for i, c in enumerate(first_ten)
    )
    return total % 11 % 10


def container_ok(number: str) -> bool:
    return bool(_CONTAINER.fullmatch(number)) and iso6346_check_digit(number[:10]) == int(
        number[10]
    )


def vehicle_registration(text: str) -> str | None:
    """A vehicle registration mark without spaces or hyphens, or None when it is not one."""
    compact = re.sub(r"[\s-]", "", text.upper())
    return compact if _VEHICLE.fullmatch(compact) else None


@dataclass(frozen=True, slots=True)
class Document:
    """The customs document a movement is under: a BE (SEAL-DATA-1, -3) or a Shipping
    Bill (SEAL-DATA-2), by custom house, number and date."""

    kind: str  # bill_of_entry | shipping_bill
    port_code: str
    number: str
    date: date

    @property
    def key(self) -> str:
        return f"{self.port_code}/{self.number}/{self.date.isoformat()}"

    @property
    def is_bill_of_entry(self) -> bool:
        return self.kind == "bill_of_entry"

    def label(self) -> str:
        return f"{'BE' if self.is_bill_of_entry else 'SB'} {self.key}"

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "port_code": self.port_code,
            "number": self.number,
            "date": self.date.isoformat(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Document:
        return cls(
            str(data["kind"]),
            str(data["port_code"]),
            str(data["number"]),
            date.fromisoformat(str(data["date"])),
        )


@dataclass(frozen=True, slots=True)
class Sealing:
    """A movement sealed with one RFID seal, with the data elements of its kind."""

    seal_no: str
    movement: Movement
    iec: str
    document: Document
    sealed_at: datetime
    vehicle_no: str
    origin: str  # customs location code or warehouse code
    destination: str
    container_no: str | None = None

    @property
    def warehouse_linked(self) -> str:
        """The warehouse the seal should be linked to: where the goods are deposited
        (para 4.5(d)), or for an export the warehouse they leave."""
        return self.origin if self.movement is Movement.FOR_EXPORT else self.destination

    def same_as(self, other: Sealing) -> bool:
        return self == other

    def to_data(self) -> dict[str, Any]:
        return {
            "seal_no": self.seal_no,
            "movement": self.movement.value,
            "iec": self.iec,
            "document": self.document.to_data(),
            "sealed_at": self.sealed_at.isoformat(),
            "vehicle_no": self.vehicle_no,
            "origin": self.origin,
            "destination": self.destination,
            "container_no": self.container_no,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Sealing:
        return cls(
            seal_no=str(data["seal_no"]),
            movement=Movement(data["movement"]),
            iec=str(data["iec"]),
            document=Document.from_data(data["document"]),
            sealed_at=datetime.fromisoformat(str(data["sealed_at"])),
            vehicle_no=str(data["vehicle_no"]),
            origin=str(data["origin"]),
            destination=str(data["destination"]),
            container_no=data.get("container_no"),
        )


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip().upper()


def sealing_from(data: Mapping[str, Any]) -> Sealing:
    """SEAL-DATA-1..3: the sealing (the data of `vendor.rfid-seal.affixed.v1`), or
    `Refused` with one reason per missing or malformed data element."""
    movement = Movement(data["movement"])
    rule = movement.rule_id
    reasons: list[Reason] = []

    def fault(message: str) -> None:
        reasons.append(Reason.of(rule, message))

    seal_no = seal_number(str(data["seal_no"]))
    if seal_no is None:
        reasons.append(format_reason(str(data["seal_no"])))
    iec = _text(data, "iec")
    if not _IEC.fullmatch(iec):
        fault(f"IEC {iec!r} is not a 10-character Importer-Exporter Code")
    document = _document(data, movement, fault)
    vehicle = vehicle_registration(str(data.get("vehicle_no") or ""))
    if vehicle is None:
        fault(f"vehicle registration {data.get('vehicle_no')!r} is not a registration mark")
    container = _text(data, "container_no") or None
    if container is not None and not container_ok(container):
        fault(
            f"container number {container!r} is not ISO 6346 with a valid check digit "
            "(give none where the cargo is not containerised)"
        )
    origin, destination = _ends(data, movement, fault)
    if reasons or seal_no is None or document is None or vehicle is None:
        raise Refused(reasons)
    return Sealing(
        seal_no=seal_no,
        movement=movement,
        iec=iec,
        document=document,
        sealed_at=datetime.fromisoformat(str(data["sealed_at"])),
        vehicle_no=vehicle,
        origin=origin,
        destination=destination,
        container_no=container,
    )


def _document(data: Mapping[str, Any], movement: Movement, fault: Any) -> Document | None:
    wanted, unwanted = ("shipping_bill", "bill_of_entry")
    if movement is not Movement.FOR_EXPORT:
        wanted, unwanted = unwanted, wanted
    number_field, date_field = (
        ("sb_no", "sb_date")
        if wanted == "shipping_bill"
        else (
            "be_no",
            "be_date",
        )
    )
    label = wanted.replace("_", " ")
    if data.get(unwanted) is not None:
        fault(f"a {movement.value} movement names no {unwanted.replace('_', ' ')}")
    given = data.get(wanted)
    if not given:
        fault(f"the {label} (number and date) is missing")
        return None
    port_code = str(given["port_code"]).upper()
    number = str(given[number_field])
    ok = True
    if not _LOCATION.fullmatch(port_code):
        fault(f"custom house {port_code!r} of the {label} is not a customs location code")
        ok = False
    if not _DOCUMENT_NO.fullmatch(number):
        fault(f"{label} number {number!r} is not seven digits")
        ok = False
    try:
        when = date.fromisoformat(str(given[date_field]))
    except ValueError:
        fault(f"{label} date {given[date_field]!r} is not a date")
        return None
    return Document(wanted, port_code, number, when) if ok else None


def _ends(data: Mapping[str, Any], movement: Movement, fault: Any) -> tuple[str, str]:
    """(origin, destination) codes of the movement, checked."""

    def code(name: str, pattern: re.Pattern[str], what: str) -> str:
        value = _text(data, name)
        if not value:
            fault(f"the {what} ({name}) is missing")
        elif not pattern.fullmatch(value):
            fault(f"{what} {value!r} is not valid")
        return value

    def absent(*names: str) -> None:
        for name in names:
            if data.get(name):
                fault(f"a {movement.value} movement has no {name}")

    if movement is Movement.BETWEEN_WAREHOUSES:
        absent("warehouse_code", "customs_location_code")
        origin = code("origin_warehouse_code", _WAREHOUSE, "warehouse code of origin")
        destination = code(
            "destination_warehouse_code", _WAREHOUSE, "warehouse code of destination"
        )
        if origin and origin == destination:
            fault("origin and destination warehouses are the same")
        return origin, destination
    absent("origin_warehouse_code", "destination_warehouse_code")
    warehouse = code("warehouse_code", _WAREHOUSE, "warehouse code")
    station = code("customs_location_code", _LOCATION, "customs location code")
    return (station, warehouse) if movement is Movement.TO_WAREHOUSE else (warehouse, station)


@dataclass(frozen=True, slots=True)
class Exemption:
    """SEAL-EXEMPT-1: the BE's goods move without an RFID seal, and why."""

    ground: str  # customs_escort | commissioner_permission
    reference: str
    officer: str
    recorded_at: datetime
    note: str | None = None

    def reason(self) -> Reason:
        why = {
            "customs_escort": "under physical customs escort (para 4.5(m))",
            "commissioner_permission": "by the Commissioner's permission (para 5)",
        }[self.ground]
        note = f"; {self.note}" if self.note else ""
        return Reason.of(
            "SEAL-EXEMPT-1",
            f"moves without an RFID seal {why}, {self.reference}, recorded by {self.officer}{note}",
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "ground": self.ground,
            "reference": self.reference,
            "officer": self.officer,
            "recorded_at": self.recorded_at.isoformat(),
            "note": self.note,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Exemption:
        return cls(
            str(data["ground"]),
            str(data["reference"]),
            str(data["officer"]),
            datetime.fromisoformat(str(data["recorded_at"])),
            data.get("note"),
        )
