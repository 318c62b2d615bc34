"""Presentation, filing deadlines, late charges, prior entry and deferred duty (pure):
INTAKE-TIME-1, INTAKE-LATE-1/-2/-3, INTAKE-PRIOR-1, INTAKE-DUTY-2, with example tables from
the rule texts and properties across holidays, month ends and the cut-off."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from be_intake.domain.calendar import Calendar
from be_intake.domain.deadlines import (
    arrived_in_time,
    deferred_duty_due,
    filing_deadline,
    lateness,
    presentation,
    prior_entry_expiry,
)
from clearance_runtime.clock import CUSTOMS_TIMEZONE
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit
IST = CUSTOMS_TIMEZONE


def _at(day: str, hh_mm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hh_mm), tzinfo=IST)


def test_holiday_policy_file_is_built_from_the_real_lists() -> None:
    """The 2021 calendar is generated from shared/domain/calendars (no hand-typed dates)."""
    import importlib.util

    script = Path(__file__).parents[1] / "scripts" / "build_holiday_calendar.py"
    spec = importlib.util.spec_from_file_location("build_holiday_calendar", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = json.loads(module.POLICY.read_text(encoding="utf-8"))
    assert committed == json.loads(module.render())
    assert len(committed["body"]["lists"]["compulsory-only"]["holidays"]) == 14


# -- INTAKE-TIME-1 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lodged", "service_centre", "presented"),
    [
        (_at("2021-02-01", "17:29"), False, "2021-02-01"),  # Monday, before 17:30
        (_at("2021-02-01", "17:30"), False, "2021-02-02"),  # at the cut-off: next working day
        (_at("2021-02-01", "16:31"), True, "2021-02-02"),  # service centre: 16:30
        (_at("2021-02-06", "18:00"), False, "2021-02-08"),  # Saturday evening -> Monday
        (_at("2021-02-07", "10:00"), False, "2021-02-08"),  # Sunday: not a working day
        (_at("2021-01-25", "18:00"), False, "2021-01-27"),  # Republic Day is a holiday
    ],
)
def test_cut_off_deeming_example_table(
    book: Any, lodged: datetime, service_centre: bool, presented: str
) -> None:
    shown = presentation(lodged, book, Calendar(book, "INNSA1"), service_centre=service_centre)
    assert shown.day.isoformat() == presented
    assert (shown.reason is None) is (presented == lodged.date().isoformat())


def test_cut_off_is_in_india_whatever_the_offset_of_the_timestamp(book: Any) -> None:
    utc = datetime.fromisoformat("2021-02-01T12:10:00+00:00")  # 17:40 IST
    assert presentation(utc, book, Calendar(book, "INNSA1")).day == date(2021, 2, 2)


def test_each_custom_house_closes_on_its_states_holidays(book: Any) -> None:
    """Makar Sankranti (14 Jan 2021) is on Gujarat's list, not Delhi's."""
    assert not Calendar(book, "INMUN1").is_working_day(date(2021, 1, 14))
    assert Calendar(book, "INDEL4").is_working_day(date(2021, 1, 14))
    assert not Calendar(book, "INDEL4").is_working_day(date(2021, 4, 21))  # Ram Navami, Delhi
    assert Calendar(book, "INNSA1").is_working_day(date(2021, 4, 21))  # not a compulsory one


# -- INTAKE-LATE-1 (seed) and INTAKE-LATE-3 (2021 amendment) ---------------------------


@pytest.mark.parametrize(
    ("arrival", "mode", "origin", "house", "deadline", "rule"),
    [
        # INTAKE-LATE-1: the end of the next day following arrival, holidays excluded.
        ("2021-02-01", "air", "CN", "INDEL4", "2021-02-02", "INTAKE-LATE-1"),
        ("2021-02-06", "sea", "CN", "INNSA1", "2021-02-08", "INTAKE-LATE-1"),  # Sunday skipped
        ("2021-01-25", "sea", "CN", "INNSA1", "2021-01-27", "INTAKE-LATE-1"),  # Republic Day
        ("2021-03-31", "air", "CN", "INMUN1", "2021-04-01", "INTAKE-LATE-1"),  # seed rule
        # INTAKE-LATE-3 from 1 April 2021: by mode and origin.
        ("2021-04-05", "sea", "CN", "INNSA1", "2021-04-04", "INTAKE-LATE-3"),
        ("2021-04-05", "sea", "BD", "INCCU1", "2021-04-05", "INTAKE-LATE-3"),  # Bangladesh
        ("2021-04-05", "sea", "LK", "INMAA1", "2021-04-05", "INTAKE-LATE-3"),  # Sri Lanka
        ("2021-04-05", "air", "US", "INBOM4", "2021-04-05", "INTAKE-LATE-3"),
        ("2021-04-05", "icd", "CN", "INTKD6", "2021-04-04", "INTAKE-LATE-3"),
        ("2021-04-05", "land", "NP", "INIXY1", "2021-04-05", "INTAKE-LATE-3"),
    ],
)
def test_filing_deadline_example_table(
    book: Any, arrival: str, mode: str, origin: str, house: str, deadline: str, rule: str
) -> None:
    day, policy = filing_deadline(
        date.fromisoformat(arrival), mode, origin, book, Calendar(book, house)
    )
    assert (day.isoformat(), policy.body.rule_id) == (deadline, rule)


# INTAKE-LATE-2 example table: Rs 5,000 a day for three days, Rs 10,000 a day after.
@pytest.mark.parametrize(
    ("days", "charge"), [(0, 0), (1, 5_000), (3, 15_000), (4, 25_000), (10, 85_000)]
)
def test_late_charges_example_table(book: Any, days: int, charge: int) -> None:
    arrival = date(2021, 4, 5)  # sea, INTAKE-LATE-3: deadline the 4th
    late = lateness(
        date(2021, 4, 4) + timedelta(days=days),
        arrival,
        "sea",
        "CN",
        book,
        Calendar(book, "INNSA1"),
    )
    assert (late.days_late, late.charge.amount) == (days, Decimal(charge))
    assert [r.rule_id for r in late.reasons()] == (
        ["INTAKE-LATE-3", "INTAKE-LATE-2"] if days else []
    )


@given(st.integers(min_value=0, max_value=400))
def test_late_charges_are_whole_rupees_and_grow_by_the_rule(days: int) -> None:
    """INTAKE-LATE-2 as a property: whole rupees, 5,000/day to day 3, 10,000/day after."""
    from be_intake.domain.deadlines import LateCharges

    charges = LateCharges(3, Decimal(5000), Decimal(10000))
    amount = charges.for_days(days).amount
    assert amount == amount.to_integral_value()
    assert amount == 5000 * min(days, 3) + 10000 * max(days - 3, 0)
    assert charges.for_days(days + 1).amount - amount == (5000 if days < 3 else 10000)


_days_2021 = st.dates(min_value=date(2021, 1, 1), max_value=date(2021, 12, 20))
_houses = st.sampled_from(["INNSA1", "INDEL4", "INMUN1", "INMAA1"])


@given(_days_2021, _houses, st.sampled_from(["sea", "air", "icd", "land"]))
def test_the_deadline_never_ends_on_a_day_before_the_rule_allows(
    arrival: date, house: str, mode: str
) -> None:
    """Across holidays and month ends: LATE-1's deadline is a working day after arrival with
    no working day in between; LATE-3's is the arrival day or the day before."""
    book = _book()
    calendar = Calendar(book, house)
    deadline, policy = filing_deadline(arrival, mode, "CN", book, calendar)
    if policy.body.rule_id == "INTAKE-LATE-1":
        assert deadline > arrival
        assert calendar.is_working_day(deadline)
        between = [arrival + timedelta(days=n) for n in range(1, (deadline - arrival).days)]
        assert not any(calendar.is_working_day(day) for day in between)
    else:
        assert (arrival - deadline).days == (1 if mode in ("sea", "icd") else 0)


