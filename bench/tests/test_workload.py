"""The national day's mix: deterministic, realistic shares, valid to the schema and the rules."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import bis_verifier
import orjson
import pytest
from be_intake.domain.filing import rejection_reasons
from bis_verifier.adapters.registry_http import licence_from_data, registration_from_data
from bis_verifier.domain.registry import Answer, Found, Lookup, LookupKind, NotFound
from bis_verifier.service_layer.handlers import COVERAGE, Verifier
from clearance_bench.catalogue import REGISTER_SNAPSHOT_DATE, shared_register_path
from clearance_bench.numbering import reserve_be_numbers
from clearance_bench.seal_sales import seal_sales
from clearance_bench.workload import (
    CRO_ELECTRONICS,
    QCO_TOYS,
    Filing,
    MixParameters,
    generate,
    item_count_weights,
)
from clearance_bis_registry.licences import load_licences
from clearance_bis_registry.register import load_register
from clearance_contracts import BILL_OF_ENTRY_FILED, event_key, validate_event
from clearance_domain import BillOfEntry
from clearance_runtime.clock import ControllableClock
from clearance_runtime.policies import in_memory
from warehouse_seal.domain.seals import seal_number

pytestmark = pytest.mark.unit
MIX = MixParameters()


@pytest.fixture(scope="module")
def day() -> list[Filing]:
    return generate(5000, seed=2021, first_be_no=1_000_000)


def share(filings: list[Filing], predicate: object) -> float:
    assert callable(predicate)
    return sum(1 for f in filings if predicate(f)) / len(filings)


def test_same_seed_same_day_and_numbers_only_shift_identity() -> None:
    first = generate(300, seed=7, first_be_no=100)
    again = generate(300, seed=7, first_be_no=100)
    shifted = generate(300, seed=7, first_be_no=5000)
    other = generate(300, seed=8, first_be_no=100)
    assert [f.bill_of_entry for f in first] == [f.bill_of_entry for f in again]
    assert [f.bill_of_entry for f in first] != [f.bill_of_entry for f in other]
    for a, b in zip(first, shifted, strict=True):
        # The BE number, the filer's job number (its digits) and the RFID seals (used once,
        # so their numbers follow the BE number, SEAL-FMT-1) are the identity.
        identity = {"be_no": None, "user_job_no": None, "containers": None}
        assert {**a.bill_of_entry, **identity} == {**b.bill_of_entry, **identity}
        assert [c["container_no"] for c in a.bill_of_entry.get("containers") or ()] == [
            c["container_no"] for c in b.bill_of_entry.get("containers") or ()
        ]
    assert shifted[0].bill_of_entry["be_no"] == "0005000"


def test_be_numbers_are_seven_digits_unique_and_wrap(day: list[Filing]) -> None:
    assert len({f.key for f in day}) == len(day)
    assert all(len(f.bill_of_entry["be_no"]) == 7 for f in day)
    wrapped = generate(3, seed=1, first_be_no=9_999_999)
    assert [f.bill_of_entry["be_no"] for f in wrapped] == ["9999999", "0000000", "0000001"]
    assert all(f.bill_of_entry["be_date"] == REGISTER_SNAPSHOT_DATE.isoformat() for f in day)


def test_mix_shares_within_tolerance(day: list[Filing]) -> None:
    tiers = Counter(f.bill_of_entry["aeo_tier"] for f in day)
    assert 1 - tiers[None] / len(day) == pytest.approx(MIX.aeo_share, abs=0.02)
    assert tiers["T1"] / len(day) == pytest.approx(MIX.aeo_t1_share, abs=0.015)
    assert tiers["T2"] / len(day) == pytest.approx(MIX.aeo_t2_share, abs=0.015)
    assert tiers["T3"] / len(day) == pytest.approx(MIX.aeo_t3_share, abs=0.01)
    warehousing = share(day, lambda f: f.bill_of_entry["be_type"] == "W")
    assert warehousing == pytest.approx(MIX.warehousing_share, abs=0.02)
    assert share(day, lambda f: f.profile == CRO_ELECTRONICS) == pytest.approx(
        MIX.cro_electronics_share, abs=0.015
    )
    assert share(day, lambda f: f.profile == QCO_TOYS) == pytest.approx(
        MIX.qco_toys_share, abs=0.008
    )
    assert share(day, lambda f: not f.valid) == pytest.approx(MIX.invalid_share, abs=0.005)
    assert {f.invalid_rule for f in day if not f.valid} == {"INTAKE-IEC-1", "INTAKE-BE-2"}


def test_items_between_1_and_20_with_mean_near_5(day: list[Filing]) -> None:
    counts = [f.item_count for f in day]
    assert min(counts) == 1
    assert max(counts) <= 20
    assert max(counts) >= 15
    assert statistics.mean(counts) == pytest.approx(5.0, abs=0.3)
    assert sum(k * w for k, w in enumerate(item_count_weights(5.0, 20), 1)) == pytest.approx(5.0)


def test_every_filing_matches_the_schema_and_valid_ones_pass_intake(day: list[Filing]) -> None:
    for filing in day:
        validate_event(BILL_OF_ENTRY_FILED, filing.bill_of_entry)
        reasons = rejection_reasons(BillOfEntry.from_data(filing.bill_of_entry))
        if filing.valid:
            assert reasons == [], filing.key
        else:
            assert [r.rule_id for r in reasons] == [filing.invalid_rule], filing.key


def _verdicts(filings: list[Filing]) -> Counter[str]:
    """The verdicts bis-verifier gives these filings, against the BIS registry server's
    own reading of the register and licences (the registry's JSON, without the network)."""
    policy = json.loads(
        (
            Path(bis_verifier.__file__).parent / "policies" / "bis-coverage-catalogue.v1.json"
        ).read_text()
    )
    verifier = Verifier(in_memory([COVERAGE], [policy]))
    register, licences = _registry()
    clock = ControllableClock()
    verdicts: Counter[str] = Counter()
    for filing in filings:
        plan = verifier.plan(filing.bill_of_entry)
        answers: dict[Lookup, Answer] = {}
        for lookup in plan.lookups:
            row = (register if lookup.kind is LookupKind.REGISTRATION else licences).get(
                lookup.number
            )
            answers[lookup] = (
                NotFound(clock.now())
                if row is None
                else Found(
                    registration_from_data(row.to_data())
                    if lookup.kind is LookupKind.REGISTRATION
                    else licence_from_data(row.to_data()),
                    clock.now(),
                )
            )
        verdicts[verifier.verify(plan, answers).verdict] += 1
    return verdicts


@cache
def _registry() -> tuple[dict[str, Any], dict[str, Any]]:
    return load_register(shared_register_path()), load_licences()


def test_cro_electronics_declare_real_registrations(day: list[Filing]) -> None:
    cro = [f for f in day if f.profile == CRO_ELECTRONICS and f.valid]
    verdicts = _verdicts(cro)
    assert verdicts["passed"] > 0.9 * len(cro), verdicts
    assert verdicts["failed"] > 0  # the share declaring expired/cancelled registrations
    text = shared_register_path().read_text(encoding="utf-8")
    for filing in cro[:50]:
        be = filing.bill_of_entry
        documents = [
            d for d in be["supporting_documents"] if d["document_type"] == "bis_registration"
        ]
        assert len(documents) == filing.item_count
        for item in (i for invoice in be["invoices"] for i in invoice["items"]):
            assert item["manufacturer"] in text
            assert item["model"] in text
            assert item["brand"] in text


def test_toys_carry_cml_licence_and_certificates(day: list[Filing]) -> None:
    toys = [f for f in day if f.profile == QCO_TOYS]
    assert toys
    for filing in toys:
        be = filing.bill_of_entry
        assert all(i["cth"] == "95030020" for inv in be["invoices"] for i in inv["items"])
        assert all(i["isi_mark"] for inv in be["invoices"] for i in inv["items"])
        kinds = Counter(d["document_type"] for d in be["supporting_documents"])
        assert kinds["bis_cml_licence"] == len(be["invoices"])
        assert kinds["conformity_certificate"] in (len(be["invoices"]), 2 * len(be["invoices"]))
    verdicts = _verdicts([f for f in toys if f.valid])
    # BIS-QCO-3: licensed toys with two certificates clear conditionally; one consolidated
    # certificate (BIS-QCO-2) fails.
    assert set(verdicts) == {"conditional", "failed"}, verdicts
    assert verdicts["conditional"] > 0.8 * sum(verdicts.values())


def test_valid_warehousing_bes_carry_rfid_seals_sold_to_their_warehouse(day: list[Filing]) -> None:
    """SEAL-FMT-1 (one seal per container, used once), SEAL-LINK-1 (the vendors' sales,
    loaded before the clock, link each seal to the BE's warehouse)."""
    warehousing = [f for f in day if f.bill_of_entry["be_type"] == "W" and f.valid]
    assert warehousing
    sales = {(sale := orjson.loads(message.value))["seal_no"]: sale for message in seal_sales(day)}
    seen: set[str] = set()
    for filing in warehousing:
        be = BillOfEntry.from_data(filing.bill_of_entry)
        assert be.warehouse_code
        for container in be.containers or ():
            assert seal_number(container.seal_no) == container.seal_no
            assert container.seal_no not in seen
            seen.add(container.seal_no)
            assert sales[container.seal_no]["warehouse_code"] == be.warehouse_code


def test_the_other_parties_facts_keep_the_mix(day: list[Filing]) -> None:
    """Every AEO importer has a certificate of the tier it claims; every BE an arrival;
    every paid or deferred BE its payment or OTP (be-intake takes these, not the claims)."""
    from clearance_bench import facts

    certificates = {data["iec"]: data["tier"] for _, _, data in facts.certificates(day)}
    claimed = {f.bill_of_entry["iec"]: f.bill_of_entry["aeo_tier"] for f in day if f.valid}
    assert {iec: tier for iec, tier in claimed.items() if tier} == {
        iec: tier for iec, tier in certificates.items() if iec in claimed
    }
    assert len(facts.arrivals(day)) == len(day)
    for filing in day:
        duty = filing.bill_of_entry["duty"]
        paid = duty["paid"] or duty["deferred_payment_otp_authenticated"]
        assert (facts.payment(filing) is not None) == (paid and duty["total_duty"] > 0)
    for event_type, key, data in [
        *facts.certificates(day)[:50],
        *facts.arrivals(day)[:50],
        *[p for f in day[:200] if (p := facts.payment(f))],
    ]:
        validate_event(event_type, data)
        assert event_key(event_type, data) == key


def test_be_numbers_are_reserved_in_fresh_ranges(tmp_path: Path) -> None:
    state = tmp_path / "numbers.json"
    first = reserve_be_numbers(state, date(2021, 2, 1), 300)
    second = reserve_be_numbers(state, date(2021, 2, 1), 10_000)
    assert second == (first + 300) % 10**7
    assert reserve_be_numbers(state, date(2021, 2, 1), 1) == (second + 10_000) % 10**7
