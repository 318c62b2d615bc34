"""Every BIS rule, on real rows of the BIS-CRS register (and the sample CM/L licences).

BE dates fall where the real registrations were valid: the register is a 2021
scrape, so today every registration in it has expired.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from bis_cases import POLICY_FILE, Cases
from bis_verifier.domain.verification import Verdict, lookups_needed, verify
from bis_verifier.service_layer.handlers import COVERAGE, Verifier
from clearance_domain import BillOfEntry, PolicyRef
from clearance_runtime.clock import ControllableClock
from clearance_runtime.policies import in_memory

pytestmark = pytest.mark.unit

Decide = Callable[[dict[str, Any]], Awaitable[Verdict]]
CATALOGUE_V1 = PolicyRef("bis-coverage-catalogue", 1)


@pytest.fixture
def decide(cases: type[Cases], clock: ControllableClock) -> Decide:
    async def run(be_data: dict[str, Any]) -> Verdict:
        be = BillOfEntry.from_data(be_data)
        catalogue, policy = cases.catalogue_on(be.be_date)
        answers = await cases.answers_for(sorted(lookups_needed(be, catalogue)), clock)
        return verify(be, catalogue, answers, policy)

    return run


def rules(verdict: Verdict) -> list[str]:
    return [reason.rule_id for reason in verdict.findings]


def messages(verdict: Verdict) -> str:
    return " | ".join(reason.message for reason in verdict.findings)


# -- BIS-CRS-1..4: the Compulsory Registration Order ---------------------------------------


async def test_a_valid_cctv_consignment_passes(decide: Decide, clock: ControllableClock) -> None:
    """BIS-CRS-1..3: R-41087785 (Dahua) is Operative to 30-Apr-2025; five models in scope,
    manufacturer and factory as registered (the register stripped their spaces)."""
    verdict = await decide(Cases.filing())
    assert verdict.verdict == "passed"
    assert verdict.findings == ()
    assert verdict.catalogue == CATALOGUE_V1
    assert verdict.registry_snapshot_at == clock.now()
    assert [item.outcome.value for item in verdict.items] == ["passed"] * 5
    item = verdict.items[0]
    assert item.registration_no == "R-41087785"
    assert item.rule_ids == ["BIS-CRS-3"]
    assert item.coverage is not None
    assert (item.coverage.category, item.coverage.mapping) == ("CCTV cameras", "sourced")
    assert item.reasons[0].policy == CATALOGUE_V1
    assert item.reasons[0].source_document is not None


async def test_a_deferred_registration_never_clears(decide: Decide) -> None:
    """BIS-CRS-2: R-41083356 (QFX adaptor) is Deferred, though within its dates."""
    verdict = await decide(Cases.registration_filing("R-41083356", "2019-06-10", "85044090"))
    assert verdict.verdict == "failed"
    assert rules(verdict) == ["BIS-CRS-2"]
    assert "deferred" in messages(verdict)


async def test_a_cancelled_registration_never_clears(decide: Decide) -> None:
    """BIS-CRS-2: R-41106372 (Hanwha CCTV), `Cancelled w.e.f. 09 July 2020`."""
    verdict = await decide(Cases.registration_filing("R-41106372", "2020-08-03", "85258090"))
    assert rules(verdict) == ["BIS-CRS-2"]
    assert "Cancelledw.e.f.09July2020" in messages(verdict)


async def test_an_expired_registration_is_not_valid(decide: Decide) -> None:
    """BIS-CRS-1: R-41074470 (mobile phones) is `Expired` in the register."""
    verdict = await decide(Cases.registration_filing("R-41074470", "2019-06-03", "85171300"))
    assert rules(verdict) == ["BIS-CRS-1"]
    assert "expired" in messages(verdict)


async def test_an_operative_registration_past_valid_upto_is_not_valid(decide: Decide) -> None:
    """BIS-CRS-1: R-41115142 (Ambicam CCTV) is Operative in the register, valid to 10-Jan-2021."""
    verdict = await decide(Cases.registration_filing("R-41115142", "2021-02-01", "85258090"))
    assert rules(verdict) == ["BIS-CRS-1"]
    assert "valid only up to 2021-01-10" in messages(verdict)


async def test_a_registration_not_yet_granted_is_not_valid(decide: Decide) -> None:
    be = Cases.registration_filing("R-41115142", "2019-06-03", "85258090")
    be["be_date"] = "2018-12-03"  # granted 11-Jan-2019
    verdict = await decide(be)
    assert rules(verdict) == ["BIS-CRS-1"]
    assert "not granted" in messages(verdict)


@pytest.mark.parametrize(
    ("number", "message"),
    [("R-00000000", "is not in the BIS register"), ("41087785X", "is not a BIS-CRS registration")],
)
async def test_an_unknown_or_malformed_registration_fails(
    decide: Decide, number: str, message: str
) -> None:
    verdict = await decide(Cases.with_documents(Cases.filing(), "bis_registration", number))
    assert set(rules(verdict)) == {"BIS-CRS-1"}
    assert message in messages(verdict)


async def test_a_covered_item_without_a_registration_fails(decide: Decide) -> None:
    """BIS-CRS-1, BIS-CRS-4: the catalogue says CCTV cameras are covered; none is declared."""
    verdict = await decide(Cases.with_documents(Cases.filing(), "bis_registration", None))
    assert verdict.verdict == "failed"
    assert rules(verdict) == ["BIS-CRS-1"] * 5
    assert "declares no BIS registration" in messages(verdict)


async def test_a_registration_for_other_goods_fails(decide: Decide) -> None:
    """BIS-CRS-1: R-41048615 registers LED luminaires (IS 10322), not CCTV cameras."""
    be = Cases.registration_filing("R-41048615", "2020-06-01", "94051090")
    be["invoices"][0]["items"][0]["cth"] = "85258090"
    verdict = await decide(be)
    assert rules(verdict) == ["BIS-CRS-1"]
    assert "need IS 13252 (Part 1)" in messages(verdict)


async def test_a_model_outside_the_registration_fails(decide: Decide) -> None:
    """BIS-CRS-3: a model the registration does not list (one character off)."""
    verdict = await decide(Cases.with_items(Cases.filing(), model="DH-IPC-HDBW1431EQ"))
    assert rules(verdict) == ["BIS-CRS-3"] * 5
    assert "is not in the scope of registration R-41087785" in messages(verdict)


async def test_a_model_included_after_the_be_date_fails(decide: Decide) -> None:
    """BIS-CRS-3: Dahua's A16-018N1AS4 joined the scope on 06-Dec-2019."""
    be = Cases.with_items(Cases.filing(be_date="2019-06-03"), model="A16-018N1AS4")
    verdict = await decide(be)
    assert rules(verdict) == ["BIS-CRS-3"] * 5
    assert "was included in the scope only on 2019-12-06" in messages(verdict)
    later = await decide(Cases.with_items(Cases.filing(be_date="2020-01-06"), model="A16-018N1AS4"))
    assert later.verdict == "passed"


