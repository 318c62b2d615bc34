"""Intake rules for a filed Bill of Entry (pure; no I/O).

Each check returns the reasons a filing must be rejected, citing the rule id
from RULES.md; an empty list means the filing may be registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from clearance_domain import BillOfEntry, Reason

IEC_FORMAT = re.compile(r"^[A-Z0-9]{10}$")

Check = Callable[[BillOfEntry], list[Reason]]


def check_iec(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-1: the IEC is a mandatory 10-character alphanumeric code."""
    if IEC_FORMAT.fullmatch(be.iec):
        return []
    message = f"IEC {be.iec!r} is not a 10-character alphanumeric Importer-Exporter Code"
    return [Reason.of("INTAKE-IEC-1", message)]


def check_warehouse_code(be: BillOfEntry) -> list[Reason]:
    """INTAKE-BE-2: a warehousing BE must declare the warehouse code."""
    if be.is_warehousing and not be.warehouse_code:
        return [
            Reason.of("INTAKE-BE-2", "a warehousing BE (type W) must declare the warehouse code")
        ]
    return []


CHECKS: tuple[Check, ...] = (check_iec, check_warehouse_code)


def rejection_reasons(be: BillOfEntry) -> list[Reason]:
    """All reasons to reject the filing, in rule order."""
    return [reason for check in CHECKS for reason in check(be)]
