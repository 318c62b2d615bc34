"""ICES 1.5 records <-> the canonical BE (`common.v1.json#/$defs/bill_of_entry`), field by
field as the README's mapping table says.

The spec's fields the canonical BE has no name for are kept, by segment and field number,
in the canonical BE's `ices_fields` (so a flat file round-trips); the facts of the canonical
BE a flat file does not carry are said in the README (the self-assessed duty travels as a
`<TABLE>STATEMENT` remark with statement code `SADUTY`, the platform's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from be_intake.adapters.ices import spec
from be_intake.adapters.ices.flatfile import Fault, Header, Message, Record, parse_date

DUTY_STATEMENT = "SADUTY"
#: <TABLE>SUPPORTINGDOCS field 14 'Document Type Code' (C6). The spec's directory ("Directory
#: will be provided", p. 52) is not among the sources: these codes are the platform's own.
DOCUMENT_TYPES: dict[str, str] = {
    "bis_registration": "BISREG",
    "bis_cml_licence": "BISCML",
    "conformity_certificate": "COC",
    "invoice": "INV",
    "packing_list": "PKL",
    "bill_of_lading": "BL",
    "airway_bill": "AWB",
    "other": "OTHER",
}
_DOCUMENT_KINDS = {code: kind for kind, code in DOCUMENT_TYPES.items()}
_FCL = {"F": "FCL", "L": "LCL"}
_YES_NO = {"Y": True, "N": False}
_BE_TYPES = {"H", "W", "X", "Z", "T", "M", "V", "S"}
_IMPORTER_TYPES = set("GUOPJREDTSVAHI")


class NotRepresentable(ValueError):
    """A canonical BE that no CACHI01 file can carry (e.g. a value longer than its field)."""


@dataclass(frozen=True)
class Scalar:
    no: int
    key: str
    kind: str  # str | int | num | date | bool | code


# -- per segment: the fields mapped one to one ----------------------------------------------

BE_FIELDS = (
    Scalar(3, "user_job_no", "str"),
    Scalar(4, "user_job_date", "date"),
    Scalar(7, "be_type", "str"),
    Scalar(8, "iec", "str"),
    Scalar(9, "branch_sl_no", "int"),
    Scalar(10, "importer_name", "str"),
    Scalar(17, "mode_of_transport", "str"),
    Scalar(18, "importer_type", "str"),
    Scalar(22, "customs_broker_code", "str"),
    Scalar(23, "country_of_origin", "str"),
    Scalar(24, "country_of_consignment", "str"),
    Scalar(25, "port_of_shipment", "str"),
    Scalar(26, "green_channel", "bool"),
    Scalar(28, "prior_be", "bool"),
    Scalar(30, "first_check", "bool"),
    Scalar(31, "warehouse_code", "str"),
    Scalar(43, "payment_method", "str"),
)
BE_ADDRESS = (11, 12, 13, 14, 15)
INVOICE_FIELDS = (
    Scalar(8, "invoice_date", "date"),
    Scalar(23, "supplier_name", "str"),
    Scalar(41, "invoice_value", "num"),
    Scalar(42, "terms_of_invoice", "str"),
    Scalar(43, "currency", "str"),
    Scalar(74, "invoice_no", "str"),
)
INVOICE_ADDRESS = (24, 25, 26, 27, 28)
ITEM_FIELDS = (
    Scalar(9, "quantity", "num"),
    Scalar(10, "unit", "str"),
    Scalar(17, "manufacturer", "str"),
    Scalar(18, "brand", "str"),
    Scalar(19, "model", "str"),
    Scalar(21, "country_of_origin", "str"),
    Scalar(22, "cth", "str"),
    Scalar(59, "unit_price", "num"),
)
ITEM_DESCRIPTION = (12, 13)
ITEM_LOCATION = (84, 85, 86, 87, 88)
IGM_FIELDS = (
    Scalar(7, "igm_no", "str"),
    Scalar(8, "igm_date", "date"),
    Scalar(9, "inward_date", "date"),
    Scalar(12, "gateway_port_code", "str"),
)
HOUSE_FIELDS = (
    Scalar(13, "master_bill_no", "str"),
    Scalar(14, "master_bill_date", "date"),
    Scalar(15, "house_bill_no", "str"),
    Scalar(16, "house_bill_date", "date"),
    Scalar(17, "package_count", "int"),
    Scalar(18, "gross_weight", "num"),
    Scalar(19, "gross_weight_unit", "str"),
    Scalar(20, "package_code", "str"),
)
CONTAINER_FIELDS = (Scalar(10, "container_no", "str"), Scalar(11, "seal_no", "str"))
DOCUMENT_FIELDS = (
    Scalar(16, "issued_by", "str"),
    Scalar(21, "reference", "str"),
    Scalar(23, "issued_on", "date"),
    Scalar(24, "expires_on", "date"),
)
_KEYS = {1, 2, 3, 4, 5, 6}
MAPPED: dict[str, set[int]] = {
    "BE": _KEYS | {s.no for s in BE_FIELDS} | set(BE_ADDRESS),
    "EXCHANGE": _KEYS | {7, 10},
    "INVOICE": _KEYS | {7} | {s.no for s in INVOICE_FIELDS} | set(INVOICE_ADDRESS),
    "ITEMS": _KEYS
    | {7, 8}
    | {11}
    | {s.no for s in ITEM_FIELDS}
    | set(ITEM_DESCRIPTION)
    | set(ITEM_LOCATION),
    "IGMS": _KEYS | {s.no for s in IGM_FIELDS} | {s.no for s in HOUSE_FIELDS},
    "CONTAINER": _KEYS | {7, 8, 9, 10, 11},
    "CTX": _KEYS,
    "STATEMENT": {1, 2, 3, 4, 6, 7},
    "SUPPORTINGDOCS": _KEYS | {8, 9, 14} | {s.no for s in DOCUMENT_FIELDS},
    "AMEND": set(range(1, 11)),
}


def _value(s: Scalar, text: str) -> Any:
    if not text:
        return None
    if s.kind == "date":
        day = parse_date(text)
        return None if day is None else day.isoformat()
    if s.kind == "int":
        return int(text)
    if s.kind == "num":
        return _number(text)
    if s.kind == "bool":
        return _YES_NO.get(text)
    return text


def _number(text: str) -> float | int:
    d = Decimal(text)
    return int(d) if d == d.to_integral_value() and "." not in text else float(d)


def _text(s: Scalar, value: Any) -> str:
    if value is None:
        return ""
    if s.kind == "date":
        return str(value).replace("-", "")
    if s.kind == "bool":
        return "Y" if value else "N"
    if s.kind == "num":
        return number_text(value)
    return str(value)


def number_text(value: Any) -> str:
    d = Decimal(str(value))
    text = format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))
    return text


def _scalars(record: Record, fields: tuple[Scalar, ...]) -> dict[str, Any]:
    """The canonical values of the record's non-empty fields."""
    out = {}
    for s in fields:
        value = _value(s, record.text(s.no))
        if value is not None:
            out[s.key] = value
    return out


