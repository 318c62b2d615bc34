"""Sample ICES files (for tests, the e2e suite and the parsing benchmark): canonical BEs
with the spec's mandatory fields that the canonical BE has no name for (`ices_fields`),
rendered as CACHI01."""

from __future__ import annotations

import copy
import json
from typing import Any

from clearance_contracts import example

from be_intake.adapters.ices import flatfile, mapping, spec


def with_ices_fields(be: dict[str, Any]) -> dict[str, Any]:
    """The BE with values for every mandatory field of the spec the canonical BE lacks
    (pp. 13, 17, 19-20, 24-26, 36, 38, 50-51)."""
    be = copy.deepcopy(be)
    bag: dict[str, dict[str, str]] = {
        "BE": {
            "16": "N",
            "19": "N",
            "20": "N",
            "21": be.get("port_of_shipment", "CNNGB"),
            "27": "N",
            "29": "0510005",
        },
        "CTX/1": {"7": "27", "8": "G", "9": "27AAGCS4417M1Z5"},
    }
    for invoice in be["invoices"]:
        n = invoice["invoice_sl_no"]
        bag[f"INVOICE/{n}"] = {"66": "S", "67": "LC", "87": "N"}
        bag[f"EXCHANGE/{invoice['currency']}"] = {"8": "Y"}
        for item in invoice["items"]:
            bag[f"ITEMS/{n}/{item['item_sl_no']}"] = {
                "20": "TRADING",
                "23": "S",
                "24": "NOEXCISE",
                "74": "N",
                "75": "N",
                "92": "0",
            }
    for n, _ in enumerate(be.get("house_bills") or [], start=1):
        bag[f"IGMS/{n}"] = {"21": "AS ADDRESSED"}
    for n, doc in enumerate(be.get("supporting_documents") or [], start=1):
        bag[f"SUPPORTINGDOCS/{n}"] = {
            "7": "B",
            "12": "AABCJ2231PCH001",
            "13": doc["reference"][:16],
            "22": "MUMBAI",
            "26": be.get("importer_name", "IMPORTER")[:70],
            "31": "pdf",
        }
    be["ices_fields"] = bag
    return be


def example_be() -> dict[str, Any]:
    be = json.loads(json.dumps(example("icegate.bill-of-entry.filed.v1")))
    for doc in be["supporting_documents"]:
        doc.pop("standards", None)  # not carried by the flat file (README)
    be.pop("aeo_tier", None)  # a claim the flat file does not carry
    return with_ices_fields(be)


def cachi01(be: dict[str, Any], *, control_no: str = "100001", crlf: bool = False) -> str:
    message = mapping.message_of(
        be, sender="AABCJ2231PCH001", control_no=control_no, at="202503201042"
    )
    return flatfile.write(message, crlf=crlf)


#: The amendment codes of `<TABLE>AMEND` field 7 (spec p. 39, "BE AMENDMENT CODES") for the
#: record types `cachi01_a` writes.
AMEND_CODES: dict[tuple[str, str], str] = {
    ("BE", "A"): "A_MAIN",
    ("INVOICE", "A"): "A_INV",
    ("ITEMS", "A"): "A_ITEM",
    ("IGMS", "A"): "A_IGM",
    ("INVOICE", "S"): "S_INV",
    ("ITEMS", "S"): "S_ITEM",
    ("CONTAINER", "S"): "S_CONT",
    ("SUPPORTINGDOCS", "S"): "S_DOCS",
    ("INVOICE", "D"): "D_INV",
    ("ITEMS", "D"): "D_ITEM",
    ("CONTAINER", "D"): "D_CONT",
    ("SUPPORTINGDOCS", "D"): "D_DOCS",
}
#: The fields an A record changes (`mapping.amended`; blank is unchanged, pp. 13, 19, 24,
#: 36); None: any field (BE: the unnamed ones go to `ices_fields`). Field 11 of ITEMS, the
#: RITC, follows the CTH in a file the canonical BE renders.
_AMENDABLE: dict[str, set[int] | None] = {
    "BE": None,
    "INVOICE": {s.no for s in mapping.INVOICE_FIELDS} | set(mapping.INVOICE_ADDRESS),
    "ITEMS": {s.no for s in mapping.ITEM_FIELDS}
    | {11, *mapping.ITEM_DESCRIPTION, *mapping.ITEM_LOCATION},
    "IGMS": {s.no for s in (*mapping.IGM_FIELDS, *mapping.HOUSE_FIELDS)},
}
#: Fields that an A record carries together (an address, the two description lines).
_TOGETHER: dict[str, tuple[tuple[int, ...], ...]] = {
    "BE": (mapping.BE_ADDRESS,),
    "INVOICE": (mapping.INVOICE_ADDRESS,),
    "ITEMS": (mapping.ITEM_DESCRIPTION, mapping.ITEM_LOCATION),
}
_ORDER = ("BE", "INVOICE", "ITEMS", "IGMS", "CONTAINER", "SUPPORTINGDOCS")


