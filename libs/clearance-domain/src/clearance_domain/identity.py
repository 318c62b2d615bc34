"""The identity of a Bill of Entry and the version an event is about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class BillOfEntryRef:
    """Custom house, BE number, BE date, and the version (1 as registered, +1 per
    accepted amendment, INTAKE-AMEND-1)."""

    port_code: str
    be_no: str
    be_date: date
    version: int = 1

    @property
    def key(self) -> str:
        """`<port_code>/<be_no>/<be_date>`: the Kafka key and CloudEvents subject of
        every event about the BE, whatever its version."""
        return f"{self.port_code}/{self.be_no}/{self.be_date.isoformat()}"

    @property
    def identity(self) -> tuple[str, str, date]:
        return self.port_code, self.be_no, self.be_date

    def next_version(self) -> BillOfEntryRef:
        return replace(self, version=self.version + 1)

    def at_version(self, version: int) -> BillOfEntryRef:
        return replace(self, version=version)

    def supersedes(self, other: BillOfEntryRef) -> bool:
        """True when this is a newer version of the same BE."""
        return self.identity == other.identity and self.version > other.version

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BillOfEntryRef:
        """From a contract `bill_of_entry_ref` (or a BE's identity fields plus version)."""
        return cls(
            port_code=str(data["port_code"]),
            be_no=str(data["be_no"]),
            be_date=date.fromisoformat(str(data["be_date"])),
            version=int(data.get("version", 1)),
        )

    @classmethod
    def from_key(cls, key: str, version: int = 1) -> BillOfEntryRef:
        """From `<port_code>/<be_no>/<be_date>`; ValueError when it is not one."""
        port_code, be_no, be_date = key.split("/")
        return cls(port_code, be_no, date.fromisoformat(be_date), version)

    def to_data(self) -> dict[str, Any]:
        return {
            "port_code": self.port_code,
            "be_no": self.be_no,
            "be_date": self.be_date.isoformat(),
            "version": self.version,
        }


Identity = tuple[str, str, date]


@dataclass
class VersionGate:
    """Lets through only what is about a BE's newest known version: a decision on a
    newer version supersedes, a late event about an older one changes nothing."""

    known: dict[Identity, int] = field(default_factory=dict)

    def admits(self, ref: BillOfEntryRef) -> bool:
        """True (and remember the version) unless a newer version is already known."""
        if ref.version < self.known.get(ref.identity, 0):
            return False
        self.known[ref.identity] = ref.version
        return True