def _pack(record: Record, numbers: tuple[int, ...]) -> str | None:
    parts = [record.text(no) for no in numbers if record.text(no)]
    return ", ".join(parts) if parts else None


def _unpack(text: str | None, segment: spec.Segment, numbers: tuple[int, ...]) -> list[str]:
    """Split a one-line address over the segment's fields (parts joined by ', ' kept
    together while they fit); NotRepresentable when it does not fit."""
    out = [""] * len(numbers)
    if not text:
        return out
    parts = text.split(", ")
    slot = 0
    for part in parts:
        while slot < len(numbers):
            limit = segment.field(numbers[slot]).length
            candidate = f"{out[slot]}, {part}" if out[slot] else part
            if len(candidate) <= limit and part:
                out[slot] = candidate
                break
            if out[slot] or not part:
                slot += 1
                continue
            raise NotRepresentable(f"{segment.name} address part {part!r} is too long")
        else:
            raise NotRepresentable(f"{segment.name} address {text!r} does not fit")
    return out


def _split_description(text: str) -> tuple[str, str]:
    if len(text) <= 60:
        return text, ""
    cut = text.rfind(" ", 0, 61)
    if cut <= 0 or len(text) - cut - 1 > 60:
        raise NotRepresentable(f"item description {text!r} does not fit two C60 fields")
    return text[:cut], text[cut + 1 :]


def _bag(record: Record) -> dict[str, str]:
    mapped = MAPPED[record.segment]
    return {
        str(no): value
        for no, value in enumerate(record.values, start=1)
        if no not in mapped and value
    }


