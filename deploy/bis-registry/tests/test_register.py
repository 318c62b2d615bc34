"""Reading the real BIS-CRS register: statuses, dates, inline model history, deletions."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from clearance_bis_registry.register import (
    Registration,
    RegistrationStatus,
    date_in_text,
    load_register,
    read_deleted_models,
    read_models,
    read_status,
    shared_register_path,
    split_manufacturer,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def register() -> dict[str, Registration]:
    return load_register(shared_register_path())


def test_every_row_is_read(register: dict[str, Registration]) -> None:
    # 9,011 rows; two registration numbers appear twice (the later grant is kept).
    assert len(register) == 9009


@pytest.mark.parametrize(
    ("text", "status", "since"),
    [
        ("Operative", RegistrationStatus.VALID, None),
        ("operative", RegistrationStatus.VALID, None),
        ("Expired", RegistrationStatus.EXPIRED, None),
        ("Deferred", RegistrationStatus.DEFERRED, None),
        ("Cancelled", RegistrationStatus.CANCELLED, None),
        ("Cancelledw.e.f.01Nov2017", RegistrationStatus.CANCELLED, date(2017, 11, 1)),
        ("Cancelledw.e.f09Jun2020", RegistrationStatus.CANCELLED, date(2020, 6, 9)),
        ("Cancelledw.e.f.09July2020", RegistrationStatus.CANCELLED, date(2020, 7, 9)),
        ("Cancelledw.e.f.01March2019", RegistrationStatus.CANCELLED, date(2019, 3, 1)),
        ("CANCELLEDw.e.f.12.03.2019", RegistrationStatus.CANCELLED, date(2019, 3, 12)),
        ("Cancelledw.e.f.12-03-2019", RegistrationStatus.CANCELLED, date(2019, 3, 12)),
        ("Canncelled", RegistrationStatus.CANCELLED, None),
        ("WITHDRAWNW.E.F.15.06.2016", RegistrationStatus.WITHDRAWN, date(2016, 6, 15)),
        (
            "Non-OperativeWitheffectfrom16-Feb-2016duetosurrenderingofRegistration",
            RegistrationStatus.WITHDRAWN,
            date(2016, 2, 16),
        ),
        ("Suspended", RegistrationStatus.UNKNOWN, None),
        ("", RegistrationStatus.UNKNOWN, None),
        ("Operative?", RegistrationStatus.UNKNOWN, None),
    ],
)
def test_free_text_status_maps_to_the_vocabulary(
    text: str, status: RegistrationStatus, since: date | None
) -> None:
    reading = read_status(text)
    assert reading.status is status
    assert reading.since == since


def test_every_real_status_is_read_and_the_odd_ones_are_named(
    register: dict[str, Registration],
) -> None:
    counts = Counter(r.status for r in register.values())
    assert counts[RegistrationStatus.UNKNOWN] == 0
    assert counts[RegistrationStatus.VALID] > 5700
    assert counts[RegistrationStatus.CANCELLED] == 741
    stop_sale = register["R-41007480"]
    assert stop_sale.status is RegistrationStatus.MODEL_STOP_SALE
    assert stop_sale.status_since == date(2019, 12, 9)


def test_a_stop_sale_model_and_a_model_deleted_from_scope(
    register: dict[str, Registration],
) -> None:
    """R-41007480: `Stop Sale and Supply Model no. Wolkem 600 universal w.e.f. 09 Dec 2019`,
    deleted from scope 21 Jan 2020; the other models stay in scope."""
    models = {m.model: m for m in register["R-41007480"].models}
    wolkem = models["Wolkem600universal"]
    assert wolkem.included_on == date(2014, 11, 3)
    assert wolkem.stop_sale_from == date(2019, 12, 9)
    assert (wolkem.removed, wolkem.removed_on) == (True, date(2020, 1, 21))
    assert wolkem.in_scope_on(date(2019, 1, 1))
    assert not wolkem.in_scope_on(date(2019, 12, 9))
    assert models["UNICORN"].in_scope_on(date(2020, 6, 1))


def test_inline_history_gives_each_model_its_inclusion_date(
    register: dict[str, Registration],
) -> None:
    """R-41087785 (Dahua): the first models at grant, later ones on dated notes."""
    models = {m.model: m for m in register["R-41087785"].models}
    assert models["DH-IPC-HDBW1431EP"].included_on is None
    assert models["DH-HAC-HFW1400SP"].included_on == date(2018, 5, 9)
    assert models["A16-018N1AS4"].included_on == date(2019, 12, 6)
    assert not models["A16-018N1AS4"].in_scope_on(date(2019, 12, 5))
    assert models["A16-018N1AS4"].in_scope_on(date(2019, 12, 6))
    assert "DH-HACHFW1200DP" in models  # `NewSeriesModels:` label dropped


def test_brackets_that_are_not_history_stay_in_the_model_name() -> None:
    models = read_models(
        "80XS(Lenovoideapad320-15ABRD),G40(H)(followingmodelsincludedon1Apr2018)Z5"
    )
    assert [(m.model, m.included_on) for m in models] == [
        ("80XS(Lenovoideapad320-15ABRD)", None),
        ("G40(H)", None),
        ("Z5", date(2018, 4, 1)),
    ]


def test_undated_inclusion_and_changeover_notes_give_no_date() -> None:
    models = read_models(
        "A1(followingmodelsincludedasperIS16333(Part3):2016)A2"
        "(Changeovertorevisedversionforthefollowingmodelsdonew.e.f.01Sep2017)A1,A3"
    )
    assert [(m.model, m.included_on) for m in models] == [("A1", None), ("A2", None), ("A3", None)]


@pytest.mark.parametrize(
    ("text", "when", "models"),
    [
        ("-", None, []),
        (
            "MODELDELETEDFROMSCOPE21JAN2020,MODELNO.Wolkem600universal",
            date(2020, 1, 21),
            ["Wolkem600universal"],
        ),
        ("(FollowingModelsdeletedfromscopew.e.f.01Sep2017)LEB117", date(2017, 9, 1), ["LEB117"]),
        ("ADS-110DL-19-1190110G,ADS-110CL-19-3190090G.", None,
         ["ADS-110DL-19-1190110G", "ADS-110CL-19-3190090G"]),
    ],
)  # fmt: skip
def test_models_deleted_from_scope(text: str, when: date | None, models: list[str]) -> None:
    assert read_deleted_models(text) == (when, models)


def test_a_deletion_without_a_date_removes_the_model_throughout(
    register: dict[str, Registration],
) -> None:
    models = {m.model: m for m in register["R-41015229"].models}
    removed = models["ADS-110DL-19-1190110G"]
    assert removed.removed
    assert removed.removed_on is None
    assert not removed.in_scope_on(date(2000, 1, 1))


@pytest.mark.parametrize(
    ("text", "manufacturer"),
    [
        (
            "ZHEJIANGDAHUAZHILIANCO.,LTD.NO.28,DONGQIAOROAD,FUYANGDISTRICT",
            "ZHEJIANGDAHUAZHILIANCO.,LTD.",
        ),
        ("JabilCircuitDeMexicoSDeRLDeCVGUADALUPE420,ZAPOPAN", "JabilCircuitDeMexicoSDeRLDeCV"),
        ("VIDEOJETTECHNOLOGIESINC.1,MARSHDRIVE,BELLEVILLE", "VIDEOJETTECHNOLOGIESINC."),
        ("ZhongshanModiLightingFactoryF/G5,BUILDING1,NO.15", "ZhongshanModiLightingFactory"),
        ("YANGMINGINDUSTRIAL1#,2#ROOMNO.10BAOAN", None),
    ],
)
def test_the_manufacturer_is_cut_from_the_address(text: str, manufacturer: str | None) -> None:
    assert split_manufacturer(text)[0] == manufacturer


def test_an_operative_registration_past_valid_upto_is_not_valid(
    register: dict[str, Registration],
) -> None:
    dahua = register["R-41087785"]  # Operative, granted 01-May-2018, valid up to 30-Apr-2025
    assert dahua.status_on(date(2025, 3, 20))[0] is RegistrationStatus.VALID
    assert dahua.status_on(date(2025, 5, 1))[0] is RegistrationStatus.EXPIRED
    assert dahua.status_on(date(2018, 4, 30))[0] is RegistrationStatus.UNKNOWN
    cancelled = register["R-41106372"]
    assert cancelled.status_on(date(2019, 1, 1))[0] is RegistrationStatus.CANCELLED


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("01Nov2017", date(2017, 11, 1)),
        ("1Dec2015", date(2015, 12, 1)),
        ("25JULY2016", date(2016, 7, 25)),
        ("01Sept2017", date(2017, 9, 1)),
        ("16-Feb-2016", date(2016, 2, 16)),
        ("no date here", None),
        ("31Feb2019", None),
    ],
)
def test_dates_in_free_text(text: str, day: date | None) -> None:
    assert date_in_text(text) == day