async def test_a_model_deleted_from_scope_before_the_be_date_fails(decide: Decide) -> None:
    """BIS-CRS-3: R-41001619 (Lenovo notebooks) deleted LenovoG40-80m from scope on 01-Sep-2017."""
    before = await decide(
        Cases.registration_filing("R-41001619", "2017-08-01", "84713010", model="LenovoG40-80m")
    )
    assert before.verdict == "passed"
    after = await decide(
        Cases.registration_filing("R-41001619", "2017-09-04", "84713010", model="LenovoG40-80m")
    )
    assert rules(after) == ["BIS-CRS-3"]
    assert "was deleted from the scope on 2017-09-01" in messages(after)


async def test_a_model_under_stop_sale_fails_and_the_others_clear(decide: Decide) -> None:
    """BIS-CRS-3: R-41007480 `Stop Sale and Supply Model no. Wolkem 600 universal w.e.f.
    09 Dec 2019`: that model fails from then; the registration's other models still clear."""
    stopped = await decide(
        Cases.registration_filing(
            "R-41007480", "2019-12-16", "84433290", model="Wolkem600universal"
        )
    )
    assert rules(stopped) == ["BIS-CRS-3"]
    assert "stop sale and supply from 2019-12-09" in messages(stopped)
    other = await decide(
        Cases.registration_filing("R-41007480", "2019-12-16", "84433290", model="UNICORN")
    )
    assert other.verdict == "passed"