# -- flat file -> canonical ------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A CACHI01 read into the canonical BE (identity and `filed_at` not yet assigned)."""

    header: Header
    bill_of_entry: dict[str, Any]


def _fault(code: str, expected: str, record: Record | None = None, no: int | None = None) -> Fault:
    if record is None:
        return Fault(code, expected)
    return Fault(code, expected, **record.where(no))


def fresh(message: Message) -> Parsed | list[Fault]:
    """A fresh BE (CACHI01) as the canonical BE, or every fault."""
    faults: list[Fault] = []
    bes = message.of("BE")
    for name in ("BE", "EXCHANGE", "INVOICE", "ITEMS", "CTX"):
        if not message.of(name):
            faults.append(Fault("15", f"<TABLE>{name}: mandatory in a fresh BE (p. 12)"))
    if len(bes) > 1:
        faults.append(_fault("15", "one <TABLE>BE record (p. 13)", bes[1]))
    if len(message.of("CTX")) > 1:
        faults.append(_fault("15", "one <TABLE>CTX record (p. 38)", message.of("CTX")[1]))
    if not bes:
        return faults
    be_record = bes[0]
    keys = (be_record.text(2), be_record.text(3), be_record.text(4))
    for record in message.records:
        key_fields = (2, 3, 4)
        if tuple(record.text(n) for n in key_fields) != keys:
            faults.append(
                _fault(
                    "17",
                    f"custom house, job number and date of <TABLE>BE: {'/'.join(keys)}",
                    record,
                    2,
                )
            )
    data, more = _header_fields(message, be_record)
    faults += more
    invoices, bags, more = _invoices(message)
    faults += more
    data["invoices"] = invoices
    data["ices_fields"] |= bags
    igm, houses, more = _igms(message, data)
    faults += more
    data["igm"], data["house_bills"] = igm, houses
    data["arrival_date"] = None if igm is None else igm.get("inward_date")
    containers, more = _containers(message, data)
    faults += more
    data["containers"] = containers
    data["supporting_documents"] = [_document(r) for r in message.of("SUPPORTINGDOCS")]
    duty, more = _duty(message, invoices)
    faults += more
    data["duty"] = duty
    bag = dict(data.pop("ices_fields"))
    for n, record in enumerate(message.of("CTX"), start=1):
        bag[f"CTX/{n}"] = _bag(record)
    statements = [
        r
        for r in message.of("STATEMENT")
        if not (r.text(10) == "REM" and r.text(11) == DUTY_STATEMENT)
    ]
    for n, record in enumerate(statements, start=1):
        bag[f"STATEMENT/{n}"] = _bag(record)
    for n, record in enumerate(message.of("SUPPORTINGDOCS"), start=1):
        bag[f"SUPPORTINGDOCS/{n}"] = _bag(record)
    for key in list(bag):
        if not bag[key] and not key.startswith(("CTX/", "STATEMENT/")):
            del bag[key]
    data["ices_fields"] = bag
    if faults:
        return faults
    return Parsed(message.header, data)


def _codes(record: Record, faults: list[Fault]) -> None:
    checks: tuple[tuple[int, Callable[[str], bool], str], ...] = (
        (7, lambda v: v in _BE_TYPES, "BE type H, W, X, Z, T, M, V or S (p. 14)"),
        (17, lambda v: v in ("L", "S", "A"), "mode of transport L, S or A (p. 15)"),
        (18, lambda v: v in _IMPORTER_TYPES, "importer type G/U/O/P/J/R/E/D/T/S/V/A/H/I (p. 15)"),
        (26, lambda v: v in _YES_NO, "Y or N"),
        (28, lambda v: v in _YES_NO, "Y or N"),
        (30, lambda v: v in _YES_NO, "Y or N"),
    )
    for no, ok, expected in checks:
        value = record.text(no)
        if value and not ok(value):
            faults.append(_fault("16", f"field {no}: {expected}", record, no))


def _header_fields(message: Message, record: Record) -> tuple[dict[str, Any], list[Fault]]:
    faults: list[Fault] = []
    _codes(record, faults)
    data: dict[str, Any] = {"port_code": record.text(2)}
    data |= _scalars(record, BE_FIELDS)
    data.setdefault("warehouse_code", None)
    for flag in ("green_channel", "prior_be", "first_check"):
        data.setdefault(flag, False)
    address = _pack(record, BE_ADDRESS)
    if address is not None:
        data["importer_address"] = address
    receiver = message.header.receiver
    if receiver and receiver != record.text(2):
        data["custodian_code"] = receiver
    data["ices_fields"] = {"BE": _bag(record)}
    return data, faults


