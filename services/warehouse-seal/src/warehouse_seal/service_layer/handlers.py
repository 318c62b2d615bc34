"""What warehouse-seal does when a warehousing BE, a seal sale, a sealing or a reader's
scan arrives, when a timer falls due, and when an officer or a vendor calls over HTTP.

Every entry point hands a `Fact` to the transaction's one settlement
(`settlement.settle`), which applies the batch's facts together and reconciles
the BEs they touch once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    RFID_SEAL_AFFIXED,
    RFID_SEAL_SCANNED,
    RFID_SEAL_SOLD,
)
from clearance_domain import BillOfEntry, BillOfEntryRef
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.policies import PolicyBook
from clearance_runtime.timers import Timer, TimerHandler
from clearance_runtime.unit_of_work import Collected

from warehouse_seal.domain.reconciliation import needs_seal
from warehouse_seal.service_layer.settlement import (
    ACKNOWLEDGEMENT_TIMER,
    DELAY_TIMER,
    SALE_WAIT_TIMER,
    Fact,
    settle,
)
from warehouse_seal.service_layer.unit_of_work import SealUnitOfWork

_SETTLE = "warehouse-seal.settle"


def submit(uow: SealUnitOfWork, policies: PolicyBook, fact: Fact) -> Fact:
    """Hand a fact to the transaction's settlement; its outcome is known after commit."""

    async def step(uow: Any, collected: Collected) -> None:
        await settle(uow, policies, collected)

    uow.collect(_SETTLE, fact, step)
    return fact


def handlers(policies: PolicyBook) -> dict[str, Handler]:
    """The handler table, with the policies (SEAL-POLICY-1) injected."""

    async def on_registered(event: CloudEvent, uow: SealUnitOfWork) -> None:
        """SEAL-FMT-1, SEAL-DATA-1, SEAL-LINK-1, OOC-WH-1: a warehousing BE version."""
        bill_of_entry = BillOfEntry.from_data(event.data["bill_of_entry"])
        if not needs_seal(bill_of_entry):
            return
        ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
        submit(uow, policies, Fact("registered", (ref, bill_of_entry)))

    async def on_sold(event: CloudEvent, uow: SealUnitOfWork) -> None:
        """SEAL-FMT-1, SEAL-LINK-1: a vendor's sale into the seal registry."""
        submit(uow, policies, Fact("sold", dict(event.data)))

    async def on_affixed(event: CloudEvent, uow: SealUnitOfWork) -> None:
        """SEAL-DATA-1..3: a movement sealed, with its data elements."""
        submit(uow, policies, Fact("affixed", dict(event.data)))

    async def on_scanned(event: CloudEvent, uow: SealUnitOfWork) -> None:
        """SEAL-TRIP-1, SEAL-TAMPER-1, SEAL-TAMPER-2: a reader's scan."""
        submit(uow, policies, Fact("scanned", dict(event.data)))

    return {
        BILL_OF_ENTRY_REGISTERED: on_registered,
        RFID_SEAL_SOLD: on_sold,
        RFID_SEAL_AFFIXED: on_affixed,
        RFID_SEAL_SCANNED: on_scanned,
    }


def timer_handlers(policies: PolicyBook) -> Mapping[str, TimerHandler]:
    """SEAL-DELAY-1, SEAL-ACK-1, OOC-WH-1: timers as rows, fired once."""

    def fire(kind: str) -> TimerHandler:
        async def on_timer(timer: Timer, uow: SealUnitOfWork) -> None:
            submit(uow, policies, Fact("timer", (kind, timer.key, dict(timer.payload))))

        return on_timer

    return {kind: fire(kind) for kind in (DELAY_TIMER, ACKNOWLEDGEMENT_TIMER, SALE_WAIT_TIMER)}


Submit = Callable[[SealUnitOfWork, Fact], Fact]
