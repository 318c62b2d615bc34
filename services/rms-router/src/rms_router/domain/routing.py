"""Risk-management routing of a Bill of Entry (pure).

RMS-1/RMS-3: the RMS decides the facilitation level before any examination.
RMS-2: a First Check request sends the BE to examination before assessment.
RMS-FAG-1: the Faceless Assessment Group follows the tariff chapter/heading.
RMS-QUEUE-1: BEs for examination queue FIFO before the OOC officer;
facilitated ones are routed to the officer automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clearance_domain import BillOfEntry, Item, Reason

# RMS-FAG-1: (first heading, last heading) inclusive, 4-digit, -> group.
_FAG_BY_HEADING: tuple[tuple[int, int, str], ...] = (
    (2800, 2899, "2"),
    (3000, 3199, "2B"),
    (3200, 3499, "2C"),
    (3500, 3699, "2D"),
    (3800, 3899, "2F"),
    (4700, 4999, "2K"),
    (8401, 8469, "5"),
    (8470, 8473, "5E"),
    (8474, 8487, "5N"),
    (8501, 8516, "5A"),
    (8517, 8531, "5C"),
    (8532, 8548, "5M"),
    (8800, 8899, "5F"),
    (9000, 9299, "5I"),
    (9300, 9899, "6"),
)


def assessment_group(cth: str) -> str | None:
    """RMS-FAG-1: the faceless assessment group of an 8-digit tariff item, if listed."""
    heading = int(cth[:4])
    for first, last, group in _FAG_BY_HEADING:
        if first <= heading <= last:
            return group
    return None


def _principal_item(bill_of_entry: BillOfEntry) -> Item:
    """The item of highest value decides the group (ties: the first filed)."""
    return max(bill_of_entry.items(), key=lambda item: item.value)


@dataclass(frozen=True)
class RmsDecision:
    outcome: str  # facilitated | assessment | examination | scanning | pga_noc
    assessment_group: str | None
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def queued_for_examination(self) -> bool:
        return self.outcome == "examination"


def decide(bill_of_entry: BillOfEntry) -> RmsDecision:
    cth = _principal_item(bill_of_entry).cth
    group = assessment_group(cth)
    routed = Reason.of(
        "RMS-FAG-1",
        f"CTH {cth}: faceless assessment group {group}"
        if group
        else f"CTH {cth}: no faceless assessment group listed for this heading",
    )
    if bill_of_entry.first_check:
        first_check = Reason.of("RMS-2", "First Check requested: examination before assessment")
        return RmsDecision("examination", group, (first_check, routed))
    facilitated = Reason.of("RMS-QUEUE-1", "fully facilitated: routed to the OOC officer")
    return RmsDecision("facilitated", group, (facilitated, routed))
