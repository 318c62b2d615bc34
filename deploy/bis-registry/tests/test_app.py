"""The registry over HTTP: what the verifier's adapter reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from clearance_bis_registry.app import create_app
from clearance_bis_registry.licences import canonical_licence_no, load_licences
from clearance_bis_registry.register import load_register, shared_register_path
from fastapi.testclient import TestClient

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(load_register(shared_register_path()), load_licences(), snapshot="2021-02")
    with TestClient(app) as client:
        yield client


def test_a_real_registration(client: TestClient) -> None:
    body = client.get("/registrations/R-41087785").json()
    assert body["status"] == "valid"
    assert body["status_text"] == "Operative"
    assert body["valid_upto"] == "2025-04-30"
    assert body["manufacturer"] == "ZHEJIANGDAHUAZHILIANCO.,LTD."
    assert body["brand"] == "DAHUATECHNOLOGY"
    assert {"model": "DH-HAC-HFW1400SP", "included_on": "2018-05-09"}.items() <= next(
        m for m in body["models"] if m["model"] == "DH-HAC-HFW1400SP"
    ).items()
    assert body["register_snapshot"] == "2021-02"
    assert "status_on" not in body


def test_status_on_a_day(client: TestClient) -> None:
    within = client.get("/registrations/R-41087785", params={"on": "2025-03-20"}).json()
    after = client.get("/registrations/r-41087785", params={"on": "2025-05-01"}).json()
    assert within["status_on"]["status"] == "valid"
    assert after["status_on"] == {
        "date": "2025-05-01",
        "status": "expired",
        "reason": "valid only up to 2025-04-30",
    }


def test_an_unknown_registration_is_404(client: TestClient) -> None:
    assert client.get("/registrations/R-00000000").status_code == 404


@pytest.mark.parametrize("number", ["CM/L-4100062", "CM/L-0004100062", "4100062", "0004100062"])
def test_a_licence_in_either_number_form(client: TestClient, number: str) -> None:
    body = client.get(f"/licences/{number}").json()
    assert body["licence_no"] == "CM/L-0004100062"
    assert body["licence_no_old_form"] == "CM/L-4100062"
    assert body["sample_data"] is True
    assert "IS 9873 (Part 1)" in body["standards"]


def test_licence_numbers_that_are_not_one(client: TestClient) -> None:
    assert client.get("/licences/R-41087785").status_code == 400
    assert client.get("/licences/CM/L-7600000000").status_code == 404
    assert canonical_licence_no("CM/L-12345") is None


def test_the_sample_licences_cover_every_status_the_verifier_handles(client: TestClient) -> None:
    statuses = {licence.status.value for licence in load_licences().values()}
    assert statuses == {"valid", "suspended", "cancelled", "expired"}
    assert client.get("/readyz").json()["licences"] == len(load_licences())
