"""ICES 1.5 flat files (issue 9): the reader and writer per segment and per fault kind,
written from the spec's tables (`../shared/domain/icegate/ices-1.5-be-message-format-2.23`,
pages cited), and the round trips canonical -> flat -> canonical and flat -> canonical ->
flat (hypothesis)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from be_intake.adapters.ices import flatfile, mapping, spec
from be_intake.adapters.ices.flatfile import Fault
from be_intake.adapters.ices.samples import cachi01, cachi01_a, example_be, with_ices_fields
from clearance_contracts import validate_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GS = spec.DELIMITER
pytestmark = pytest.mark.unit


def parse(text: str | bytes) -> dict[str, Any] | list[Fault]:
    raw = text.encode("ascii") if isinstance(text, str) else text
    message = flatfile.read(raw)
    if isinstance(message, list):
        return message
    parsed = mapping.fresh(message)
    return parsed if isinstance(parsed, list) else parsed.bill_of_entry


def canonical_part(be: dict[str, Any]) -> dict[str, Any]:
    """What a CACHI01 carries: not the BE number and date (X in a fresh BE, p. 13) nor the
    lodging time (the platform's receipt)."""
    return {k: v for k, v in be.items() if k not in ("be_no", "be_date", "filed_at")}


def codes(faults: Any) -> set[str]:
    assert isinstance(faults, list), faults
    return {f.code for f in faults}


def lines(text: str) -> list[str]:
    return text.split("\n")


def replace_field(text: str, segment: str, no: int, value: str, record: int = 1) -> str:
    out, current, seen = [], None, 0
    for line in lines(text):
        if line.startswith("<TABLE>"):
            current, seen = line[7:], 0
        elif current == segment and not line.startswith("TREC"):
            seen += 1
            if seen == record:
                values = line.split(GS)
                values[no - 1] = value
                line = GS.join(values)
        out.append(line)
    return "\n".join(out)


# -- the spec's tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "count", "page"),
    [
        (spec.BE, 43, 13),  # p. 13-14: fields 1-43 (the note's "30 parameters" is stale)
        (spec.EXCHANGE, 14, 17),
        (spec.INVOICE, 87, 19),
        (spec.ITEMS, 92, 24),
        (spec.IGMS, 23, 36),
        (spec.CONTAINER, 12, 37),
        (spec.CTX, 9, 38),
        (spec.AMEND, 10, 39),
        (spec.STATEMENT, 12, 50),
        (spec.SUPPORTINGDOCS, 31, 51),
        (spec.CHCAI02, 24, 53),
    ],
)
def test_each_segment_has_the_spec_tables_fields(segment: Any, count: int, page: int) -> None:
    assert len(segment.fields) == count
    assert segment.page == page
    assert segment.field(1).name.lower() == "message type"


def test_field_types_and_presence_follow_the_spec() -> None:
    """p. 13: BE Number N7 is X in a fresh BE and a key in an amendment; p. 19: invoice value
    N16,2; p. 36: inward date a date, mandatory in a fresh BE."""
    assert spec.BE.field(5).presence("F") == "X"
    assert spec.BE.field(5).presence("A") == "K"
    value = spec.INVOICE.field(41)
    assert (value.type, value.length, value.scale) == ("N", 16, 2)
    assert spec.IGMS.field(9).type == "D"
    assert spec.IGMS.field(9).presence("F") == "M"


# -- per segment: the mapping ----------------------------------------------------------------


def test_the_example_be_round_trips_through_a_cachi01_file() -> None:
    be = example_be()
    parsed = parse(cachi01(be))
    assert parsed == canonical_part(be)


