"""Money as Decimal with its currency; duty and charges are in Indian rupees."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RUPEE = "INR"
_PAISE = Decimal("0.01")


def decimal_of(value: float | int | str | Decimal) -> Decimal:
    """A JSON number as a Decimal without binary noise (`38.5` -> `Decimal('38.5')`)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount: Decimal
    currency: str = RUPEE

    @classmethod
    def rupees(cls, value: float | int | str | Decimal) -> Money:
        return cls(decimal_of(value), RUPEE)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    def in_paise(self) -> Money:
        """Rounded to the paisa, half up (as a challan shows it)."""
        return Money(self.amount.quantize(_PAISE, rounding=ROUND_HALF_UP), self.currency)

    def whole_rupees(self) -> Money:
        """Rounded to the rupee, half up (late charges are levied in whole rupees)."""
        return Money(self.amount.quantize(Decimal(1), rounding=ROUND_HALF_UP), self.currency)

    def converted(self, rate: Decimal, currency: str = RUPEE) -> Money:
        """At an exchange rate of `rate` units of `currency` per unit of this one."""
        return Money(self.amount * rate, currency)

    def as_number(self) -> float:
        """For a JSON body: the contracts carry amounts as JSON numbers."""
        return float(self.amount)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")