def _keyed(records: list[flatfile.Record]) -> dict[tuple[str, ...], flatfile.Record]:
    """The records of a rendered BE by what identifies them within it: the invoice (field 7),
    the item (7, 8), the IGM line (its place), the container (10); other records by all
    their values (a change to one is a record deleted and another supplemented)."""
    out: dict[tuple[str, ...], flatfile.Record] = {}
    places: dict[str, int] = {}
    for record in records:
        places[record.segment] = place = places.get(record.segment, 0) + 1
        key: tuple[str, ...]
        match record.segment:
            case "BE":
                key = ("BE",)
            case "INVOICE" | "CONTAINER":
                key = (record.segment, record.text(7 if record.segment == "INVOICE" else 10))
            case "ITEMS":
                key = ("ITEMS", record.text(7), record.text(8))
            case "IGMS":
                key = ("IGMS", str(place))
            case _:
                key = (record.segment, *record.values)
        out[key] = record
    return out


def _as(mode: str, record: flatfile.Record, be: dict[str, Any], fields: set[int]) -> list[str]:
    """`record` (a CACHI01 record of the BE) as a record of `mode`: in S every field the
    mode takes, in A and D those it marks M or K and `fields`; the BE's number and date as
    its keys (fields 5, 6)."""
    segment = spec.SEGMENTS[record.segment]
    values = [mode] + [""] * (len(segment.fields) - 1)
    for f in segment.fields[1:]:
        wanted = f.presence(mode) != "X" if mode == "S" else f.presence(mode) in ("M", "K")
        if wanted or f.no in fields:
            values[f.no - 1] = record.text(f.no)
    values[1], values[4] = be["port_code"], be["be_no"]
    values[5] = be["be_date"].replace("-", "")
    for f, value in zip(segment.fields, values, strict=True):
        problem = flatfile.check(f, value, mode)
        if problem is not None:
            raise mapping.NotRepresentable(f"<TABLE>{segment.name} in mode {mode}: {problem[1]}")
    return values


def _amended_fields(old: flatfile.Record, new: flatfile.Record) -> set[int]:
    """The fields of an A record turning `old` into `new` (NotRepresentable if none can)."""
    if new.segment not in _AMENDABLE:
        raise mapping.NotRepresentable(f"<TABLE>{new.segment} has no A record here")
    amendable = _AMENDABLE[new.segment]
    changed = {n for n in range(2, len(new.values) + 1) if old.text(n) != new.text(n)}
    groups = [g for g in _TOGETHER.get(new.segment, ()) if changed & set(g)]
    for group in groups:
        changed |= set(group)
    for n in sorted(changed):
        if amendable is not None and n not in amendable:
            raise mapping.NotRepresentable(f"<TABLE>{new.segment} field {n}: not amended here")
        if not new.text(n) and not any(n in g and any(new.text(t) for t in g) for g in groups):
            raise mapping.NotRepresentable(
                f"<TABLE>{new.segment} field {n} emptied: a blank field is unchanged"
            )
    return changed