async def test_a_manufacturer_mismatch_fails(decide: Decide) -> None:
    be = Cases.with_items(Cases.filing(), manufacturer="HANGZHOU HIKVISION DIGITAL TECH CO")
    verdict = await decide(be)
    assert rules(verdict) == ["BIS-CRS-3"] * 5
    assert "is not the registered 'ZHEJIANGDAHUAZHILIANCO.,LTD.'" in messages(verdict)


async def test_a_factory_mismatch_fails(decide: Decide) -> None:
    """BIS-CRS-3: Dahua's registered factory is in Fuyang District, not Binjiang."""
    other_factory = "No. 1199 Bin'an Road, Binjiang District, Hangzhou, Zhejiang 310053, China"
    verdict = await decide(Cases.with_items(Cases.filing(), manufacturing_location=other_factory))
    assert rules(verdict) == ["BIS-CRS-3"] * 5
    assert "is not the registered factory of R-41087785" in messages(verdict)


async def test_undeclared_manufacturer_model_and_location_fail(decide: Decide) -> None:
    be = Cases.filing()
    for item in be["invoices"][0]["items"]:
        for field in ("manufacturer", "model", "manufacturing_location"):
            del item[field]
    verdict = await decide(be)
    assert rules(verdict) == ["BIS-CRS-3"] * 15


async def test_items_of_other_goods_are_not_checked(decide: Decide) -> None:
    be = Cases.with_items(Cases.filing(), cth="29051100", description="METHANOL IN BULK")
    be = Cases.with_documents(be, "bis_registration", None)
    verdict = await decide(be)
    assert verdict.verdict == "not_applicable"
    assert {item.outcome.value for item in verdict.items} == {"not_covered"}
    assert verdict.registry_snapshot_at is None


async def test_coverage_follows_the_dates_in_force(decide: Decide) -> None:
    """BIS-CRS-4: CCTV cameras are covered from 23-05-2018 (S.O. of the CRO schedule)."""
    early = Cases.with_documents(Cases.filing(be_date="2018-05-22"), "bis_registration", None)
    assert (await decide(early)).verdict == "not_applicable"
    covered = Cases.with_documents(Cases.filing(be_date="2018-05-23"), "bis_registration", None)
    assert (await decide(covered)).verdict == "failed"


async def test_a_heading_wider_than_its_category_needs_the_category_in_the_description(
    decide: Decide,
) -> None:
    """9405 holds every kind of lamp; the CRO covers LED lamps and luminaires."""
    lamps = Cases.with_documents(Cases.filing(), "bis_registration", None)
    brass = Cases.with_items(lamps, cth="94052000", description="BRASS TABLE LAMP")
    assert (await decide(brass)).verdict == "not_applicable"
    led = Cases.with_items(lamps, cth="94051090", description="LED PANEL LIGHT 36W")
    verdict = await decide(led)
    assert verdict.verdict == "failed"
    assert verdict.items[0].coverage is not None
    assert verdict.items[0].coverage.category == "LED lamps and luminaires"


