"""BIS-CRS-1 and BIS-CRS-2 against the real BIS-CRS register (9,011 rows)."""

import csv
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from bis_verifier.adapters.register_csv import CsvRegister
from bis_verifier.config import Settings
from bis_verifier.domain.register import RegistrationStatus, normalise_status
from bis_verifier.domain.verification import verify
from clearance_contracts import example
from clearance_domain import BillOfEntry, SupportingDocument

pytestmark = pytest.mark.unit

REGISTER_CSV: Path = Settings(service_name="bis-verifier", db_schema="x").bis_register_csv


@pytest.fixture(scope="module")
def register() -> CsvRegister:
    return CsvRegister(REGISTER_CSV)


def _rows() -> list[dict[str, str]]:
    with REGISTER_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _first(status_prefix: str) -> dict[str, str]:
    return next(row for row in _rows() if row["Status"].startswith(status_prefix))


FILED = BillOfEntry.from_data(example("icegate.bill-of-entry.filed.v1"))


def _be(reference: str | None, be_date: str) -> BillOfEntry:
    documents = (
        ()
        if reference is None
        else (SupportingDocument("bis_registration", reference, item_sl_no=1),)
    )
    return dataclasses.replace(
        FILED, be_date=date.fromisoformat(be_date), supporting_documents=documents
    )


def test_the_whole_real_register_loads(register: CsvRegister) -> None:
    assert len(register) > 8900


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Operative", RegistrationStatus.OPERATIVE),
        ("operative", RegistrationStatus.OPERATIVE),
        ("Expired", RegistrationStatus.EXPIRED),
        ("Cancelledw.e.f.01Nov2017", RegistrationStatus.CANCELLED),
        ("Deferred", RegistrationStatus.DEFERRED),
        ("WITHDRAWN W.E.F. 01-01-2020", RegistrationStatus.WITHDRAWN),
        ("Stop Sale and Supply Model no. X", RegistrationStatus.UNKNOWN),
    ],
)
def test_status_text_maps_to_a_small_vocabulary(text: str, status: RegistrationStatus) -> None:
    assert normalise_status(text) is status


def test_every_real_status_maps_and_unknown_ones_fail_safe(register: CsvRegister) -> None:
    for row in _rows():
        status = normalise_status(row["Status"])
        if status is RegistrationStatus.UNKNOWN:
            verdict = verify(_be(row["Registration Number"], "2020-01-01"), register.lookup)
            assert verdict.verdict == "failed"


def test_operative_registration_within_validity_passes(register: CsvRegister) -> None:
    row = _first("Operative")  # R-41147907, valid up to 25-Dec-2021
    verdict = verify(_be(row["Registration Number"], "2021-06-01"), register.lookup)
    assert verdict.verdict == "passed"
    assert verdict.findings == ()


def test_operative_registration_past_valid_upto_fails_bis_crs_1(register: CsvRegister) -> None:
    row = _first("Operative")
    verdict = verify(_be(row["Registration Number"], "2026-11-20"), register.lookup)
    assert verdict.verdict == "failed"
    assert verdict.findings[0].rule_id == "BIS-CRS-1"
    assert verdict.findings[0].item_sl_no == 1


@pytest.mark.parametrize("status", ["Deferred", "Cancelled"])
def test_deferred_and_cancelled_never_clear_bis_crs_2(register: CsvRegister, status: str) -> None:
    row = _first(status)
    verdict = verify(_be(row["Registration Number"], "2019-01-01"), register.lookup)
    assert verdict.verdict == "failed"
    assert verdict.findings[0].rule_id == "BIS-CRS-2"


def test_unknown_registration_fails_bis_crs_1(register: CsvRegister) -> None:
    verdict = verify(_be("R-00000000", "2020-01-01"), register.lookup)
    assert [f.rule_id for f in verdict.findings] == ["BIS-CRS-1"]


def test_be_without_bis_documents_is_not_applicable(register: CsvRegister) -> None:
    assert verify(_be(None, "2026-11-20"), register.lookup).verdict == "not_applicable"
