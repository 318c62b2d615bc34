"""The matching behind BIS-CRS-3, property-based on real register rows: formatting noise
never changes a verdict, and a different model always fails."""

from __future__ import annotations

import random
import string

import pytest
from bis_cases import Cases
from bis_verifier.adapters.registry_http import registration_from_data
from bis_verifier.domain.matching import (
    canonical_licence_no,
    canonical_registration_no,
    company_core,
    location_matches,
    manufacturer_matches,
    model_key,
    normal_form,
    standards_in,
)
from bis_verifier.domain.registry import Registration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit


def _usable() -> list[Registration]:
    """Real registrations with a manufacturer the registry could cut from the address."""
    rows = [
        registration_from_data(row.to_data())
        for row in Cases.register().values()
        if row.manufacturer and len(row.factory_address) >= 20 and row.models
    ]
    return sorted(rows, key=lambda r: r.number)


REGISTRATIONS = _usable()
PUNCTUATION = " .,-()&/'"


def retyped(text: str, seed: int) -> str:
    """`text` as someone else might type it: case changed, spaces and punctuation moved
    between its letters and digits (the register itself stripped all its spaces)."""
    rng = random.Random(seed)
    out = []
    for char in text:
        if char.isalnum():
            out.append(char.lower() if rng.random() < 0.5 else char.upper())
        if rng.random() < 0.25:
            out.append(rng.choice(PUNCTUATION))
    return "".join(out)


@st.composite
def noisy(draw: st.DrawFn, text: str) -> str:
    return retyped(text, draw(st.integers(0, 2**32)))


registrations = st.sampled_from(REGISTRATIONS)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_there_are_real_rows_to_draw_from() -> None:
    assert len(REGISTRATIONS) > 7000


@SETTINGS
@given(registration=registrations, data=st.data())
def test_noise_never_changes_the_manufacturer_verdict(
    registration: Registration, data: st.DataObject
) -> None:
    assert registration.manufacturer is not None
    declared = data.draw(noisy(registration.manufacturer))
    assert manufacturer_matches(
        declared, registration.manufacturer, registration.name_and_factory_address
    )
    other = data.draw(registrations)
    expected = company_core(other.manufacturer or "") == company_core(registration.manufacturer)
    stranger = data.draw(noisy(other.manufacturer or ""))
    assert (
        manufacturer_matches(stranger, registration.manufacturer, registration.manufacturer)
        == expected
    )


@SETTINGS
@given(registration=registrations, data=st.data())
def test_noise_never_changes_the_factory_verdict(
    registration: Registration, data: st.DataObject
) -> None:
    factory = registration.factory_address
    assert location_matches(data.draw(noisy(factory)), factory)
    other = data.draw(registrations).factory_address
    verdict = location_matches(other, factory)
    assert location_matches(data.draw(noisy(other)), factory) == verdict


@pytest.mark.parametrize(
    "declared",
    [
        "Zhejiang Dahua Zhilian Co., Ltd.",
        "ZHEJIANG DAHUA ZHILIAN CO LTD",
        "Zhejiang Dahua Zhilian Company Limited",
        "zhejiang dahua zhilian",
        "Zhejiang Dahua Zhilian Co.,Ltd",
    ],
)
def test_legal_forms_are_not_part_of_the_name(declared: str) -> None:
    dahua = Cases.register()["R-41087785"]
    assert manufacturer_matches(declared, dahua.manufacturer, dahua.name_and_factory_address)


@pytest.mark.parametrize(
    "declared",
    ["Zhejiang Dahua Co., Ltd.", "Zhejiang Dahua Technology Co., Ltd.", "Dahua", "Co., Ltd."],
)
def test_another_or_a_shorter_name_is_another_manufacturer(declared: str) -> None:
    dahua = Cases.register()["R-41087785"]
    assert not manufacturer_matches(declared, dahua.manufacturer, dahua.name_and_factory_address)


def test_a_registered_name_longer_than_the_field_may_be_declared_cut_to_50() -> None:
    registered = "GUANGDONGOPPOMOBILETELECOMMUNICATIONSCORPORATIONCO.,LTD."
    declared = "Guangdong Oppo Mobile Telecommunications Corporati"
    assert len(declared) == 50
    assert manufacturer_matches(declared, registered, registered)
    assert not manufacturer_matches(declared[:30], registered, registered)


def test_without_a_separate_name_the_register_text_must_continue_with_an_address() -> None:
    text = "YANGMINGINDUSTRIAL1#,2#ROOMNO.10BAOANMALIUVILLAGE"
    assert manufacturer_matches("Yang Ming Industrial", None, text)
    assert not manufacturer_matches("Yang Ming", None, text)


@SETTINGS
@given(registration=registrations, data=st.data())
def test_a_registered_model_matches_up_to_case_and_spaces(
    registration: Registration, data: st.DataObject
) -> None:
    model = data.draw(st.sampled_from(sorted(m.model for m in registration.models.values())))
    spaced = "".join(
        (c.lower() if data.draw(st.booleans()) else c.upper())
        + (" " if data.draw(st.integers(0, 5)) == 0 else "")
        for c in model
    )
    assert registration.model(spaced) is registration.models[model_key(model)]


MODEL_CHARS = string.ascii_uppercase + string.digits + "-/._+"