def _invoices(
    message: Message,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]], list[Fault]]:
    faults: list[Fault] = []
    rates: dict[str, Decimal] = {}
    bag: dict[str, dict[str, str]] = {}
    for record in message.of("EXCHANGE"):
        currency = record.text(7)
        if record.text(8) and record.text(8) not in _YES_NO:
            faults.append(_fault("16", "field 8: Y or N (p. 17)", record, 8))
        unit = Decimal(record.text(9) or "1")
        if record.text(10):
            if unit == 0:
                faults.append(_fault("16", "field 9 'Unit in Rs.' above 0 (p. 17)", record, 9))
            else:
                rates[currency] = Decimal(record.text(10)) / unit
        bag[f"EXCHANGE/{currency}"] = _bag(record)
    invoices: dict[int, dict[str, Any]] = {}
    for record in message.of("INVOICE"):
        number = int(record.text(7))
        if number in invoices:
            faults.append(_fault("17", f"invoice serial number {number} once", record, 7))
            continue
        invoice: dict[str, Any] = {"invoice_sl_no": number} | _scalars(record, INVOICE_FIELDS)
        if "invoice_date" not in invoice:
            faults.append(
                _fault("09", "field 8 'Invoice Date': the platform needs it (p. 19)", record, 8)
            )
        terms = invoice.get("terms_of_invoice")
        if terms is not None and terms not in ("CIF", "CF", "CI", "FOB"):
            faults.append(_fault("16", "field 42: CIF, CF, CI or FOB (p. 21)", record, 42))
        address = _pack(record, INVOICE_ADDRESS)
        if address is not None:
            invoice["supplier_address"] = address
        ccy = invoice.get("currency")
        if ccy is not None and ccy in rates:
            invoice["exchange_rate"] = float(rates[ccy])
        elif ccy is not None and f"EXCHANGE/{ccy}" not in bag:
            faults.append(
                _fault("17", f"a <TABLE>EXCHANGE record for currency {ccy} (p. 17)", record)
            )
        invoice["items"] = []
        invoices[number] = invoice
        bag[f"INVOICE/{number}"] = _bag(record)
    for record in message.of("ITEMS"):
        number, item_no = int(record.text(7)), int(record.text(8))
        owner = invoices.get(number)
        if owner is None:
            faults.append(_fault("17", f"an <TABLE>INVOICE with serial {number}", record, 7))
            continue
        if any(i["item_sl_no"] == item_no for i in owner["items"]):
            faults.append(_fault("17", f"item {item_no} once in invoice {number}", record, 8))
            continue
        owner["items"].append(_item(record))
        bag[f"ITEMS/{number}/{item_no}"] = _bag(record)
        if record.text(11) != record.text(22):  # RITC code other than the CTH: kept
            bag[f"ITEMS/{number}/{item_no}"]["11"] = record.text(11)
    for number, invoice in invoices.items():
        if not invoice["items"]:
            faults.append(
                Fault("15", f"<TABLE>ITEMS for invoice {number} (p. 24)", segment="ITEMS")
            )
    return list(invoices.values()), bag, faults


def _item(record: Record) -> dict[str, Any]:
    item: dict[str, Any] = {"item_sl_no": int(record.text(8))} | _scalars(record, ITEM_FIELDS)
    first, second = record.text(12), record.text(13)
    item["description"] = f"{first} {second}" if second else first
    location = _pack(record, ITEM_LOCATION)
    if location is not None:
        item["manufacturing_location"] = location
    return item


def _igms(
    message: Message, data: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[Fault]]:
    faults: list[Fault] = []
    records = message.of("IGMS")
    exempt = data.get("prior_be") or data.get("importer_type") in ("S", "V", "A", "H")
    if not records and not exempt:
        faults.append(Fault("15", "<TABLE>IGMS: mandatory in a fresh BE (p. 12, 36)"))
    igm: dict[str, Any] | None = None
    houses = []
    for n, record in enumerate(records, start=1):
        this = {"inward_date": None, "gateway_port_code": None} | _scalars(record, IGM_FIELDS)
        if igm is None:
            igm = this
        elif (this["igm_no"], this["igm_date"]) != (igm["igm_no"], igm["igm_date"]):
            faults.append(_fault("17", f"the IGM of the first record, {igm['igm_no']}", record, 7))
        houses.append(
            {"house_bill_no": None, "house_bill_date": None} | _scalars(record, HOUSE_FIELDS)
        )
        data["ices_fields"][f"IGMS/{n}"] = _bag(record)
    return igm, houses, faults