def test_be_segment_fields_map_to_the_canonical_header() -> None:
    """p. 13: field 7 BE type, 8 IEC, 17 mode, 22 CHA code, 28 prior BE, 43 payment method."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    assert (parsed["be_type"], parsed["iec"], parsed["mode_of_transport"]) == (
        "H",
        "AAGCS4417M",
        "S",
    )
    assert parsed["customs_broker_code"] == "AABCJ2231PCH001"
    assert parsed["prior_be"] is False
    assert parsed["payment_method"] == "D"


def test_exchange_rate_is_rate_over_unit_in_rupees() -> None:
    """p. 17: 'Unit in Rs.' field 9 and 'Rate' field 10: JPY 100 = Rs 55.3 is 0.553 a yen."""
    be = example_be()
    be["invoices"][0]["currency"] = "JPY"
    be["ices_fields"]["EXCHANGE/JPY"] = be["ices_fields"].pop("EXCHANGE/USD")
    text = cachi01(be)
    text = replace_field(text, "EXCHANGE", 9, "100")
    text = replace_field(text, "EXCHANGE", 10, "55.3")
    parsed = parse(text)
    assert isinstance(parsed, dict)
    assert parsed["invoices"][0]["exchange_rate"] == pytest.approx(0.553)


def test_items_fields_map_to_the_canonical_item() -> None:
    """p. 24-25: field 9 quantity, 10 UQC, 12-13 description, 22 CTH, 59 unit price."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    item = parsed["invoices"][0]["items"][0]
    assert item["cth"] == "85258090"
    assert item["quantity"] == 600
    assert item["unit_price"] == 38.5
    assert item["description"].startswith("4MP IR FIXED DOME")


def test_igms_give_the_igm_house_bills_and_arrival() -> None:
    """p. 36: fields 7-9 IGM no, date, inward date; 13-20 the bill of lading line."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    assert parsed["igm"]["igm_no"] == "2314567"
    assert parsed["arrival_date"] == parsed["igm"]["inward_date"] == "2025-03-19"
    assert parsed["house_bills"][0]["master_bill_no"] == "MAEU248817362"


def test_container_segment_maps_fcl_and_seal() -> None:
    """p. 37: field 9 LCL/FCL (F/L), 10 container number, 11 seal number."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    assert parsed["containers"] == [
        {"container_no": "MSKU7364519", "seal_no": "CN4471823", "fcl_lcl": "FCL"}
    ]


def test_ctx_and_statements_are_kept_by_field_number() -> None:
    """p. 38: CTX fields 7-9; p. 50: statements other than the duty remark."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    assert parsed["ices_fields"]["CTX/1"] == {"7": "27", "8": "G", "9": "27AAGCS4417M1Z5"}
    assert parsed["duty"]["total_duty"] == 2881666.87


def test_supporting_documents_map_type_reference_and_dates() -> None:
    """p. 51: field 14 document type code, 16 issuing party, 21 reference, 23-24 dates."""
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    first = parsed["supporting_documents"][0]
    assert first["document_type"] == "bis_registration"
    assert first["reference"] == "R-41087785"
    assert first["expires_on"] == "2025-04-30"


def test_the_parsed_be_meets_the_filing_contract() -> None:
    parsed = parse(cachi01(example_be()))
    assert isinstance(parsed, dict)
    validate_event(
        "icegate.bill-of-entry.filed.v1",
        parsed
        | {"be_no": "5000001", "be_date": "2025-03-20", "filed_at": "2025-03-20T10:00:00+05:30"},
    )


def test_crlf_line_endings_read_as_lf() -> None:
    """p. 10: record delimiter ^M^J (DOS) or ^J (Unix)."""
    be = example_be()
    assert parse(cachi01(be, crlf=True)) == parse(cachi01(be))


def test_a_trailing_delimiter_after_the_last_field_is_accepted() -> None:
    """p. 10's example ends a record with the delimiter: DKK^]^]^]^]Y^]^]^]^]."""
    text = cachi01(example_be())
    out = [line + GS if line.startswith("F" + GS + "INNSA1") else line for line in lines(text)]
    assert isinstance(parse("\n".join(out)), dict)


# -- per fault kind --------------------------------------------------------------------------


def test_wrong_field_count_is_fault_08_with_line_segment_and_record() -> None:
    text = cachi01(example_be())
    rows = lines(text)
    n = rows.index("<TABLE>ITEMS") + 2  # the second item
    rows[n] = GS.join(rows[n].split(GS)[:-3])
    faults = parse("\n".join(rows))
    assert isinstance(faults, list)
    [fault] = faults
    assert (fault.code, fault.line, fault.segment, fault.record) == ("08", n + 1, "ITEMS", 2)
    assert "92 fields" in fault.expected
    assert "p. 24" in fault.expected


def test_unknown_segment_is_fault_06_and_an_unsupported_one_07() -> None:
    text = cachi01(example_be())
    unknown = text.replace("<TABLE>CTX", "<TABLE>WHATEVER")
    assert codes(parse(unknown)) >= {"06"}
    licence = text.replace("TREC", "<TABLE>LICENCE\nF" + GS + "x\nTREC")
    assert codes(parse(licence)) == {"07"}


