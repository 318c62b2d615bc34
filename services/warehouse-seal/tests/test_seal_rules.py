"""Seal reconciliation (pure): SEAL-FMT-1, SEAL-DATA-1."""

import pytest
from warehouse_seal.domain.seals import needs_seal, reconcile

pytestmark = pytest.mark.unit


def _be(*seals: str) -> dict[str, object]:
    return {
        "be_type": "W",
        "warehouse_code": "MAA4W001",
        "containers": [
            {"container_no": f"MSKU123456{n}", "seal_no": seal} for n, seal in enumerate(seals)
        ],
    }


def test_only_warehousing_bes_need_a_seal() -> None:
    assert needs_seal({"be_type": "W"})
    assert not needs_seal({"be_type": "H"})


@pytest.mark.parametrize("seal", ["ABCD 1234 5678", "ABCD12345678"])
def test_well_formed_seals_match(seal: str) -> None:
    result = reconcile(_be(seal))
    assert result.outcome == "matched"
    assert result.seal_numbers == [seal]
    assert result.warehouse_code == "MAA4W001"


@pytest.mark.parametrize("seal", ["ABC 1234 5678", "ABCD 1234 567", "abcd 1234 5678", ""])
def test_malformed_seal_numbers_are_findings(seal: str) -> None:
    result = reconcile(_be("ABCD 1234 5678", seal))
    assert result.outcome == "mismatched"
    assert [f["rule_id"] for f in result.findings] == ["SEAL-FMT-1"]


def test_warehousing_without_any_seal_is_a_finding() -> None:
    result = reconcile(_be())
    assert [f["rule_id"] for f in result.findings] == ["SEAL-DATA-1"]
