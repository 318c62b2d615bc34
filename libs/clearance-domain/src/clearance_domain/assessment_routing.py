"""RMS-FAG-1: which Faceless Assessment Group assesses a Bill of Entry (pure).

The routing table (each group's chapter or heading range and its National Assessment
Centre) is owned by rms-router: the `assessment_groups` of its effective-dated rule set.
rms-router routes a BE with it when it decides, and publishes each rule-set version's table
on `clearance.assessment-routing.published.v1`, so be-intake can name the same group in the
ICES acknowledgement CHCAI02 (field 23 'Appraising Group'). Both pick the group here, the
one way: the group whose heading range covers the heading of the BE's principal item, the
item of highest value (ties: the first filed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol, TypeVar

from clearance_domain.money import decimal_of

#: The ICES appraising group: CHCAI02 field 23, C3 (spec v2.23 p. 53), e.g. `5C`.
GROUP_CODE = re.compile(r"^[0-9][A-Z0-9]{0,2}$")


@dataclass(frozen=True, slots=True)
class AssessmentGroup:
    """One line of the table: a group and its (inclusive) range of 4-digit headings."""

    group: str
    centre: str
    description: str
    first_heading: str
    last_heading: str

    def covers(self, heading: str) -> bool:
        return self.first_heading <= heading <= self.last_heading

    def to_data(self) -> dict[str, str]:
        return {
            "group": self.group,
            "centre": self.centre,
            "description": self.description,
            "first_heading": self.first_heading,
            "last_heading": self.last_heading,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AssessmentGroup:
        """A line as `to_data` renders it (the published event's form)."""
        return cls(
            str(data["group"]),
            str(data["centre"]),
            str(data.get("description", "")),
            str(data["first_heading"]),
            str(data["last_heading"]),
        )


@dataclass(frozen=True, slots=True)
class AssessmentRouting:
    """The table of one rule-set version: lines whose heading ranges never overlap."""

    groups: tuple[AssessmentGroup, ...]

    def __post_init__(self) -> None:
        ordered = sorted(self.groups, key=lambda g: g.first_heading)
        for before, after in pairwise(ordered):
            if after.first_heading <= before.last_heading:
                raise ValueError(
                    f"assessment_groups: {before.group} and {after.group} both cover"
                    f" heading {after.first_heading}"
                )

    def group_of(self, cth: str) -> AssessmentGroup | None:
        """RMS-FAG-1: the line covering a tariff item's heading, if the table lists it."""
        heading = cth[:4]
        return next((line for line in self.groups if line.covers(heading)), None)

    def route(self, items: Iterable[V]) -> tuple[V | None, AssessmentGroup | None]:
        """RMS-FAG-1: the BE's principal item and the line of its heading (None, None for a
        BE without items; (item, None) when the table lists no group for its heading, and
        the port's appraising group assesses it)."""
        principal = principal_item(items)
        return principal, None if principal is None else self.group_of(principal.cth)

    def to_data(self) -> list[dict[str, str]]:
        return [line.to_data() for line in self.groups]

    @classmethod
    def from_data(cls, lines: Sequence[Mapping[str, Any]]) -> AssessmentRouting:
        return cls(tuple(AssessmentGroup.from_data(line) for line in lines))

    @classmethod
    def parse(cls, entries: Sequence[Any], where: str = "assessment_groups") -> AssessmentRouting:
        """The table as a rule set writes it: each line `group`, `centre`, optional
        `description`, and `chapters` [first, last] or `headings` [first, last] (one code
        for a single chapter or heading); ValueError says what is wrong."""
        return cls(tuple(_line(data, f"{where}[{n}]") for n, data in enumerate(entries)))


class Valued(Protocol):
    """An item as routing sees it: its tariff item and its value."""

    @property
    def cth(self) -> str: ...

    @property
    def value(self) -> Decimal: ...


V = TypeVar("V", bound=Valued)


@dataclass(frozen=True, slots=True)
class RoutedItem:
    sl_no: int
    cth: str
    value: Decimal  # invoice currency


def principal_item(items: Iterable[V]) -> V | None:
    """The item of highest value (ties: the first filed): it decides the group."""
    return max(items, key=lambda item: item.value, default=None)


def item_value(item: Mapping[str, Any]) -> Decimal:
    """An item's value in its invoice's currency: quantity x unit price (contract
    `bill_of_entry.invoices[].items[]`)."""
    return decimal_of(item["quantity"]) * decimal_of(item["unit_price"])


def routed_items(bill_of_entry: Mapping[str, Any]) -> tuple[RoutedItem, ...]:
    """The items of a contract `bill_of_entry`, every invoice's, in filing order."""
    return tuple(
        RoutedItem(int(item["item_sl_no"]), str(item["cth"]), item_value(item))
        for invoice in bill_of_entry.get("invoices", ())
        for item in invoice.get("items", ())
    )


def _line(data: Any, where: str) -> AssessmentGroup:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: an object")
    unknown = set(data) - {"group", "centre", "description", "chapters", "headings"}
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    group = data.get("group")
    if not isinstance(group, str) or not GROUP_CODE.match(group):
        raise ValueError(f"{where}.group: {group!r} is not an appraising group code")
    centre = data.get("centre")
    if not isinstance(centre, str) or not centre.strip():
        raise ValueError(f"{where}.centre: text")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{where}.description: text")
    span = data.get("chapters") if "chapters" in data else data.get("headings")
    if ("chapters" in data) == ("headings" in data) or not isinstance(span, list):
        raise ValueError(f"{where}: `chapters` [first, last] or `headings` [first, last]")
    if len(span) == 1:
        span = [span[0], span[0]]
    digits = 2 if "chapters" in data else 4
    if len(span) != 2 or not all(
        isinstance(v, str) and v.isdigit() and len(v) == digits for v in span
    ):
        raise ValueError(f"{where}: one or two (first, last) {digits}-digit codes")
    first, last = span if digits == 4 else (span[0] + "00", span[1] + "99")
    if first > last:
        raise ValueError(f"{where}: {first} comes after {last}")
    return AssessmentGroup(group, centre, description, first, last)