def _containers(message: Message, data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Fault]]:
    faults: list[Fault] = []
    records = message.of("CONTAINER")
    if data.get("mode_of_transport") == "S" and not records and data.get("be_type") != "X":
        faults.append(Fault("15", "<TABLE>CONTAINER: mandatory for sea (p. 12, 37)"))
    out = []
    igm = data.get("igm") or {}
    for record in records:
        if record.text(9) not in _FCL:
            faults.append(_fault("16", "field 9 'LCL/FCL': F or L (p. 37)", record, 9))
            continue
        if igm and (record.text(7), _value(Scalar(8, "", "date"), record.text(8))) != (
            igm.get("igm_no"),
            igm.get("igm_date"),
        ):
            faults.append(_fault("17", "the IGM number and date of <TABLE>IGMS", record, 7))
        out.append(_scalars(record, CONTAINER_FIELDS) | {"fcl_lcl": _FCL[record.text(9)]})
        bag = _bag(record)
        if bag:
            data["ices_fields"][f"CONTAINER/{record.text(10)}"] = bag
    return out, faults


def _document(record: Record) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "document_type": _DOCUMENT_KINDS.get(record.text(14), "other")
    } | _scalars(record, DOCUMENT_FIELDS)
    doc.setdefault("reference", record.text(13))
    for no, key in ((8, "invoice_sl_no"), (9, "item_sl_no")):
        if int(record.text(no)) > 0:
            doc[key] = int(record.text(no))
    return doc


def _duty(message: Message, invoices: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Fault]]:
    """The self-assessed duty: the `SADUTY` statement `AV=<INR>;DUTY=<INR>;PAID=Y|N;OTP=Y|N`
    (the platform's convention), else the invoices' value in rupees and no duty."""
    for record in message.of("STATEMENT"):
        if record.text(10) == "REM" and record.text(11) == DUTY_STATEMENT:
            try:
                parts = dict(p.split("=", 1) for p in record.text(12).split(";"))
                return {
                    "assessable_value": _number(parts["AV"]),
                    "total_duty": _number(parts["DUTY"]),
                    "paid": parts["PAID"] == "Y",
                    "deferred_payment_otp_authenticated": parts["OTP"] == "Y",
                }, []
            except (KeyError, ValueError, InvalidOperation):
                expected = "statement text AV=<INR>;DUTY=<INR>;PAID=Y|N;OTP=Y|N"
                return {}, [_fault("16", expected, record, 12)]
    total = sum(
        (
            Decimal(str(i.get("invoice_value", 0))) * Decimal(str(i.get("exchange_rate", 1)))
            for i in invoices
        ),
        Decimal(0),
    )
    return {
        "assessable_value": float(round(total, 2)),
        "total_duty": 0,
        "paid": False,
        "deferred_payment_otp_authenticated": False,
    }, []


# -- canonical -> flat file ------------------------------------------------------------------


def _blank(segment: spec.Segment, mode: str, bag: dict[str, str] | None) -> list[str]:
    values = [""] * len(segment.fields)
    values[0] = mode
    for no, value in (bag or {}).items():
        values[int(no) - 1] = value
    return values


def _put(values: list[str], fields: tuple[Scalar, ...], data: dict[str, Any]) -> None:
    for s in fields:
        values[s.no - 1] = _text(s, data.get(s.key))


def _keys(values: list[str], be: dict[str, Any], fresh_file: bool) -> None:
    values[1] = be["port_code"]
    if fresh_file:
        values[2] = be.get("user_job_no") or ""
        values[3] = (be.get("user_job_date") or "").replace("-", "")
    else:
        values[4] = be["be_no"]
        values[5] = be["be_date"].replace("-", "")