async def test_one_bad_item_fails_the_be_and_the_others_keep_their_results(
    decide: Decide,
) -> None:
    be = Cases.filing()
    be["invoices"][0]["items"][1]["model"] = "NOT-A-DAHUA-MODEL"
    verdict = await decide(be)
    assert verdict.verdict == "failed"
    assert [item.outcome.value for item in verdict.items] == [
        "passed",
        "failed",
        "passed",
        "passed",
        "passed",
    ]
    assert [reason.item_sl_no for reason in verdict.findings] == [2]


def test_the_catalogue_version_in_force_on_the_be_date_decides() -> None:
    """A later version an administrator added (here: CCTV coverage withdrawn from 2025) is
    used for BEs dated from its start, and named in the verdict; older BEs keep version 1."""
    first = json.loads(POLICY_FILE.read_text())
    second = json.loads(POLICY_FILE.read_text())
    second.update(version=2, effective_from="2025-01-01")
    lines = second["body"]["tariff_lines"]
    second["body"]["tariff_lines"] = [line for line in lines if line["cth"] != "85258090"]
    verifier = Verifier(in_memory([COVERAGE], [first, second]))
    old = verifier.plan(Cases.filing(be_date="2024-12-31"))
    new = verifier.plan(Cases.filing())
    assert old.policy == PolicyRef("bis-coverage-catalogue", 1)
    assert len(old.lookups) == 1
    assert new.policy == PolicyRef("bis-coverage-catalogue", 2)
    assert new.lookups == frozenset()
    assert verify(new.be, new.catalogue, {}, new.policy).verdict == "not_applicable"


def test_before_any_catalogue_version_nothing_is_covered() -> None:
    plan = Verifier(Cases.policies()).plan(Cases.filing(be_date="2012-01-02"))
    assert plan.policy is None
    assert verify(plan.be, plan.catalogue, {}, None).verdict == "not_applicable"


def test_the_catalogue_marks_each_mapping_sourced_or_assumed() -> None:
    catalogue, _ = Cases.catalogue_on(date(2025, 3, 20))
    mappings = {line.cth: line.mapping for line in catalogue.lines}
    assert mappings["85258090"] == mappings["85219090"] == mappings["95030020"] == "sourced"
    assert mappings["851713"] == mappings["847130"] == mappings["850440"] == "assumed"
    orders = {line.order.scheme.value for line in catalogue.lines}
    assert orders == {"CRO", "QCO"}


# -- BIS-QCO-1..3: toys ---------------------------------------------------------------------


async def test_toys_with_two_certificates_clear_only_conditionally(decide: Decide) -> None:
    """BIS-QCO-1, -2, -3: licence valid for the product and factory, ISI mark, two separate
    certificates: samples drawn, sale restricted until the laboratory result."""
    verdict = await decide(Cases.toys_filing())
    assert verdict.verdict == "conditional"
    assert verdict.sampling is not None
    assert verdict.sampling.items == (1, 2)
    assert verdict.sampling.reason.rule_id == "BIS-QCO-3"
    assert rules(verdict) == ["BIS-QCO-3"]
    item = verdict.items[0]
    assert item.outcome.value == "conditional"
    assert item.licence_no == "CM/L-0004100062"
    assert item.rule_ids == ["BIS-QCO-1", "BIS-QCO-2", "BIS-QCO-3"]


async def test_the_old_and_the_ten_digit_licence_number_are_one_licence(decide: Decide) -> None:
    verdict = await decide(Cases.toys_filing(licence="CM/L-0004100062"))
    assert verdict.verdict == "conditional"


async def test_toys_with_one_consolidated_certificate_are_held(decide: Decide) -> None:
    """BIS-QCO-2: the commonest error: one certificate for both."""
    verdict = await decide(Cases.toys_filing([[*Cases.TOY_PARTS, "IS 15644:2006"]]))
    assert verdict.verdict == "failed"
    assert rules(verdict) == ["BIS-QCO-2", "BIS-QCO-2"]
    assert "a single consolidated certificate (TC-2101-1)" in messages(verdict)
    assert verdict.sampling is None


