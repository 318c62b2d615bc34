"""The customs vocabulary every service speaks, as typed values (pure; no I/O).

Services parse an event's data once, at the edge, into these values (dates as
dates, money as Decimal rupees, enums for codes) and render their events from
them; the contract TypedDicts in `clearance_contracts.models` stay the schemas'
mirror. A shared kernel, not a service: it knows no topic, table or service.
"""

from clearance_domain.bill_of_entry import (
    BillOfEntry,
    Container,
    HouseBill,
    Igm,
    Invoice,
    Item,
    SupportingDocument,
)
from clearance_domain.codes import AeoTier, BeType, ModeOfTransport
from clearance_domain.duty import Duty
from clearance_domain.identity import BillOfEntryRef, Identity, VersionGate
from clearance_domain.money import Money
from clearance_domain.reasons import PolicyRef, Reason

__all__ = [
    "AeoTier",
    "BeType",
    "BillOfEntry",
    "BillOfEntryRef",
    "Container",
    "Duty",
    "HouseBill",
    "Identity",
    "Igm",
    "Invoice",
    "Item",
    "ModeOfTransport",
    "Money",
    "PolicyRef",
    "Reason",
    "SupportingDocument",
    "VersionGate",
]
