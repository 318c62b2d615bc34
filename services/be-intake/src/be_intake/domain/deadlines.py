"""When a BE counts as presented, by when it had to be, what lateness costs, and how
long a prior entry stays valid (pure; INTAKE-TIME-1, INTAKE-LATE-1/-2/-3, INTAKE-PRIOR-1).

All days are days in Asia/Kolkata. The rules are the effective-dated policy
`filing-deadline` (the seed rule INTAKE-LATE-1 before the 2021 amendment,
INTAKE-LATE-3 after it; the cut-off times of INTAKE-TIME-1; the rates of
INTAKE-LATE-2), chosen by the day the carrier arrived; holidays come from the
`holiday-calendar` policy (`calendar.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from clearance_domain import Money, PolicyRef, Reason
from clearance_runtime.clock import CUSTOMS_TIMEZONE, start_of_day
from clearance_runtime.policies import Policy, PolicyBook, PolicyKind

from be_intake.domain.calendar import Calendar

#: INTAKE-PRIOR-1: a prior entry stays valid if the carrier arrives within 30 days.
PRIOR_ENTRY_VALID_DAYS = 30

SEA, AIR, ICD, LAND = "sea", "air", "icd", "land"
DAY_BEFORE_ARRIVAL, ARRIVAL_DAY, NEXT_WORKING_DAY = (
    "day_before_arrival",
    "arrival_day",
    "next_working_day_after_arrival",
)
_KINDS = (DAY_BEFORE_ARRIVAL, ARRIVAL_DAY, NEXT_WORKING_DAY)


@dataclass(frozen=True, slots=True)
class LateCharges:
    """INTAKE-LATE-2: a rate per day for the first days of default, another after."""

    first_days: int
    first_rate: Decimal
    later_rate: Decimal

    def for_days(self, days_late: int) -> Money:
        """Charges for `days_late` days of default, in whole rupees (0 when on time)."""
        days = max(days_late, 0)
        first = min(days, self.first_days)
        amount = self.first_rate * first + self.later_rate * (days - first)
        return Money.rupees(amount).whole_rupees()


@dataclass(frozen=True, slots=True)
class FilingDeadlineRule:
    """A version of the `filing-deadline` policy's body."""

    rule_id: str  # INTAKE-LATE-1 or INTAKE-LATE-3
    by_mode: dict[str, str]  # arrival mode -> deadline kind
    neighbouring_sea: str | None  # the deadline for sea cargo consigned from them
    neighbouring_countries: frozenset[str]
    remote_cutoff: time  # INTAKE-TIME-1
    service_centre_cutoff: time
    charges: LateCharges

    @classmethod
    def parse(cls, body: Any) -> FilingDeadlineRule:
        by_mode = {str(mode): str(kind) for mode, kind in body["by_mode"].items()}
        neighbouring = body.get("neighbouring_sea")
        kinds = {*by_mode.values(), *([neighbouring] if neighbouring else [])}
        if set(by_mode) != {SEA, AIR, ICD, LAND} or not kinds <= set(_KINDS):
            raise ValueError(f"by_mode must give one of {_KINDS} for each of sea, air, icd, land")
        charges = body["charges"]
        return cls(
            rule_id=str(body["rule_id"]),
            by_mode=by_mode,
            neighbouring_sea=neighbouring,
            neighbouring_countries=frozenset(body.get("neighbouring_countries", ())),
            remote_cutoff=time.fromisoformat(body["cutoff"]["remote"]),
            service_centre_cutoff=time.fromisoformat(body["cutoff"]["service_centre"]),
            charges=LateCharges(
                int(charges["first_days"]),
                Decimal(str(charges["first_rate_inr"])),
                Decimal(str(charges["later_rate_inr"])),
            ),
        )

    def deadline_kind(self, mode: str, consigned_from: str | None) -> str:
        if mode == SEA and self.neighbouring_sea and consigned_from in self.neighbouring_countries:
            return self.neighbouring_sea
        return self.by_mode[mode]


FILING_DEADLINE = PolicyKind(
    "filing-deadline",
    FilingDeadlineRule.parse,
    "By when a BE must be presented, cut-off times and late charges "
    "(INTAKE-LATE-1/-2/-3, INTAKE-TIME-1)",
)


def ref_of(policy: Policy[Any]) -> PolicyRef:
    return PolicyRef(policy.policy_id, policy.version)


@dataclass(frozen=True, slots=True)
class Presentation:
    """When the declaration was lodged and the day it is deemed presented (INTAKE-TIME-1)."""

    lodged_at: datetime
    day: date
    reason: Reason | None  # why it is deemed presented on a later day, if it is

    @property
    def deemed_later(self) -> bool:
        return self.day != self.lodged_at.astimezone(CUSTOMS_TIMEZONE).date()


