"""warehouse-seal's policy kinds, and reading the version in force at an instant."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from clearance_domain import PolicyRef
from clearance_runtime.policies import PolicyBook, PolicyKind, PolicyNotInForce

from warehouse_seal.domain.policy import InForce, SealCircular, VendorList

T = TypeVar("T")

SEAL_CIRCULAR: PolicyKind[SealCircular] = PolicyKind(
    "seal-circular",
    SealCircular.parse,
    "RFID one-time-lock sealing of warehoused goods (Circular 19/2018, re-issued 25/2020)",
)
SEAL_VENDORS: PolicyKind[VendorList] = PolicyKind(
    "rfid-seal-vendors", VendorList.parse, "RFID seal vendors whose seals may be used (SAMPLE DATA)"
)
POLICY_KINDS = (SEAL_CIRCULAR, SEAL_VENDORS)


def in_force(book: PolicyBook, kind: PolicyKind[T], at: date | datetime) -> InForce[T] | None:
    """SEAL-POLICY-1: the version in force at `at`, or None when none was."""
    try:
        policy = book.in_force(kind, at)
    except PolicyNotInForce:
        return None
    return InForce(policy.body, PolicyRef(policy.policy_id, policy.version))
