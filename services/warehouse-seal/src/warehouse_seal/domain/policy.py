"""The seal rules as effective-dated policies (SEAL-POLICY-1), read into typed values.

`seal-circular`: what Circular 19/2018-Customs prescribes (in force from
1 August 2018, para 6; rescinded and re-issued by Circular 25/2020-Customs of
18 May 2020), plus the figures the circular leaves to the administration
(how long is an "inordinate" delay, how long to wait for a vendor's sale
record, the interest rate), each marked as configuration in the policy file.
`rfid-seal-vendors`: the vendors whose seals may be used (para 4: "vendors
whose names appear in the list placed on the website of the CBIC"); the list
is not among the sources, so the file is SAMPLE DATA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from clearance_domain import PolicyRef

T = TypeVar("T")

EXEMPTION_GROUNDS = frozenset({"customs_escort", "commissioner_permission"})


@dataclass(frozen=True, slots=True)
class SealCircular:
    """The body of a `seal-circular` version."""

    circular: str
    rfid_seal_required: bool
    acknowledgement_period_months: int
    inordinate_delay_hours: float
    sale_record_wait_hours: float
    interest_rate_percent: Decimal
    exemption_grounds: frozenset[str]

    @classmethod
    def parse(cls, body: Any) -> SealCircular:
        if not isinstance(body, Mapping):
            raise ValueError("a seal-circular body is an object")
        circular = cls(
            circular=str(body["circular"]),
            rfid_seal_required=bool(body["rfid_seal_required"]),
            acknowledgement_period_months=int(body["acknowledgement_period_months"]),
            inordinate_delay_hours=float(body["inordinate_delay_hours"]),
            sale_record_wait_hours=float(body["sale_record_wait_hours"]),
            interest_rate_percent=Decimal(str(body["interest_rate_percent"])),
            exemption_grounds=frozenset(body["exemption_grounds"]),
        )
        if circular.acknowledgement_period_months < 1 or circular.inordinate_delay_hours <= 0:
            raise ValueError("the acknowledgement period and the delay must be positive")
        if not circular.exemption_grounds <= EXEMPTION_GROUNDS:
            raise ValueError(f"exemption grounds are among {sorted(EXEMPTION_GROUNDS)}")
        return circular


@dataclass(frozen=True, slots=True)
class VendorList:
    """The body of a `rfid-seal-vendors` version: brand -> vendor name."""

    vendors: Mapping[str, str]

    @classmethod
    def parse(cls, body: Any) -> VendorList:
        if not isinstance(body, Mapping) or not isinstance(body.get("vendors"), list):
            raise ValueError("a rfid-seal-vendors body is {vendors: [{brand, name}]}")
        vendors = {str(v["brand"]).upper(): str(v["name"]) for v in body["vendors"]}
        if any(len(brand) != 4 or not brand.isalpha() for brand in vendors):
            raise ValueError("a vendor brand is four letters (SEAL-FMT-1)")
        return cls(vendors)

    def lists(self, brand: str) -> bool:
        return brand.upper() in self.vendors


@dataclass(frozen=True, slots=True)
class InForce(Generic[T]):
    """A policy body and the version it came from (cited in every reason)."""

    body: T
    ref: PolicyRef