def test_a_truncated_file_is_fault_03() -> None:
    text = cachi01(example_be())
    truncated = text[: len(text) // 2]
    faults = parse(truncated)
    assert "03" in codes(faults)


def test_non_ascii_bytes_are_fault_05_with_their_line() -> None:
    raw = cachi01(example_be()).encode("ascii").replace(b"SECURUS", "SÉCURUS".encode(), 1)
    faults = parse(raw)
    assert isinstance(faults, list)
    assert {(f.code, f.line) for f in faults} == {("05", 3)}


def test_control_number_mismatch_between_hrec_and_trec_is_fault_04() -> None:
    """p. 9: 'The same Sequence or Control Number that is used in the header has to be
    repeated in the trailer.'"""
    text = cachi01(example_be(), control_no="100001").replace(
        "TREC" + GS + "100001", "TREC" + GS + "100002"
    )
    faults = parse(text)
    assert isinstance(faults, list)
    [fault] = faults
    assert (fault.code, fault.segment, fault.field) == ("04", None, 2)


def test_a_wrong_message_id_is_fault_01() -> None:
    text = cachi01(example_be()).replace("CACHI01", "COCHE01", 1)
    assert codes(parse(text)) == {"01"}


def test_a_missing_mandatory_field_is_fault_09() -> None:
    """p. 24: ITEMS field 18 'Brand name' is M in a fresh BE."""
    faults = parse(replace_field(cachi01(example_be()), "ITEMS", 18, ""))
    assert isinstance(faults, list)
    [fault] = faults
    assert (fault.code, fault.segment, fault.record, fault.field) == ("09", "ITEMS", 1, 18)


def test_too_long_a_field_is_fault_10_and_a_bad_number_11_and_a_bad_date_12() -> None:
    text = cachi01(example_be())
    assert codes(parse(replace_field(text, "BE", 8, "AAGCS4417MX"))) == {"10"}
    assert codes(parse(replace_field(text, "INVOICE", 41, "85,680"))) == {"11"}
    assert codes(parse(replace_field(text, "INVOICE", 41, "1.234"))) == {"11"}  # N16,2
    assert codes(parse(replace_field(text, "IGMS", 9, "20250230"))) == {"12"}


def test_a_value_in_a_field_not_wanted_in_the_mode_is_fault_13() -> None:
    """p. 13: BE Number (field 5) is X in a fresh BE: the platform assigns it."""
    assert codes(parse(replace_field(cachi01(example_be()), "BE", 5, "1234567"))) == {"13"}


def test_a_missing_mandatory_segment_is_fault_15() -> None:
    text = cachi01(example_be())
    rows = [r for r in lines(text) if not r.startswith("<TABLE>CONTAINER")]
    rows = [r for r in rows if "MSKU7364519" not in r]
    assert codes(parse("\n".join(rows))) == {"15"}


def test_a_code_outside_the_spec_list_is_fault_16() -> None:
    """p. 15: mode of transport L, S or A."""
    assert codes(parse(replace_field(cachi01(example_be()), "BE", 17, "R"))) == {"16"}


def test_a_record_of_another_job_is_fault_17() -> None:
    assert codes(parse(replace_field(cachi01(example_be()), "ITEMS", 3, "40128"))) == {"17"}


def test_a_file_of_50_megabytes_is_fault_18_without_reading_it() -> None:
    raw = b"HREC" + b"x" * (50 * 1024 * 1024)
    faults = parse(raw)
    assert codes(faults) == {"18"}


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\n\n", b"TREC", b"HREC", b"<TABLE>BE\n", bytes(range(256))):
        assert isinstance(parse(raw), list)


# -- round trips (hypothesis) ----------------------------------------------------------------

_word = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=10)
_words = st.lists(_word, min_size=1, max_size=6).map(" ".join)
_day = st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 12, 31)).map(date.isoformat)
_money = st.decimals(min_value=0, max_value=10**9, places=2).map(float)
_qty = st.decimals(min_value=0, max_value=10**6, places=3).map(float)