def cachi01_a(
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    reason: str,
    letter_no: str,
    letter_date: str | None = None,
    sender: str = "AABCJ2231PCH001",
    control_no: str = "100002",
    at: str = "202503201042",
) -> str:
    """The amendment CACHI01_A (spec pp. 11-12, 39; an HREC of its own since v2.4, p. 4)
    that turns the registered BE `before` into `after` (both canonical, with the BE number
    and date): one `<TABLE>AMEND` record per amendment code (p. 39) with the job, the reason
    and the request letter, then an A record per changed BE, invoice, item or IGM line (its
    keys, the fields the mode marks M and the changed ones: blank is unchanged), an S record
    per new invoice, item, container or supporting document (an invoice with its items,
    p. 12), a D record per one gone (a deleted invoice takes its items, p. 12).
    NotRepresentable for what no CACHI01_A says here (the BE's identity, a field marked X
    for A such as the CTH, an exchange rate, the duty statement, CTX)."""
    identity = ("port_code", "be_no", "be_date")
    if any(before[k] != after[k] for k in identity):
        raise mapping.NotRepresentable("an amendment keeps the BE's custom house, number, date")
    old = _keyed(mapping.records_of(before))
    new = _keyed(mapping.records_of(after))
    written: list[tuple[str, list[str]]] = []
    deleted_invoices: set[str] = set()
    keys = [*old, *(k for k in new if k not in old)]
    for key in sorted(keys, key=lambda k: _ORDER.index(k[0]) if k[0] in _ORDER else len(_ORDER)):
        was, now = old.get(key), new.get(key)
        segment = key[0]
        if was == now:
            continue
        if segment not in _ORDER or (segment == "IGMS" and (was is None or now is None)):
            raise mapping.NotRepresentable(f"<TABLE>{segment} changed: not amended here")
        if was is not None and now is not None:
            if segment == "IGMS" and key[1] != "1":
                raise mapping.NotRepresentable("an A record of IGMS amends its first line only")
            written.append((segment, _as("A", now, after, _amended_fields(was, now))))
        elif now is not None:
            written.append((segment, _as("S", now, after, set())))
        elif was is not None and not (segment == "ITEMS" and key[1] in deleted_invoices):
            if segment == "SUPPORTINGDOCS" and any(
                r.text(13) == was.text(13) for k, r in new.items() if k[0] == segment
            ):
                raise mapping.NotRepresentable(f"D of document {was.text(13)} deletes them all")
            written.append((segment, _as("D", was, after, set())))
            if segment == "INVOICE":
                deleted_invoices.add(key[1])
    if not written:
        raise mapping.NotRepresentable("nothing to amend")
    codes = list(dict.fromkeys(AMEND_CODES[(seg, values[0])] for seg, values in written))
    job = (after.get("user_job_no") or "", (after.get("user_job_date") or "").replace("-", ""))
    amend = [
        flatfile.Record(
            "AMEND",
            (
                code[0],  # the record type: A, S or D
                after["port_code"],
                *job,
                after["be_no"],
                after["be_date"].replace("-", ""),
                code,
                reason,
                letter_no,
                (letter_date or at[:8]).replace("-", ""),
            ),
        )
        for code in codes
    ]
    header = flatfile.Header(
        sender=sender,
        receiver=after.get("custodian_code") or after["port_code"],
        test=False,
        message_id=spec.AMENDMENT,
        control_no=control_no,
        date=at[:8],
        time=at[8:12],
    )
    for record in amend:
        for f, value in zip(spec.AMEND.fields, record.values, strict=True):
            problem = flatfile.check(f, value, record.mode)
            if problem is not None:
                raise mapping.NotRepresentable(f"<TABLE>AMEND: {problem[1]}")
    records = amend + [flatfile.Record(seg, tuple(values)) for seg, values in written]
    return flatfile.write(flatfile.Message(header, records))
