"""Intake rules (pure): INTAKE-IEC-1..4, INTAKE-BE-2, every reason reported together."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from be_intake.domain.filing import PERMANENT_IECS, cif_in_rupees, rejection_reasons
from clearance_contracts import example
from clearance_domain import BillOfEntry
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

FILED = example("icegate.bill-of-entry.filed.v1")


def _be(**changes: Any) -> BillOfEntry:
    return BillOfEntry.from_data({**copy.deepcopy(FILED), **changes})


def _rules(**changes: Any) -> list[str]:
    return [reason.rule_id for reason in rejection_reasons(_be(**changes))]


def _border(iec: str, value: float, rate: float | None, **changes: Any) -> list[str]:
    """A small consignment across a land border under a permanent IEC."""
    invoices = copy.deepcopy(FILED["invoices"])
    invoices[0]["invoice_value"] = value
    invoices[0]["terms_of_invoice"] = "CIF"
    if rate is not None:
        invoices[0]["exchange_rate"] = rate
    duty = {**FILED["duty"], "assessable_value": 0}
    fields = {
        "iec": iec,
        "invoices": invoices,
        "duty": duty,
        "mode_of_transport": "L",
        "importer_type": "O",
        "country_of_consignment": {"IIEGC1134E": "CN", "IIEGM0170E": "MM", "0100000070": "MM"}.get(
            iec, "NP"
        ),
        **changes,
    }
    return _rules(**fields)


def test_a_valid_filing_has_no_rejection_reasons() -> None:
    assert _rules() == []


@pytest.mark.parametrize("iec", ["", "AAACR1234", "AAACR1234E1", "aaacr1234e", "AAACR-234E"])
def test_iec_must_be_ten_alphanumerics(iec: str) -> None:
    """INTAKE-IEC-1."""
    assert _rules(iec=iec) == ["INTAKE-IEC-1"]


@pytest.mark.parametrize(
    ("iec", "valid"),
    [
        ("AAGCS4417M", True),  # PAN of a company (fourth letter C)
        ("AAAPL1234C", True),  # a person
        ("AAAXL1234C", False),  # X is no PAN holder status
        ("AAAC11234C", False),  # a digit where the PAN has a letter
        ("0388012345", True),  # a numeric IEC (DGFT before PAN-based codes)
        ("DCUNO0137E", True),  # a permanent IEC, not PAN-shaped (N)
    ],
)
def test_iec_with_letters_is_pan_based_unless_permanent(iec: str, valid: bool) -> None:
    """INTAKE-IEC-1: the PAN-based shape where it applies."""
    assert (_rules(iec=iec, importer_name="X", importer_address="Y") == []) is valid


def test_government_permanent_iecs_only_for_government_importers() -> None:
    """INTAKE-IEC-2: AMDCG0111E is for central government departments."""
    assert _rules(iec="AMDCG0111E", importer_type="G") == []
    assert _rules(iec="AMDCG0111E", importer_type="P") == ["INTAKE-IEC-2"]


def test_nepal_permanent_iec_only_for_goods_from_nepal() -> None:
    """INTAKE-IEC-2: IIEGN0161E is for goods from Nepal."""
    assert _border("IIEGN0161E", 200, 1.6) == []
    assert _border("IIEGN0161E", 200, 1.6, country_of_consignment="CN") == ["INTAKE-IEC-2"]


# Example table of INTAKE-IEC-3 (002): ceilings on the CIF value of one consignment.
@pytest.mark.parametrize(
    ("iec", "value", "rate", "rules"),
    [
        ("IIEGN0161E", 15_000, 1.6, []),  # NPR 15,000 = Rs 24,000 <= Rs 25,000
        ("IIEGN0161E", 15_700, 1.6, ["INTAKE-IEC-3"]),  # Rs 25,120 > Rs 25,000
        ("IIEGM0170E", 25_000, 1.0, []),  # exactly the ceiling
        ("0100000070", 25_001, 1.0, ["INTAKE-IEC-3"]),
        ("IIEGC1134E", 2_400, 83.0, []),  # USD 2,400 = Rs 1,99,200 <= Rs 2,00,000 (Nathula)
        ("IIEGC1134E", 2_500, 83.0, ["INTAKE-IEC-3"]),  # Rs 2,07,500
        ("IIEGN0161E", 100, None, ["INTAKE-IEC-3"]),  # no exchange rate: cannot be checked
        ("IIEGN0161E", 1.4e308, 7e4, ["INTAKE-IEC-3"]),  # absurd, still a reason (the fuzzer)
    ],
)
def test_border_trade_ceilings_on_cif_in_rupees(
    iec: str, value: float, rate: float | None, rules: list[str]
) -> None:
    currency = "USD" if iec == "IIEGC1134E" else "NPR"
    # INTAKE-IEC-4: the numeric permanent IECs need the importer's name and address.
    details = {"importer_name": "A", "importer_address": "B"} if iec.isdigit() else {}
    assert _border_with_currency(iec, value, rate, currency, **details) == rules


def _border_with_currency(
    iec: str, value: float, rate: float | None, currency: str, **changes: Any
) -> list[str]:
    invoices = copy.deepcopy(FILED["invoices"])
    invoices[0].update(invoice_value=value, currency=currency, terms_of_invoice="CIF")
    if rate is not None:
        invoices[0]["exchange_rate"] = rate
    country = {"IIEGC1134E": "CN", "IIEGM0170E": "MM", "0100000070": "MM"}.get(iec, "NP")
    return _rules(
        iec=iec,
        invoices=invoices,
        duty={**FILED["duty"], "assessable_value": 0},
        mode_of_transport="L",
        importer_type="O",
        country_of_consignment=country,
        **changes,
    )


def test_numeric_permanent_iecs_need_importer_name_and_address() -> None:
    """INTAKE-IEC-4 (ICES 1.5 v2.23): 0100000053 personal use."""
    assert _rules(iec="0100000053", importer_name=None, importer_address=None) == ["INTAKE-IEC-4"]
    assert _rules(iec="0100000053", importer_name="R. DESAI", importer_address="Pune") == []


def test_every_permanent_iec_of_the_sources_is_known() -> None:
    """INTAKE-IEC-2 (12 codes of 002), INTAKE-IEC-4 (12 numeric codes of ICES)."""
    letters = [code for code in PERMANENT_IECS if not code.isdigit()]
    assert len(letters) == 12
    assert len(PERMANENT_IECS) - len(letters) == 12


def test_warehousing_be_must_declare_warehouse_code() -> None:
    """INTAKE-BE-2."""
    assert _rules(be_type="W", warehouse_code=None) == ["INTAKE-BE-2"]
    assert _rules(be_type="W", warehouse_code="MAA4W001") == []


def test_all_reasons_are_reported_together() -> None:
    assert _rules(iec="bad", be_type="W", warehouse_code=None) == ["INTAKE-IEC-1", "INTAKE-BE-2"]


@given(st.decimals(min_value=1, max_value=10_000, places=2), st.decimals("0.01", "200", places=4))
def test_cif_in_rupees_is_the_invoice_value_at_its_rate(value: Any, rate: Any) -> None:
    invoices = copy.deepcopy(FILED["invoices"])
    invoices[0].update(
        invoice_value=float(value), exchange_rate=float(rate), terms_of_invoice="CIF"
    )
    be = _be(invoices=invoices)
    cif = cif_in_rupees(be)
    assert cif is not None
    assert abs(cif - value * rate) < 1