def records_of(be: dict[str, Any]) -> list[Record]:
    """The CACHI01 records of a canonical BE (NotRepresentable if one cannot be)."""
    bag: dict[str, dict[str, str]] = be.get("ices_fields") or {}
    out: list[Record] = []

    def record(segment: spec.Segment, values: list[str]) -> None:
        for f, value in zip(segment.fields, values, strict=True):
            from be_intake.adapters.ices.flatfile import check

            problem = check(f, value, "F")
            if problem is not None:
                raise NotRepresentable(f"<TABLE>{segment.name} {problem[1]}: {value!r}")
        out.append(Record(segment.name, tuple(values)))

    v = _blank(spec.BE, "F", bag.get("BE"))
    _keys(v, be, True)
    _put(v, BE_FIELDS, be)
    for no, part in zip(
        BE_ADDRESS, _unpack(be.get("importer_address"), spec.BE, BE_ADDRESS), strict=True
    ):
        v[no - 1] = part
    record(spec.BE, v)
    rates: dict[str, Any] = {}
    for invoice in be["invoices"]:
        currency = invoice["currency"]
        rate = invoice.get("exchange_rate")
        if currency in rates and rates[currency] != rate:
            raise NotRepresentable(f"two exchange rates for {currency}")
        rates[currency] = rate
    for key in bag:
        if key.startswith("EXCHANGE/"):
            rates.setdefault(key.split("/", 1)[1], None)
    for currency, rate in rates.items():
        v = _blank(spec.EXCHANGE, "F", bag.get(f"EXCHANGE/{currency}"))
        _keys(v, be, True)
        v[6] = currency
        if rate is not None:
            unit = Decimal(v[8] or "1")
            v[9] = number_text(Decimal(str(rate)) * unit)
        record(spec.EXCHANGE, v)
    items: list[tuple[int, dict[str, Any]]] = []
    for invoice in be["invoices"]:
        number = invoice["invoice_sl_no"]
        v = _blank(spec.INVOICE, "F", bag.get(f"INVOICE/{number}"))
        _keys(v, be, True)
        v[6] = str(number)
        _put(v, INVOICE_FIELDS, invoice)
        parts = _unpack(invoice.get("supplier_address"), spec.INVOICE, INVOICE_ADDRESS)
        for no, part in zip(INVOICE_ADDRESS, parts, strict=True):
            v[no - 1] = part
        record(spec.INVOICE, v)
        items += [(number, item) for item in invoice["items"]]
    for number, item in items:
        v = _blank(spec.ITEMS, "F", bag.get(f"ITEMS/{number}/{item['item_sl_no']}"))
        _keys(v, be, True)
        v[6], v[7] = str(number), str(item["item_sl_no"])
        _put(v, ITEM_FIELDS, item)
        v[10] = v[10] or item["cth"]  # RITC code: the CTH unless the file said otherwise
        v[11], v[12] = _split_description(item["description"])
        parts = _unpack(item.get("manufacturing_location"), spec.ITEMS, ITEM_LOCATION)
        for no, part in zip(ITEM_LOCATION, parts, strict=True):
            v[no - 1] = part
        record(spec.ITEMS, v)
    igm = be.get("igm") or {}
    for n, house in enumerate(be.get("house_bills") or [], start=1):
        v = _blank(spec.IGMS, "F", bag.get(f"IGMS/{n}"))
        _keys(v, be, True)
        _put(v, IGM_FIELDS, igm)
        _put(v, HOUSE_FIELDS, house)
        record(spec.IGMS, v)
    for container in be.get("containers") or []:
        v = _blank(spec.CONTAINER, "F", bag.get(f"CONTAINER/{container['container_no']}"))
        _keys(v, be, True)
        v[6] = igm.get("igm_no") or ""
        v[7] = (igm.get("igm_date") or "").replace("-", "")
        v[8] = {"FCL": "F", "LCL": "L"}[container.get("fcl_lcl", "FCL")]
        _put(v, CONTAINER_FIELDS, container)
        record(spec.CONTAINER, v)
    n = 1
    while f"CTX/{n}" in bag:
        v = _blank(spec.CTX, "F", bag[f"CTX/{n}"])
        _keys(v, be, True)
        record(spec.CTX, v)
        n += 1
    n = 1
    while f"STATEMENT/{n}" in bag:
        v = _blank(spec.STATEMENT, "F", bag[f"STATEMENT/{n}"])
        _keys(v, be, True)
        record(spec.STATEMENT, v)
        n += 1
    duty = be["duty"]
    v = _blank(spec.STATEMENT, "F", {"5": "B", "8": "0", "9": "0", "10": "REM"})
    _keys(v, be, True)
    v[10] = DUTY_STATEMENT
    v[11] = (
        f"AV={number_text(duty['assessable_value'])};DUTY={number_text(duty['total_duty'])};"
        f"PAID={'Y' if duty['paid'] else 'N'};"
        f"OTP={'Y' if duty['deferred_payment_otp_authenticated'] else 'N'}"
    )
    record(spec.STATEMENT, v)
    for n, doc in enumerate(be.get("supporting_documents") or [], start=1):
        v = _blank(spec.SUPPORTINGDOCS, "F", bag.get(f"SUPPORTINGDOCS/{n}"))
        _keys(v, be, True)
        v[7] = str(doc.get("invoice_sl_no", 0))
        v[8] = str(doc.get("item_sl_no", 0))
        v[13] = DOCUMENT_TYPES[doc["document_type"]]
        _put(v, DOCUMENT_FIELDS, doc)
        if not v[12]:
            v[12] = doc["reference"][:16]
        record(spec.SUPPORTINGDOCS, v)
    return out


