"""The duty a filer self-assesses on a BE (INTAKE-SA-1), in rupees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance_domain.money import Money


@dataclass(frozen=True, slots=True)
class Duty:
    """The filing's duty block. `paid` and `deferred_payment_otp_authenticated`
    are the filer's claims: payment facts come from the bank or the electronic
    cash ledger (INTAKE-DUTY-1), never from the filing."""

    assessable_value: Money
    total_duty: Money
    claimed_paid: bool
    claimed_deferred_otp: bool

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Duty:
        return cls(
            assessable_value=Money.rupees(data["assessable_value"]),
            total_duty=Money.rupees(data["total_duty"]),
            claimed_paid=bool(data["paid"]),
            claimed_deferred_otp=bool(data["deferred_payment_otp_authenticated"]),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "assessable_value": self.assessable_value.as_number(),
            "total_duty": self.total_duty.as_number(),
            "paid": self.claimed_paid,
            "deferred_payment_otp_authenticated": self.claimed_deferred_otp,
        }
