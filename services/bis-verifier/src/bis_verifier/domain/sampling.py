"""Samples drawn from a BE's goods, until an NABL-accredited laboratory concludes (pure).

Two paths draw samples: toys that pass their checks clear only conditionally
(BIS-QCO-3: samples from each consignment, no sale until the laboratory
confirms conformity), and CRO goods that the RMS picks at random are sampled at
examination (RMS-SAMPLE-1; Instruction 28/2023: OOC only if the sample passes).
Both wait for the laboratory's report (`nabl-lab.sample-test.reported.v1`).
The case concludes non_conforming at the first failed item (re-export or
destruction at the importer's cost), conforming when every sampled item passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from clearance_domain import BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data


class Origin(StrEnum):
    QCO = "qco_conditional_clearance"  # BIS-QCO-3
    EXAMINATION = "examination"  # RMS-SAMPLE-1, Instruction 28/2023


@dataclass(frozen=True, slots=True)
class LabReport:
    """What a laboratory reported about some sampled items."""

    ref: BillOfEntryRef
    laboratory: str
    report_no: str
    results: dict[int, bool]  # item_sl_no -> passed
    standards: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LabReport:
        results: dict[int, bool] = {}
        standards: dict[int, tuple[str, ...]] = {}
        for result in data["results"]:
            item = int(result["item_sl_no"])
            # One failed result for an item fails it, whatever else the report says.
            results[item] = results.get(item, True) and result["outcome"] == "pass"
            standards[item] = tuple(result.get("standards", ()))
        return cls(
            BillOfEntryRef.from_data(data["bill_of_entry_ref"]),
            str(data["laboratory"]),
            str(data["report_no"]),
            results,
            standards,
        )


@dataclass(frozen=True, slots=True)
class SampleConcluded:
    """The event the case records when it concludes (clearance.bis-sample.concluded.v1)."""

    ref: BillOfEntryRef
    conforming: bool
    laboratory: str
    report_no: str
    reasons: tuple[Reason, ...]
    items: dict[int, bool]
    at: datetime

    def to_data(self) -> dict[str, Any]:
        return {
            "bill_of_entry_ref": self.ref.to_data(),
            "outcome": "conforming" if self.conforming else "non_conforming",
            "laboratory": self.laboratory,
            "report_no": self.report_no,
            "reasons": reasons_data(list(self.reasons)),
            "items": [
                {"item_sl_no": n, "outcome": "conforming" if ok else "non_conforming"}
                for n, ok in sorted(self.items.items())
            ],
            "concluded_at": self.at.isoformat(),
        }


@dataclass
class SampleCase:
    """The samples of one BE (all its versions: the goods are the same)."""

    ref: BillOfEntryRef  # the newest version the case heard of
    drawn: dict[int, Origin] = field(default_factory=dict)  # item_sl_no -> why it was sampled
    results: dict[int, bool] = field(default_factory=dict)  # item_sl_no -> passed
    laboratory: str | None = None
    report_no: str | None = None
    concluded_at: datetime | None = None
    conforming: bool | None = None
    events: list[SampleConcluded] = field(default_factory=list)

    @property
    def awaiting(self) -> list[int]:
        return sorted(n for n in self.drawn if n not in self.results)

    def draw(self, ref: BillOfEntryRef, items: list[int], origin: Origin) -> None:
        """Samples drawn from `items` (again, for a newer version: the same goods)."""
        self._hear_of(ref)
        for item in items:
            self.drawn.setdefault(item, origin)
        if self.awaiting:
            self.concluded_at = None
            self.conforming = None

    def record(self, report: LabReport, newest: BillOfEntryRef, at: datetime) -> None:
        """A laboratory's report; concludes at the first failure or when none awaits."""
        if self.concluded_at is not None:
            return  # concluded: a later report changes nothing until samples are drawn again
        self._hear_of(newest)
        for item, passed in report.results.items():
            self.drawn.setdefault(item, Origin.EXAMINATION)
            self.results[item] = self.results.get(item, True) and passed
        self.laboratory, self.report_no = report.laboratory, report.report_no
        failed = sorted(n for n, passed in self.results.items() if not passed)
        if failed or not self.awaiting:
            self._conclude(not failed, failed, report, at)

    def _hear_of(self, ref: BillOfEntryRef) -> None:
        if ref.version > self.ref.version:
            self.ref = ref

    def _conclude(
        self, conforming: bool, failed: list[int], report: LabReport, at: datetime
    ) -> None:
        self.conforming, self.concluded_at = conforming, at
        reasons = []
        for origin in dict.fromkeys(self.drawn[n] for n in sorted(self.results)):
            items = [n for n in sorted(self.results) if self.drawn[n] is origin]
            reasons.append(_reason(origin, items, failed, report))
        self.events.append(
            SampleConcluded(
                self.ref,
                conforming,
                report.laboratory,
                report.report_no,
                tuple(reasons),
                dict(self.results),
                at,
            )
        )


def _reason(origin: Origin, items: list[int], failed: list[int], report: LabReport) -> Reason:
    rule = "BIS-QCO-3" if origin is Origin.QCO else "RMS-SAMPLE-1"
    listed = ", ".join(str(n) for n in items)
    source = f"report {report.report_no} of {report.laboratory}"
    bad = [n for n in items if n in failed]
    if bad:
        standards = sorted({s for n in bad for s in report.standards.get(n, ())})
        against = f" against {', '.join(standards)}" if standards else ""
        message = (
            f"the samples of items {', '.join(str(n) for n in bad)} failed{against} ({source}): "
            "the goods are to be re-exported or destroyed at the importer's cost"
        )
    elif origin is Origin.QCO:
        message = (
            f"the samples of items {listed} conform ({source}): the sale restriction is lifted"
        )
    else:
        message = (
            f"the samples of items {listed} conform ({source}): the goods may be cleared "
            "(Instruction 28/2023: OOC only if the sample passes)"
        )
    return Reason.of(rule, message[:2000])