async def test_toys_whose_second_certificate_omits_is_15644_are_held(decide: Decide) -> None:
    verdict = await decide(Cases.toys_filing([Cases.TOY_PARTS, ["IS 9873 (Part 1)"]]))
    assert rules(verdict) == ["BIS-QCO-2", "BIS-QCO-2"]
    assert "no certificate against IS 9873 with IS 15644:2006" in messages(verdict)


async def test_toys_without_certificates_are_held(decide: Decide) -> None:
    verdict = await decide(Cases.toys_filing([]))
    assert rules(verdict) == ["BIS-QCO-2", "BIS-QCO-2"]
    assert "no conformity certificate declared" in messages(verdict)


@pytest.mark.parametrize(
    ("licence", "be_date", "message"),
    [
        ("CM/L-7600031177", "2021-08-02", "is suspended"),
        ("CM/L-7600044610", "2021-04-01", "is cancelled"),
        ("CM/L-3900417", "2021-02-01", "is expired"),
        ("CM/L-7600000000", "2021-02-01", "is not in the BIS register"),
        ("CM/L-12345", "2021-02-01", "is not a CM/L licence number"),
    ],
)
async def test_a_licence_not_valid_on_the_be_date_fails(
    decide: Decide, licence: str, be_date: str, message: str
) -> None:
    """BIS-QCO-1 on the sample licences (SAMPLE DATA) in every status."""
    verdict = await decide(Cases.toys_filing(licence=licence, be_date=be_date))
    assert verdict.verdict == "failed"
    assert set(rules(verdict)) == {"BIS-QCO-1"}
    assert message in messages(verdict)


async def test_a_licence_for_other_products_fails(decide: Decide) -> None:
    """BIS-QCO-1: CM/L-7600058823 licenses electric trains (9503 00 10, IS 15644)."""
    verdict = await decide(Cases.toys_filing(licence="CM/L-7600058823"))
    assert set(rules(verdict)) == {"BIS-QCO-1"}
    assert "covers 95030010" in messages(verdict)
    assert "is against IS 15644:2006, not IS 9873" in messages(verdict)


async def test_a_licence_of_another_factory_fails(decide: Decide) -> None:
    elsewhere = "No. 301 Binkang Road, Binjiang District, Hangzhou, Zhejiang 310052, China"
    verdict = await decide(Cases.toys_filing(location=elsewhere))
    assert set(rules(verdict)) == {"BIS-QCO-1"}
    assert "is not the licensed factory of CM/L-0004100062" in messages(verdict)
    other_maker = await decide(Cases.toys_filing(manufacturer="Ningbo Sunset Toys Co., Ltd."))
    assert "is not the licensee" in messages(other_maker)


@pytest.mark.parametrize("isi_mark", [None, False])
async def test_toys_without_the_isi_mark_declared_fail(
    decide: Decide, isi_mark: bool | None
) -> None:
    verdict = await decide(Cases.toys_filing(isi_mark=isi_mark))
    assert rules(verdict) == ["BIS-QCO-1", "BIS-QCO-1"]
    assert "the ISI mark is not declared" in messages(verdict)


async def test_toys_without_a_licence_quoted_fail(decide: Decide) -> None:
    be = Cases.with_documents(Cases.toys_filing(), "bis_cml_licence", None)
    verdict = await decide(be)
    assert "quotes no CM/L licence" in messages(verdict)


async def test_a_failed_item_beside_a_conditional_one_fails_the_be(decide: Decide) -> None:
    be = Cases.toys_filing()
    be["invoices"][0]["items"][1]["isi_mark"] = False
    verdict = await decide(be)
    assert verdict.verdict == "failed"
    assert [item.outcome.value for item in verdict.items] == ["conditional", "failed"]
    assert verdict.sampling is None