@SETTINGS
@given(registration=registrations, data=st.data())
def test_a_different_model_always_fails(registration: Registration, data: st.DataObject) -> None:
    """BIS-CRS-3: a model one character off a registered one, or any model the
    registration does not list, is never accepted; and the whole verdict fails."""
    model = data.draw(st.sampled_from(sorted(m.model for m in registration.models.values())))
    position = data.draw(st.integers(0, len(model)))
    change = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    char = data.draw(st.sampled_from(MODEL_CHARS))
    if change == "replace" and position < len(model):
        mutated = model[:position] + char + model[position + 1 :]
    elif change == "delete" and position < len(model):
        mutated = model[:position] + model[position + 1 :]
    else:
        mutated = model[:position] + char + model[position:]
    if model_key(mutated) in registration.models or not model_key(mutated):
        return  # the mutation landed on another registered model (or on nothing)
    assert registration.model(mutated) is None
    invented = data.draw(st.text(MODEL_CHARS, min_size=1, max_size=20))
    if model_key(invented) not in registration.models:
        assert registration.model(invented) is None


async def test_a_different_model_fails_the_whole_verdict_on_real_rows() -> None:
    """The same, through the rules: the Dahua BE with each of 200 mutated models."""
    from bis_verifier.domain.verification import lookups_needed, verify
    from clearance_domain import BillOfEntry
    from clearance_runtime.clock import ControllableClock

    rng = random.Random(10)
    dahua = registration_from_data(Cases.register()["R-41087785"].to_data())
    clock = ControllableClock()
    for _ in range(200):
        model = rng.choice(sorted(m.model for m in dahua.models.values()))
        position = rng.randrange(len(model))
        mutated = model[:position] + rng.choice(MODEL_CHARS) + model[position + 1 :]
        if model_key(mutated) in dahua.models:
            continue
        be = BillOfEntry.from_data(Cases.with_items(Cases.filing(), model=mutated))
        catalogue, policy = Cases.catalogue_on(be.be_date)
        answers = await Cases.answers_for(sorted(lookups_needed(be, catalogue)), clock)
        verdict = verify(be, catalogue, answers, policy)
        assert verdict.verdict == "failed", mutated
        assert {reason.rule_id for reason in verdict.findings} == {"BIS-CRS-3"}


@SETTINGS
@given(data=st.data())
def test_noise_never_changes_the_be_verdict(data: st.DataObject) -> None:
    """The Dahua BE, manufacturer and factory retyped, models re-cased: still passed."""
    import asyncio

    from bis_verifier.domain.verification import lookups_needed, verify
    from clearance_domain import BillOfEntry
    from clearance_runtime.clock import ControllableClock

    be_data = Cases.filing()
    for item in be_data["invoices"][0]["items"]:
        item["manufacturer"] = data.draw(noisy(item["manufacturer"]))[:50]
        item["manufacturing_location"] = data.draw(noisy(item["manufacturing_location"]))[:200]
        item["model"] = item["model"].lower() if data.draw(st.booleans()) else item["model"]
    be = BillOfEntry.from_data(be_data)
    catalogue, policy = Cases.catalogue_on(be.be_date)
    lookups = sorted(lookups_needed(be, catalogue))
    answers = asyncio.run(Cases.answers_for(lookups, ControllableClock()))
    assert verify(be, catalogue, answers, policy).verdict == "passed"


def test_the_normal_form_keeps_letters_and_digits_only() -> None:
    assert normal_form("No. 28, Dongqiao Rd.") == "NO28DONGQIAORD"
    assert company_core("SHENZHEN XYZ (P) Co., Ltd.") == "SHENZHENXYZP"
    assert model_key("dh-ipc hdbw1431ep") == "DH-IPCHDBW1431EP"
    assert model_key("DH\u2013IPC") == "DH-IPC"


def test_a_bare_city_is_not_a_factory() -> None:
    factory = Cases.register()["R-41087785"].factory_address
    assert not location_matches("Hangzhou, China", factory)
    declared = (
        "No. 28, Dongqiao Road, Dongzhou Street, Fuyang District, Hangzhou, Zhejiang 310000, China"
    )
    assert location_matches(declared, factory)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("R-41087785", "R-41087785"),
        ("r 41087785", "R-41087785"),
        ("R41087785", "R-41087785"),
        ("R-4108778", "R-4108778"),
        ("41087785", None),
        ("R-41087785X", None),
    ],
)
def test_registration_numbers(text: str, canonical: str | None) -> None:
    assert canonical_registration_no(text) == canonical


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("CM/L-4100062", "CM/L-0004100062"),
        ("CM/L-0004100062", "CM/L-0004100062"),
        ("CML 4100062", "CM/L-0004100062"),
        ("7600012345", "CM/L-7600012345"),
        ("CM/L-41000", None),
    ],
)
def test_licence_numbers_in_both_forms(text: str, canonical: str | None) -> None:
    assert canonical_licence_no(text) == canonical


def test_standards_as_documents_write_them() -> None:
    found = standards_in(["IS13252(Part1):2010/IEC60950-1:2005&IS16333(Part3):2017"])
    assert [str(s) for s in found] == ["IS 13252 (Part 1):2010", "IS 16333 (Part 3):2017"]
    assert [str(s) for s in standards_in(["IS 302-2-25:2014", "IS/IEC 61730 (Part 2)"])] == [
        "IS 302-2-25:2014",
        "IS 61730 (Part 2)",
    ]