@st.composite
def bills_of_entry(draw: st.DrawFn) -> dict[str, Any]:
    be = copy.deepcopy(example_be())
    mode = draw(st.sampled_from(["S", "A"]))
    be["mode_of_transport"] = mode
    be["be_type"] = draw(st.sampled_from(["H", "W"]))
    be["warehouse_code"] = "NSA1W001" if be["be_type"] == "W" else None
    be["user_job_no"] = str(draw(st.integers(1, 9_999_999)))
    be["user_job_date"] = draw(_day)
    be["prior_be"] = draw(st.booleans())
    be["green_channel"] = draw(st.booleans())
    be["importer_name"] = draw(_words)[:50].strip()
    be["importer_address"] = ", ".join(
        draw(st.lists(_words.map(lambda w: w[:30].strip()), min_size=1, max_size=3))
    )
    invoices = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        items = [
            {
                "item_sl_no": k,
                "cth": draw(st.from_regex(r"\A[0-9]{8}\Z")),
                "description": draw(_words)[:60].strip(),
                "quantity": draw(_qty),
                "unit": draw(st.sampled_from(["NOS", "KGS", "PCS"])),
                "unit_price": draw(_money),
                "country_of_origin": draw(st.sampled_from(["CN", "US", "DE"])),
                "brand": draw(_word),
                "model": draw(_word),
            }
            for k in range(1, draw(st.integers(1, 4)) + 1)
        ]
        invoices.append(
            {
                "invoice_sl_no": n,
                "invoice_no": draw(_word),
                "invoice_date": draw(_day),
                "invoice_value": draw(_money),
                "currency": "USD",
                "exchange_rate": 86.25,
                "terms_of_invoice": draw(st.sampled_from(["CIF", "CF", "CI", "FOB"])),
                "supplier_name": draw(_words),
                "items": items,
            }
        )
    be["invoices"] = invoices
    be["containers"] = (
        [
            {
                "container_no": f"MSKU{draw(st.integers(0, 9_999_999)):07d}",
                "seal_no": draw(_word),
                "fcl_lcl": draw(st.sampled_from(["FCL", "LCL"])),
            }
        ]
        if mode == "S"
        else []
    )
    be["supporting_documents"] = be["supporting_documents"][: draw(st.integers(0, 3))]
    be["duty"] = {
        "assessable_value": draw(_money),
        "total_duty": draw(_money),
        "paid": draw(st.booleans()),
        "deferred_payment_otp_authenticated": draw(st.booleans()),
    }
    return with_ices_fields(be)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bills_of_entry())
def test_canonical_to_flat_to_canonical_is_lossless(be: dict[str, Any]) -> None:
    assert parse(cachi01(be)) == canonical_part(be)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bills_of_entry())
def test_flat_to_canonical_to_flat_reproduces_every_field(be: dict[str, Any]) -> None:
    text = cachi01(be)
    first = flatfile.read(text.encode())
    parsed = parse(text)
    assert isinstance(parsed, dict)
    assert isinstance(first, flatfile.Message)
    again = flatfile.read(cachi01(parsed | {"port_code": be["port_code"]}).encode())
    assert isinstance(again, flatfile.Message)
    assert [r.values for r in again.records] == [r.values for r in first.records]


# -- CACHI01_A rendered by the samples (spec pp. 12, 38-39) ----------------------------------


def registered(be: dict[str, Any]) -> dict[str, Any]:
    """The BE as be-intake holds it once its CACHI01 is registered under a BE number."""
    parsed = parse(cachi01(be))
    assert isinstance(parsed, dict), parsed
    return parsed | {"be_no": "5000001", "be_date": "2025-03-20", "filed_at": be["filed_at"]}


def applied(before: dict[str, Any], text: str) -> dict[str, Any] | list[Fault]:
    message = flatfile.read(text.encode("ascii"))
    if isinstance(message, list):
        return message
    request = mapping.amendment(message)
    return request if isinstance(request, list) else mapping.amended(before, request)


def _change_quantity(be: dict[str, Any]) -> None:
    be["invoices"][0]["items"][0]["quantity"] = 650


def _change_consignment_and_address(be: dict[str, Any]) -> None:
    be["country_of_consignment"] = "HK"
    be["importer_address"] = "Plot 7, TTC Industrial Area, Navi Mumbai, Maharashtra 400705"


def _add_container_drop_item(be: dict[str, Any]) -> None:
    be["containers"].append(
        {"container_no": "MSKU7364520", "seal_no": "CN4471824", "fcl_lcl": "LCL"}
    )
    be["invoices"][0]["items"].pop()


