"""The AEO directory's bulk loader reads the CSV into contract-valid certificate events."""

from __future__ import annotations

import pytest
from clearance_contracts import AEO_CERTIFICATE_RECORDED, validate_event
from clearance_local import aeo_directory

pytestmark = pytest.mark.unit


def test_the_sample_directory_is_labelled_and_every_row_is_a_valid_certificate() -> None:
    text = aeo_directory.SAMPLE.read_text(encoding="utf-8")
    assert text.startswith("# SAMPLE DATA")
    certificates = aeo_directory.read_certificates(text)
    assert {c["tier"] for c in certificates} == {"T1", "T2", "T3", "LO"}
    for certificate in certificates:
        validate_event(AEO_CERTIFICATE_RECORDED, certificate)
    # The example BE of contracts/ (IEC AAGCS4417M) is an AEO T2 in the sample.
    assert ("AAGCS4417M", "T2") in {(c["iec"], c["tier"]) for c in certificates}


def test_a_reload_publishes_the_same_event_ids() -> None:
    first = aeo_directory.read_certificates(aeo_directory.SAMPLE.read_text(encoding="utf-8"))
    again = aeo_directory.read_certificates(aeo_directory.SAMPLE.read_text(encoding="utf-8"))
    assert [aeo_directory.headers(c)[1] for c in first] == [
        aeo_directory.headers(c)[1] for c in again
    ]


def test_a_bad_row_is_refused_with_its_line() -> None:
    text = "certificate_no,iec,tier,entity_name,valid_from,valid_to,suspended_from,revoked_from\n"
    text += "INX,AAGCS4417M,T9,,2022-01-01,2023-01-01,,\n"
    with pytest.raises(ValueError, match="line 2"):
        aeo_directory.read_certificates(text)
