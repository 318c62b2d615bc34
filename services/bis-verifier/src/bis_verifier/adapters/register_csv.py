"""The BIS-CRS register read from its CSV export (the real 9,011-row register)."""

from __future__ import annotations

import csv
from pathlib import Path

from bis_verifier.domain.register import Registration, normalise_status, parse_register_date


class CsvRegister:
    """Registrations by number, loaded once at start-up (about 9,000 rows)."""

    def __init__(self, path: Path) -> None:
        with path.open(newline="", encoding="utf-8") as handle:
            self._by_number = {
                row["Registration Number"].strip(): Registration(
                    number=row["Registration Number"].strip(),
                    status=normalise_status(row["Status"]),
                    status_text=row["Status"].strip(),
                    valid_upto=parse_register_date(row["Valid Upto"]),
                    product=row["Product"],
                    brand=row["Brand"],
                    manufacturer_and_factory=row["Name Factory Address"],
                )
                for row in csv.DictReader(handle)
            }

    def __len__(self) -> int:
        return len(self._by_number)

    def lookup(self, number: str) -> Registration | None:
        return self._by_number.get(number.strip().upper())