def message_of(be: dict[str, Any], *, sender: str, control_no: str, at: str) -> Message:
    """A CACHI01 message of the canonical BE; `at` is `YYYYMMDDHHMM`."""
    header = Header(
        sender=sender,
        receiver=be.get("custodian_code") or be["port_code"],
        test=False,
        message_id=spec.FRESH,
        control_no=control_no,
        date=at[:8],
        time=at[8:12],
    )
    return Message(header, records_of(be))


# -- CACHI01_A: an amendment of a registered BE ---------------------------------------------


@dataclass(frozen=True)
class AmendmentRequest:
    """A CACHI01_A: the BE it amends, why, and its records (applied by `amended`)."""

    header: Header
    identity: tuple[str, str, str]  # port_code, be_no, be_date (ISO)
    reason: str
    codes: list[str]
    records: list[Record]


def amendment(message: Message) -> AmendmentRequest | list[Fault]:
    amends = message.of("AMEND")
    if not amends:
        return [Fault("15", "<TABLE>AMEND: mandatory in an amendment (p. 12, 39)")]
    first = amends[0]
    be_date = parse_date(first.text(6))
    identity = (first.text(2), first.text(5), "" if be_date is None else be_date.isoformat())
    faults = [
        _fault("17", f"the BE of the first <TABLE>AMEND record, {'/'.join(identity)}", r, 5)
        for r in message.records
        if r.segment != "STATEMENT"
        and (r.text(2), r.text(5), r.text(6))
        != (
            first.text(2),
            first.text(5),
            first.text(6),
        )
    ]
    if faults:
        return faults
    return AmendmentRequest(
        message.header,
        identity,
        "; ".join(r.text(8) for r in amends)[:500],
        [r.text(7) for r in amends],
        [r for r in message.records if r.segment != "AMEND"],
    )


def _supplier_address(invoice: dict[str, Any], record: Record) -> None:
    """INVOICE 24-28 (p. 19-20), as a fresh BE reads them; blank parts: unchanged."""
    address = _pack(record, INVOICE_ADDRESS)
    if address is not None:
        invoice["supplier_address"] = address


def _exchange_rate(
    be: dict[str, Any], invoice: dict[str, Any], record: Record, faults: list[Fault]
) -> None:
    """The rate of a supplemented invoice (or one amended into another currency): the one
    the BE has for its currency, as `<TABLE>EXCHANGE` is not taken in an amendment (X in A,
    S and D, p. 12)."""
    currency = invoice.get("currency")
    rates = {
        i["exchange_rate"]
        for i in be["invoices"]
        if i is not invoice and i.get("currency") == currency and "exchange_rate" in i
    }
    invoice.pop("exchange_rate", None)
    if rates:
        invoice["exchange_rate"] = rates.pop()
    elif currency is not None and f"EXCHANGE/{currency}" not in be.get("ices_fields", {}):
        expected = f"a currency of the BE's <TABLE>EXCHANGE (p. 17), not {currency}"
        faults.append(_fault("17", expected, record, 43))


