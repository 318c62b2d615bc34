"""What an amendment changes, and whether it touches an element of assessment (pure;
INTAKE-AMEND-1, INTAKE-AMEND-2)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from clearance_domain import Reason

# Elements of assessment (INTAKE-AMEND-1, 002 "Section 149 ... change the elements of
# assessment"): value, classification (CTH), exemption, quantity, origin. The canonical
# BE carries no exemption notification field; the self-assessed duty stands for it.
_ASSESSMENT_ELEMENTS = (
    re.compile(r"^invoices\[\d+\]\.(invoice_value|currency|exchange_rate|terms_of_invoice)$"),
    re.compile(
        r"^invoices\[\d+\]\.items\[\d+\]\.(cth|quantity|unit|unit_price|country_of_origin)$"
    ),
    re.compile(r"^invoices(\[\d+\](\.items(\[\d+\])?)?)?$"),  # invoices or items added/removed
    re.compile(r"^duty\.(assessable_value|total_duty)$"),
    re.compile(r"^country_of_origin$"),
)
_IDENTITY = ("port_code", "be_no", "be_date")


def changed_elements(before: Any, after: Any, path: str = "") -> list[str]:
    """The JSON paths at which two BEs differ (a list of different length counts as a
    change of the list itself), sorted."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes = []
        for key in sorted({*before, *after}):
            where = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                if before.get(key) != after.get(key):
                    changes.append(where)
                continue
            changes += changed_elements(before[key], after[key], where)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [path]
        return [
            change
            for n, (old, new) in enumerate(zip(before, after, strict=True))
            for change in changed_elements(old, new, f"{path}[{n}]")
        ]
    return [] if before == after else [path]


def touches_assessment(changes: Sequence[str]) -> bool:
    """True when a change is to an element of assessment (INTAKE-AMEND-1)."""
    return any(pattern.match(change) for change in changes for pattern in _ASSESSMENT_ELEMENTS)


def identity_changes(changes: Sequence[str]) -> list[str]:
    return [change for change in changes if change in _IDENTITY]


def evidence_reasons(evidence: Sequence[Mapping[str, Any]], out_of_charge_on: date) -> list[Reason]:
    """INTAKE-AMEND-2: after clearance an amendment rests only on documents that existed
    when the goods were cleared: each needs an issue date no later than Out of Charge."""
    if not evidence:
        message = (
            f"the goods were cleared on {out_of_charge_on}: an amendment needs documentary "
            "evidence that existed then"
        )
        return [Reason.of("INTAKE-AMEND-2", message)]
    reasons = []
    for document in evidence:
        issued = document.get("issued_on")
        reference = document.get("reference", "?")
        if issued is None:
            message = (
                f"document {reference} has no issue date: it cannot show it existed at clearance"
            )
            reasons.append(Reason.of("INTAKE-AMEND-2", message))
        elif date.fromisoformat(str(issued)) > out_of_charge_on:
            message = (
                f"document {reference} was issued on {issued}, after the goods were cleared "
                f"on {out_of_charge_on}"
            )
            reasons.append(Reason.of("INTAKE-AMEND-2", message))
    return reasons
