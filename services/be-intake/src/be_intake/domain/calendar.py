"""Holiday calendars of the custom houses, as effective-dated policy data (pure).

INTAKE-LATE-1 counts days "excluding holidays" and INTAKE-TIME-1 deems a late
declaration presented "on the next working day". A custom house is a central
government office and closes on the holidays notified for central government
offices in its state (../shared/domain/calendars/README.md). The policy
`holiday-calendar` keeps, per version (in force for the dates it covers): the
weekly rest days, named holiday lists, and which list each custom house uses.
Its versions are built from the real lists by `scripts/build_holiday_calendar.py`;
an administrator adds a version over HTTP (POST /admin/policies/holiday-calendar),
e.g. a state's three additional holidays or a shifted lunar holiday.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from clearance_domain import PolicyRef
from clearance_runtime.policies import PolicyBook, PolicyKind

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """One version's body: rest days, lists of holidays, custom house -> list."""

    weekly_rest_days: frozenset[int]  # date.weekday() numbers
    lists: Mapping[str, Mapping[date, str]]  # list name -> {date: holiday}
    custom_houses: Mapping[str, str]  # custom house code -> list name
    default_list: str

    def list_of(self, custom_house: str) -> str:
        return self.custom_houses.get(custom_house, self.default_list)

    def holiday(self, custom_house: str, day: date) -> str | None:
        """Why `day` is not a working day at the custom house, or None if it is one."""
        if day.weekday() in self.weekly_rest_days:
            return WEEKDAYS[day.weekday()]
        return self.lists.get(self.list_of(custom_house), {}).get(day)

    @classmethod
    def parse(cls, body: Any) -> HolidayCalendar:
        """A policy body (ValueError/KeyError/TypeError when it does not read)."""
        rest = frozenset(WEEKDAYS.index(str(day).lower()) for day in body["weekly_rest_days"])
        lists = {
            str(name): {date.fromisoformat(h["date"]): str(h["holiday"]) for h in entry["holidays"]}
            for name, entry in body["lists"].items()
        }
        houses = {str(code): str(name) for code, name in body["custom_houses"].items()}
        default = str(body["default_list"])
        unknown = {*houses.values(), default} - set(lists)
        if unknown:
            raise ValueError(f"custom houses name lists that do not exist: {sorted(unknown)}")
        return cls(rest, lists, houses, default)


HOLIDAY_CALENDAR = PolicyKind(
    "holiday-calendar",
    HolidayCalendar.parse,
    "Holidays per custom house (INTAKE-LATE-1, INTAKE-TIME-1), from the real 2021 lists",
)


@dataclass
class Calendar:
    """Working days of one custom house, each day judged by the calendar version in force
    on it; remembers the versions it used, for the reasons that cite them."""

    book: PolicyBook
    custom_house: str
    used: dict[str, int] = field(default_factory=dict)

    def holiday(self, day: date) -> str | None:
        policy = self.book.in_force(HOLIDAY_CALENDAR, day)
        self.used[policy.policy_id] = max(policy.version, self.used.get(policy.policy_id, 0))
        return policy.body.holiday(self.custom_house, day)

    def is_working_day(self, day: date) -> bool:
        return self.holiday(day) is None

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += timedelta(days=1)
        for _ in range(60):  # no calendar closes a custom house for two months
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day at {self.custom_house} in 60 days after {day}")

    def policy_refs(self) -> list[PolicyRef]:
        return [PolicyRef(policy_id, version) for policy_id, version in sorted(self.used.items())]