def amended(current: dict[str, Any], request: AmendmentRequest) -> dict[str, Any] | list[Fault]:
    """The BE as it reads after the request's records: A records change the fields they
    fill (p. 13, 19, 24, 36: blank is unchanged), S records add, D records delete."""
    import copy

    be = copy.deepcopy(current)
    bag: dict[str, dict[str, str]] = be.setdefault("ices_fields", {})
    faults: list[Fault] = []
    invoices = {i["invoice_sl_no"]: i for i in be["invoices"]}
    for record in request.records:
        mode, seg = record.mode, record.segment
        if seg == "BE" and mode == "A":
            be |= _scalars(record, BE_FIELDS)
            address = _pack(record, BE_ADDRESS)
            if address is not None:
                be["importer_address"] = address
            bag.setdefault("BE", {}).update(_bag(record))
        elif seg == "INVOICE":
            number = int(record.text(7))
            invoice = invoices.get(number)
            if mode == "D" and invoice is not None:
                be["invoices"].remove(invoice)
                del invoices[number]
            elif mode == "A" and invoice is not None:
                currency = invoice.get("currency")
                invoice |= _scalars(record, INVOICE_FIELDS)
                _supplier_address(invoice, record)
                if invoice.get("currency") != currency:
                    _exchange_rate(be, invoice, record, faults)
            elif mode == "S" and invoice is None:
                invoices[number] = {"invoice_sl_no": number, "items": []} | _scalars(
                    record, INVOICE_FIELDS
                )
                _supplier_address(invoices[number], record)
                _exchange_rate(be, invoices[number], record, faults)
                be["invoices"].append(invoices[number])
                bag[f"INVOICE/{number}"] = _bag(record)
            else:
                faults.append(_fault("17", f"invoice {number} of the registered BE", record, 7))
        elif seg == "ITEMS":
            number, item_no = int(record.text(7)), int(record.text(8))
            invoice = invoices.get(number)
            if invoice is None:
                faults.append(_fault("17", f"invoice {number} of the registered BE", record, 7))
                continue
            item = next((i for i in invoice["items"] if i["item_sl_no"] == item_no), None)
            if mode == "D" and item is not None:
                invoice["items"].remove(item)
            elif mode == "A" and item is not None:
                item |= _scalars(record, ITEM_FIELDS)
                if record.text(12):
                    item["description"] = _item(record)["description"]
                location = _pack(record, ITEM_LOCATION)
                if location is not None:
                    item["manufacturing_location"] = location
            elif mode == "S" and item is None:
                invoice["items"].append(_item(record))
                bag[f"ITEMS/{number}/{item_no}"] = _bag(record)
            else:
                expected = f"item {item_no} of invoice {number}" + (
                    " not yet on the BE" if mode == "S" else " of the registered BE"
                )
                faults.append(_fault("17", expected, record, 8))
        elif seg == "IGMS" and mode == "A":
            be["igm"] = (be.get("igm") or {}) | _scalars(record, IGM_FIELDS)
            houses = be.get("house_bills") or [{}]
            houses[0] = houses[0] | _scalars(record, HOUSE_FIELDS)
            be["house_bills"] = houses
            if "inward_date" in be["igm"]:
                be["arrival_date"] = be["igm"]["inward_date"]
        elif seg == "CONTAINER":
            container_no = record.text(10)
            found = [c for c in be.get("containers") or [] if c["container_no"] == container_no]
            if mode == "D" and found:
                be["containers"].remove(found[0])
            elif mode == "S" and not found and record.text(9) in _FCL:
                be.setdefault("containers", []).append(
                    _scalars(record, CONTAINER_FIELDS) | {"fcl_lcl": _FCL[record.text(9)]}
                )
            else:
                expected = f"container {container_no} (S: new, D: on the BE)"
                faults.append(_fault("17", expected, record))
        elif seg == "SUPPORTINGDOCS" and mode == "S":
            be.setdefault("supporting_documents", []).append(_document(record))
        elif seg == "SUPPORTINGDOCS" and mode == "D":
            ref = record.text(13)
            kept = [d for d in be.get("supporting_documents") or [] if d["reference"][:16] != ref]
            if len(kept) == len(be.get("supporting_documents") or []):
                faults.append(_fault("17", f"a supporting document {ref} on the BE", record, 13))
            be["supporting_documents"] = kept
        else:
            faults.append(
                _fault(
                    "14",
                    f"<TABLE>{seg} with message type {mode}: not taken in CACHI01_A",
                    record,
                    1,
                )
            )
    return faults or be
