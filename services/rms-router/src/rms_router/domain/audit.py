"""The audit trail (pure values): everything the engine or an officer decides about a
BE (or about the Shipping Bill of a tampered export, SEAL-TAMPER-1), appended with
who, when, which version and why; never updated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clearance_domain import BillOfEntryRef, Reason

from rms_router.domain.work import BILL_OF_ENTRY

#: The actor of what the risk engine and rms-router's own timers do.
ENGINE = "rms-router"
CLAIM_TIMER = "rms-router:claim-timer"

# What an entry records.
DECIDED = "decided"
TASK_OPENED = "task_opened"
TASK_REOPENED = "task_reopened"
TASK_CARRIED = "task_carried_to_version"
TASK_WITHDRAWN = "task_withdrawn"
CLAIMED = "claimed"
CLAIM_RELEASED = "claim_released"
CLAIM_EXPIRED = "claim_expired"
ASSESSMENT_RECORDED = "assessment_recorded"
EXAMINATION_RECORDED = "examination_recorded"
PGA_NOC_RECORDED = "pga_noc_recorded"
INVALIDATED = "invalidated"
SEAL_TAMPERED = "seal_tampered_at_export"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ref: BillOfEntryRef  # the BE and the version concerned
    at: datetime
    actor: str  # the officer's subject, or the engine
    action: str
    reasons: tuple[Reason, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: bill_of_entry, or shipping_bill for the examination of a tampered export (SEAL-TAMPER-1)
    document: str = BILL_OF_ENTRY