def _add_invoice(be: dict[str, Any]) -> None:
    invoice = copy.deepcopy(be["invoices"][0])
    invoice.update(invoice_sl_no=2, invoice_no="DHZL-2503-0118", invoice_value=1200.0)
    invoice["items"] = invoice["items"][:1]
    be["invoices"].append(invoice)
    be["ices_fields"]["INVOICE/2"] = dict(be["ices_fields"]["INVOICE/1"])
    # ITEMS 25-28, BCD / CVD notification and serial, are M in a supplemented item (p. 24)
    notifications = {"25": "050/2017", "26": "1", "27": "NIL", "28": "NIL"}  # test values
    be["ices_fields"]["ITEMS/2/1"] = be["ices_fields"]["ITEMS/1/1"] | notifications


def _move_supplier_and_factory(be: dict[str, Any]) -> None:
    """INVOICE 24-28 and ITEMS 84-88 (pp. 19-20, 26): a supplier's and a factory's address."""
    moved = "No. 1199, Bin'an Road, Binjiang District, Hangzhou, Zhejiang 310053, China"
    be["invoices"][0]["supplier_address"] = moved
    be["invoices"][0]["items"][1]["manufacturing_location"] = moved


def _add_document(be: dict[str, Any]) -> None:
    be["supporting_documents"].append(
        {
            "document_type": "other",
            "reference": "LTR-2503-7",
            "issued_by": "SECURUS VISION SYSTEMS PRIVATE LIMITED",
            "issued_on": "2025-03-19",
        }
    )
    be["ices_fields"]["SUPPORTINGDOCS/9"] = dict(be["ices_fields"]["SUPPORTINGDOCS/1"]) | {
        "13": "LTR-2503-7"
    }


@pytest.mark.parametrize(
    ("change", "codes_expected"),
    [
        (_change_quantity, ["A_ITEM"]),
        (_change_consignment_and_address, ["A_MAIN"]),
        (_add_container_drop_item, ["D_ITEM", "S_CONT"]),
        (_add_invoice, ["S_INV", "S_ITEM"]),
        (_move_supplier_and_factory, ["A_INV", "A_ITEM"]),
        (_add_document, ["S_DOCS"]),
    ],
)
def test_an_amendment_rendered_from_two_versions_applies_to_the_second(
    change: Any, codes_expected: list[str]
) -> None:
    """`cachi01_a(before, after)` read as CACHI01_A (p. 39: one AMEND record per amendment
    code) and applied to the registered BE gives `after`: A records carry the changed fields
    and those M in mode A (ITEMS 20 end use, p. 24), S records whole (p. 38), D the keys."""
    be = example_be()
    be["invoices"][0]["exchange_rate"] = 86.15
    before = registered(be)
    after = copy.deepcopy(before)
    change(after)
    text = cachi01_a(before, after, reason="as per packing list", letter_no="L-1")
    message = flatfile.read(text.encode("ascii"))
    assert isinstance(message, flatfile.Message), message
    assert message.header.message_id == spec.AMENDMENT
    assert sorted(r.text(7) for r in message.of("AMEND")) == codes_expected
    result = applied(before, text)
    assert isinstance(result, dict), result
    assert {k: v for k, v in result.items() if k != "ices_fields"} == {
        k: v for k, v in after.items() if k != "ices_fields"
    }


@pytest.mark.parametrize(
    "change",
    [
        lambda be: be["invoices"][0]["items"][0].update(cth="85299090"),  # ITEMS 22: X in A
        lambda be: be["duty"].update(total_duty=1.0),  # the SADUTY statement
        lambda be: be.update(be_no="5000002"),  # the BE amended is the key
        lambda be: None,  # nothing changed
    ],
)
def test_what_no_amendment_can_say_is_not_representable(change: Any) -> None:
    before = registered(example_be())
    after = copy.deepcopy(before)
    change(after)
    with pytest.raises(mapping.NotRepresentable):
        cachi01_a(before, after, reason="x", letter_no="L-1")


def test_a_supplemented_invoice_in_a_currency_the_be_has_no_exchange_for_is_fault_17() -> None:
    """EXCHANGE is not taken in an amendment (X in A, S, D, p. 12): a new invoice takes the
    rate the BE has for its currency, and a currency it has none for is a fault."""
    be = example_be()
    be["invoices"][0]["exchange_rate"] = 86.15
    before = registered(be)
    after = copy.deepcopy(before)
    _add_invoice(after)
    text = cachi01_a(before, after, reason="a second invoice", letter_no="L-2")
    result = applied(before, text)
    assert isinstance(result, dict), result
    assert result["invoices"][1]["exchange_rate"] == 86.15
    in_euros = replace_field(text, "INVOICE", 43, "EUR")  # the S record's currency
    assert codes(applied(before, in_euros)) == {"17"}
