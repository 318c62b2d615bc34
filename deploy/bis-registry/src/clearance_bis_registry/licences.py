"""CM/L licences of the ISI Mark scheme (Quality Control Orders: toys first), as served.

No source in `shared/` lists real CM/L licences, so the set in `licences.json`
is SAMPLE DATA, made up for local runs and tests and labelled so in the file.
Licence numbers come in two forms: `CM/L-` and 7 digits (historically) and
the 10-digit form BIS moved to (older numbers padded with zeros); both name
the same licence (`canonical_licence_no`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any


class LicenceStatus(StrEnum):
    VALID = "valid"  # `Operative`
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # surrendered
    UNKNOWN = "unknown"


_DIGITS = re.compile(r"^(?:CM/?L)?[-\s/]*(\d{7}|\d{10})$", re.IGNORECASE)


def canonical_licence_no(text: str) -> str | None:
    """`CM/L-1234567`, `CM/L-0001234567`, `1234567`... -> `CM/L-0001234567`; None if not one."""
    match = _DIGITS.match(text.strip())
    if match is None:
        return None
    return f"CM/L-{match.group(1).rjust(10, '0')}"


@dataclass(frozen=True, slots=True)
class Licence:
    licence_no: str  # the 10-digit form
    status: LicenceStatus
    status_text: str
    status_since: date | None
    granted_on: date
    valid_upto: date
    standards: tuple[str, ...]
    product: str
    tariff_lines: tuple[str, ...]  # the product scope, as ITC(HS) lines or their prefixes
    licensee: str
    factory_address: str

    @property
    def old_form(self) -> str | None:
        """The 7-digit form, for a licence numbered before the 10-digit scheme."""
        digits = self.licence_no.removeprefix("CM/L-")
        return f"CM/L-{digits[3:]}" if digits.startswith("000") else None

    def status_on(self, day: date) -> tuple[LicenceStatus, str]:
        if self.status is LicenceStatus.VALID:
            if day < self.granted_on:
                return LicenceStatus.UNKNOWN, f"not granted on {day}"
            if self.valid_upto < day:
                return LicenceStatus.EXPIRED, f"valid only up to {self.valid_upto}"
        return self.status, self.status_text

    def to_data(self, on: date | None = None) -> dict[str, Any]:
        """The registry's answer (`GET /licences/{number}`)."""
        data: dict[str, Any] = {
            "licence_no": self.licence_no,
            "licence_no_old_form": self.old_form,
            "status": self.status.value,
            "status_text": self.status_text,
            "status_since": None if self.status_since is None else self.status_since.isoformat(),
            "granted_on": self.granted_on.isoformat(),
            "valid_upto": self.valid_upto.isoformat(),
            "standards": list(self.standards),
            "product": self.product,
            "tariff_lines": list(self.tariff_lines),
            "licensee": self.licensee,
            "factory_address": self.factory_address,
            "sample_data": True,
        }
        if on is not None:
            status, why = self.status_on(on)
            data["status_on"] = {"date": on.isoformat(), "status": status.value, "reason": why}
        return data


def _licence(data: Mapping[str, Any]) -> Licence:
    number = canonical_licence_no(str(data["licence_no"]))
    if number is None:
        raise ValueError(f"not a CM/L licence number: {data['licence_no']!r}")
    since = data.get("status_since")
    return Licence(
        licence_no=number,
        status=LicenceStatus(data["status"]),
        status_text=str(data["status_text"]),
        status_since=None if since is None else date.fromisoformat(since),
        granted_on=date.fromisoformat(data["granted_on"]),
        valid_upto=date.fromisoformat(data["valid_upto"]),
        standards=tuple(data["standards"]),
        product=str(data["product"]),
        tariff_lines=tuple(data["tariff_lines"]),
        licensee=str(data["licensee"]),
        factory_address=str(data["factory_address"]),
    )


def read_licences(document: Mapping[str, Any]) -> dict[str, Licence]:
    """Licences by their 10-digit number, from the JSON document (`licences.json`)."""
    licences = [_licence(entry) for entry in document["licences"]]
    return {licence.licence_no: licence for licence in licences}


def load_licences(path: Path | None = None) -> dict[str, Licence]:
    """The sample licence set shipped with the registry, or the file at `path`."""
    if path is None:
        text = resources.files(__package__).joinpath("licences.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return read_licences(json.loads(text))
