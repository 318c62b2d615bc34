"""The BIS-CRS register as the verifier reads it (pure).

Status strings in the real register are free text; they are mapped to a
small vocabulary, and anything unknown fails safe (BIS-CRS-1, BIS-CRS-2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class RegistrationStatus(StrEnum):
    OPERATIVE = "operative"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DEFERRED = "deferred"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


_STATUS_PATTERNS = (
    (re.compile(r"^operative$", re.I), RegistrationStatus.OPERATIVE),
    (re.compile(r"^expired", re.I), RegistrationStatus.EXPIRED),
    (re.compile(r"^cancell?ed", re.I), RegistrationStatus.CANCELLED),
    (re.compile(r"^deferred", re.I), RegistrationStatus.DEFERRED),
    (re.compile(r"^(withdrawn|non-?operative)", re.I), RegistrationStatus.WITHDRAWN),
)


def normalise_status(text: str) -> RegistrationStatus:
    compact = text.strip().replace(" ", "")
    for pattern, status in _STATUS_PATTERNS:
        if pattern.search(compact):
            return status
    return RegistrationStatus.UNKNOWN


def parse_register_date(text: str) -> date | None:
    """`25-Dec-2021` as in the register; None when absent or unreadable."""
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class Registration:
    number: str
    status: RegistrationStatus
    status_text: str
    valid_upto: date | None
    product: str
    brand: str
    manufacturer_and_factory: str
