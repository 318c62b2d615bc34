"""What warehouse-seal's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from clearance_domain import Reason
from clearance_runtime.unit_of_work import UnitOfWork

from warehouse_seal.domain.movements import Exemption
from warehouse_seal.domain.reconciliation import Bill
from warehouse_seal.domain.seals import Sale
from warehouse_seal.domain.trips import Trip


class SealRecords(Protocol):
    """The seal registry, the trips, the warehousing BEs and who declared which seal.

    Reads return what is stored (and not yet overwritten in this transaction);
    writes are applied at commit. `lock` serialises the transactions that touch
    the same seals or BEs (one call per transaction, every subject at once)."""

    async def lock(self, subjects: Sequence[str]) -> None: ...

    async def sales(self, seal_nos: Sequence[str]) -> dict[str, Sale]: ...

    async def trips(self, seal_nos: Sequence[str]) -> dict[str, Trip]: ...

    async def claims(self, seal_nos: Sequence[str]) -> dict[str, str]:
        """Seal number -> key of the first BE that declared it."""
        ...

    async def bills(self, keys: Sequence[str]) -> dict[str, Bill]: ...

    async def exemptions(self, keys: Sequence[str]) -> dict[str, Exemption]: ...

    def add_sale(self, sale: Sale) -> None: ...

    def save_trip(self, trip: Trip) -> None: ...

    def add_claim(self, seal_no: str, key: str) -> None: ...

    def save_bill(self, bill: Bill) -> None: ...

    def save_exemption(self, key: str, exemption: Exemption) -> None: ...

    def add_refusal(
        self, seal_no: str, what: str, reasons: list[Reason], payload: Any, at: datetime
    ) -> None: ...


class SealUnitOfWork(UnitOfWork, Protocol):
    @property
    def seals(self) -> SealRecords: ...
