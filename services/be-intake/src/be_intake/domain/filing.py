"""Intake rules for a filed Bill of Entry (pure; no I/O).

Each check returns the reasons a filing must be rejected, citing the rule id
from RULES.md; an empty list means the filing may be registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

IEC_FORMAT = re.compile(r"^[A-Z0-9]{10}$")
HOME_CONSUMPTION, WAREHOUSING = "H", "W"


class Reason(TypedDict):
    rule_id: str
    message: str


BillOfEntry = Mapping[str, Any]
Check = Callable[[BillOfEntry], list[Reason]]


def check_iec(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-1: the IEC is a mandatory 10-character alphanumeric code."""
    iec = str(be.get("iec") or "")
    if IEC_FORMAT.fullmatch(iec):
        return []
    return [
        Reason(
            rule_id="INTAKE-IEC-1",
            message=f"IEC {iec!r} is not a 10-character alphanumeric Importer-Exporter Code",
        )
    ]


def check_warehouse_code(be: BillOfEntry) -> list[Reason]:
    """INTAKE-BE-2: a warehousing BE must declare the warehouse code."""
    if be.get("be_type") == WAREHOUSING and not be.get("warehouse_code"):
        return [
            Reason(
                rule_id="INTAKE-BE-2",
                message="a warehousing BE (type W) must declare the warehouse code",
            )
        ]
    return []


CHECKS: tuple[Check, ...] = (check_iec, check_warehouse_code)


def rejection_reasons(be: BillOfEntry) -> list[Reason]:
    """All reasons to reject the filing, in rule order."""
    return [reason for check in CHECKS for reason in check(be)]


def identity(be: BillOfEntry) -> tuple[str, str, str]:
    """The BE identity: custom house (port) code, BE number, BE date."""
    return str(be["port_code"]), str(be["be_no"]), str(be["be_date"])