@given(_days_2021, _houses, st.integers(min_value=0, max_value=23), st.integers(0, 59))
def test_a_declaration_is_presented_on_a_working_day_not_before_it_was_lodged(
    day: date, house: str, hour: int, minute: int
) -> None:
    """INTAKE-TIME-1 as a property, across the cut-off, weekends and holidays."""
    book = _book()
    calendar = Calendar(book, house)
    lodged = datetime.combine(day, time(hour, minute), tzinfo=IST)
    shown = presentation(lodged, book, calendar)
    assert shown.day >= day
    assert calendar.is_working_day(shown.day)
    same_day = calendar.is_working_day(day) and time(hour, minute) < time(17, 30)
    assert (shown.day == day) is same_day


def _book() -> Any:
    from be_intake.bootstrap import POLICIES, POLICY_KINDS
    from clearance_runtime.policies import in_memory

    files = sorted(Path(POLICIES).glob("*.json"))
    return in_memory(POLICY_KINDS, [json.loads(path.read_text()) for path in files])


# -- INTAKE-PRIOR-1 ----------------------------------------------------------------------


@pytest.mark.parametrize(("days", "valid"), [(0, True), (29, True), (30, True), (31, False)])
def test_prior_entry_valid_if_the_carrier_arrives_within_30_days(days: int, valid: bool) -> None:
    presented = date(2025, 3, 20)
    assert arrived_in_time(presented, presented + timedelta(days=days)) is valid


def test_prior_entry_expires_at_the_start_of_day_31_in_india() -> None:
    expiry = prior_entry_expiry(date(2025, 3, 20))
    assert expiry == datetime(2025, 4, 20, 0, 0, tzinfo=IST)


# -- INTAKE-DUTY-2 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("be_date", "due"),
    [
        ("2025-01-01", "2025-01-16"),
        ("2025-01-15", "2025-01-16"),
        ("2025-01-16", "2025-02-01"),
        ("2025-01-31", "2025-02-01"),
        ("2025-02-28", "2025-03-01"),
        ("2025-03-10", "2025-03-16"),
        ("2025-03-16", "2025-03-31"),  # the March rule
        ("2025-03-31", "2025-03-31"),
        ("2025-12-20", "2026-01-01"),
    ],
)
def test_deferred_duty_due_dates_example_table(be_date: str, due: str) -> None:
    assert deferred_duty_due(date.fromisoformat(be_date)).isoformat() == due


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_deferred_duty_is_due_within_days_and_never_before_the_be(be_date: date) -> None:
    due = deferred_duty_due(be_date)
    assert be_date <= due <= be_date + timedelta(days=16)
    assert due.day in (1, 16) or (due.month, due.day) == (3, 31)
