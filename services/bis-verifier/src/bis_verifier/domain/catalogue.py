"""The BIS coverage catalogue: which tariff lines fall under which BIS order (pure).

A policy (`bis-coverage-catalogue`, effective-dated and versioned, kept in
`bis_verifier/policies/*.json`, new versions added by an administrator without a
deploy). Its body names the orders (the Compulsory Registration Order for
electronics, BIS-CRS-*; Quality Control Orders, BIS-QCO-*) with the checks
each demands, and the tariff lines each covers: a CTH prefix, the product
category, the Indian Standards, the dates the coverage is in force, and
whether mapping that line to the category is sourced or assumed (no public
source maps 8-digit lines to CRO categories: shared/domain/bis/README.md).
The most specific line in force on the BE date decides; BIS-CRS-4: every
covered item is checked, not only CCTVs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from clearance_domain import Item

from bis_verifier.domain.matching import Standard, normal_form, standards_in


class Scheme(StrEnum):
    CRO = "CRO"  # Compulsory Registration Order: a registration R-########
    QCO = "QCO"  # a Quality Control Order: ISI mark under a CM/L licence


class Check(StrEnum):
    """What an order demands of each item it covers."""

    REGISTRATION = "registration"  # BIS-CRS-1..3
    CML_LICENCE = "cml_licence"  # BIS-QCO-1: licence valid for product and factory
    ISI_MARK = "isi_mark"  # BIS-QCO-1: the ISI mark declared
    CONFORMITY_CERTIFICATES = "conformity_certificates"  # BIS-QCO-2
    SAMPLING = "sampling"  # BIS-QCO-3: conditional clearance until the lab result


@dataclass(frozen=True, slots=True)
class CertificateRequirement:
    """One conformity certificate an order requires, and the standards it must attest."""

    name: str
    standards: tuple[Standard, ...]

    def met_by(self, attested: Sequence[Standard]) -> bool:
        return all(any(s.satisfies(required) for s in attested) for required in self.standards)


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    scheme: Scheme
    title: str
    checks: frozenset[Check]
    # The standards a CM/L licence must be against (their IS numbers), e.g. IS 9873.
    licence_standards: tuple[str, ...] = ()
    # Each a separate certificate: one document cannot stand for two (BIS-QCO-2).
    certificates: tuple[CertificateRequirement, ...] = ()


@dataclass(frozen=True, slots=True)
class TariffLine:
    cth: str  # a prefix of the 8-digit CTH, 2 to 8 digits
    order: Order
    category: str
    standards: tuple[str, ...]
    in_force_from: date
    in_force_until: date | None
    mapping: str  # sourced | assumed
    basis: str
    # When the heading is wider than the category (9405: lamps of every kind), the
    # item's description must name one of these words (LED).
    description_any: tuple[str, ...] = ()

    def covers(self, item: Item, on: date) -> bool:
        if not item.cth.startswith(self.cth):
            return False
        if on < self.in_force_from or (self.in_force_until and on >= self.in_force_until):
            return False
        if not self.description_any:
            return True
        description = normal_form(item.description)
        return any(normal_form(word) in description for word in self.description_any)

    def to_data(self) -> dict[str, Any]:
        """The `coverage` of an item result (clearance.bis-verification.completed.v1)."""
        return {
            "scheme": self.order.scheme.value,
            "order": self.order.title[:200],
            "category": self.category[:120],
            "standards": [standard[:60] for standard in self.standards],
            "mapping": self.mapping,
        }


@dataclass(frozen=True, slots=True)
class CoverageCatalogue:
    orders: Mapping[str, Order]
    lines: tuple[TariffLine, ...]

    def line_for(self, item: Item, on: date) -> TariffLine | None:
        """The most specific tariff line covering the item on the BE date, or None."""
        covering = [line for line in self.lines if line.covers(item, on)]
        return max(covering, key=lambda line: len(line.cth), default=None)

    @classmethod
    def from_data(cls, body: Mapping[str, Any]) -> CoverageCatalogue:
        """Read (and so validate) a policy body; KeyError/ValueError when malformed."""
        orders = {o["id"]: _order(o) for o in body["orders"]}
        lines = tuple(_line(line, orders) for line in body["tariff_lines"])
        for line in lines:
            if not (line.cth.isdigit() and 2 <= len(line.cth) <= 8):
                raise ValueError(f"tariff line {line.cth!r} is not 2 to 8 digits")
            if line.mapping not in ("sourced", "assumed"):
                raise ValueError(f"{line.cth}: mapping must be sourced or assumed")
        return cls(orders, lines)


EMPTY_CATALOGUE = CoverageCatalogue({}, ())


def _order(data: Mapping[str, Any]) -> Order:
    certificates = tuple(
        CertificateRequirement(c["name"], tuple(standards_in(c["standards"])))
        for c in data.get("conformity_certificates", ())
    )
    for requirement in certificates:
        if not requirement.standards:
            raise ValueError(f"certificate {requirement.name!r} names no Indian Standard")
    return Order(
        order_id=str(data["id"]),
        scheme=Scheme(data["scheme"]),
        title=str(data["title"]),
        checks=frozenset(Check(check) for check in data["checks"]),
        licence_standards=tuple(data.get("licence_standards", ())),
        certificates=certificates,
    )


def _line(data: Mapping[str, Any], orders: Mapping[str, Order]) -> TariffLine:
    until = data.get("in_force_until")
    return TariffLine(
        cth=str(data["cth"]),
        order=orders[data["order"]],
        category=str(data["category"]),
        standards=tuple(data.get("standards", ())),
        in_force_from=date.fromisoformat(data["in_force_from"]),
        in_force_until=None if until is None else date.fromisoformat(until),
        mapping=str(data["mapping"]),
        basis=str(data.get("basis", "")),
        description_any=tuple(data.get("description_any", ())),
    )