def presentation(
    lodged_at: datetime, book: PolicyBook, calendar: Calendar, *, service_centre: bool = False
) -> Presentation:
    """INTAKE-TIME-1: lodged on a working day before the cut-off (17:30 remote, 16:30 at a
    service centre, IST) it is presented that day; otherwise on the next working day."""
    local = lodged_at.astimezone(CUSTOMS_TIMEZONE)
    policy = book.in_force(FILING_DEADLINE, local.date())
    rule = policy.body
    cutoff = rule.service_centre_cutoff if service_centre else rule.remote_cutoff
    day = local.date()
    holiday = calendar.holiday(day)
    if holiday is None and local.time() < cutoff:
        return Presentation(lodged_at, day, None)
    deemed = calendar.next_working_day(day)
    why = (
        f"lodged on {day} ({holiday})"
        if holiday
        else f"lodged at {local:%H:%M} IST after the {cutoff:%H:%M} cut-off"
        f" ({'service centre' if service_centre else 'remote lodging'})"
    )
    message = f"{why}: deemed presented on the next working day, {deemed}"
    reason = Reason.of("INTAKE-TIME-1", message, policy=ref_of(policy))
    return Presentation(lodged_at, deemed, reason)


@dataclass(frozen=True, slots=True)
class Lateness:
    """The filing deadline of a BE and what being late by it costs."""

    rule_id: str
    deadline: date  # the BE had to be presented by the end of this day
    presented_on: date
    days_late: int
    charge: Money
    policy: PolicyRef
    calendar: tuple[PolicyRef, ...]

    @property
    def late(self) -> bool:
        return self.days_late > 0

    def reasons(self) -> list[Reason]:
        if not self.late:
            return []
        mode = (
            f"presented on {self.presented_on}, {self.days_late} day(s) after the deadline "
            f"(end of {self.deadline})"
        )
        return [
            Reason.of(self.rule_id, mode, policy=self.policy),
            Reason.of(
                "INTAKE-LATE-2",
                f"late presentation charges Rs {self.charge.amount:,} for {self.days_late} day(s)",
                policy=self.policy,
            ),
        ]


def filing_deadline(
    arrival: date, mode: str, consigned_from: str | None, book: PolicyBook, calendar: Calendar
) -> tuple[date, Policy[FilingDeadlineRule]]:
    """INTAKE-LATE-1 (before the 2021 amendment): the end of the next day following the
    arrival day, holidays excluded. INTAKE-LATE-3 (after it): sea and ICD the end of the day
    before arrival (sea from the neighbouring countries: the arrival day); air and land
    customs stations the end of the arrival day. Chosen by the arrival day."""
    policy = book.in_force(FILING_DEADLINE, arrival)
    kind = policy.body.deadline_kind(mode, consigned_from)
    if kind == DAY_BEFORE_ARRIVAL:
        return arrival - timedelta(days=1), policy
    if kind == ARRIVAL_DAY:
        return arrival, policy
    return calendar.next_working_day(arrival), policy


def lateness(
    presented_on: date,
    arrival: date,
    mode: str,
    consigned_from: str | None,
    book: PolicyBook,
    calendar: Calendar,
) -> Lateness:
    """INTAKE-LATE-1/-3 and INTAKE-LATE-2: every calendar day of default after the
    deadline counts (the rule charges "per day"; holidays only move the deadline)."""
    deadline, policy = filing_deadline(arrival, mode, consigned_from, book, calendar)
    days_late = max((presented_on - deadline).days, 0)
    return Lateness(
        rule_id=policy.body.rule_id,
        deadline=deadline,
        presented_on=presented_on,
        days_late=days_late,
        charge=policy.body.charges.for_days(days_late),
        policy=ref_of(policy),
        calendar=tuple(calendar.policy_refs()),
    )


def prior_entry_expiry(presented_on: date) -> datetime:
    """INTAKE-PRIOR-1: a prior entry presented on day 0 is valid if the carrier arrives by
    day 30; at the start of day 31 (IST) it is invalid."""
    return start_of_day(presented_on + timedelta(days=PRIOR_ENTRY_VALID_DAYS + 1))


def arrived_in_time(presented_on: date, arrival: date) -> bool:
    """INTAKE-PRIOR-1: the carrier arrived within 30 days of the presentation."""
    return (arrival - presented_on).days <= PRIOR_ENTRY_VALID_DAYS


def deferred_duty_due(be_date: date) -> date:
    """INTAKE-DUTY-2: a BE dated 1st-15th pays deferred duty by the 16th; 16th to month end
    by the 1st of the next month; BEs of 16-31 March by 31 March."""
    if be_date.day <= 15:
        return be_date.replace(day=16)
    if be_date.month == 3:
        return be_date.replace(day=31)
    first_of_next = (be_date.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_of_next
