"""RFID one-time-lock seals and the vendors' seal registry (pure).

SEAL-FMT-1: a seal number is `ABCD XXXX XXXX`, the vendor's four-letter brand
and eight digits, unique and used once (para 4.2(ii)(a): "a one-time-lock
bearing a unique serial number"). SEAL-LINK-1: at the sale the vendor captures
the seal's TID and links it to the licensee's warehouse code (para 4.5(e)). A
seal of a brand that is not on the vendor list in force is refused (para 4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearance_domain import PolicyRef, Reason

from warehouse_seal.domain.policy import InForce, VendorList

_SEAL_NUMBER = re.compile(r"^([A-Z]{4}) ?([0-9]{4}) ?([0-9]{4})$")
_TID = re.compile(r"^[0-9A-F]{8,64}$")
_WAREHOUSE_CODE = re.compile(r"^[A-Z0-9]{1,8}$")


class Refused(ValueError):
    """What was asked breaks the rules; `reasons` say which and why."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__("; ".join(f"{r.rule_id}: {r.message}" for r in reasons))
        self.reasons = reasons


def seal_number(text: str) -> str | None:
    """SEAL-FMT-1: the seal number in its written form `ABCD 1234 5678`, or None
    when it is not one (spaces between the groups may be left out)."""
    match = _SEAL_NUMBER.fullmatch(text.strip())
    return None if match is None else " ".join(match.groups())


def brand_of(seal_no: str) -> str:
    return seal_no[:4]


def tid_of(text: str) -> str | None:
    """A TID as upper-case hexadecimal (at least 32 bits, ISO/IEC 18000-6C), or None."""
    compact = text.strip().upper().removeprefix("0X").replace(" ", "").replace(":", "")
    return compact if _TID.fullmatch(compact) else None


def format_reason(text: str) -> Reason:
    return Reason.of("SEAL-FMT-1", f"seal {text!r} is not of the form ABCD XXXX XXXX")


@dataclass(frozen=True, slots=True)
class Sale:
    """A seal sold to a licensee: its TID linked to the licensee's warehouse (SEAL-LINK-1)."""

    seal_no: str
    tid: str
    vendor_brand: str
    warehouse_code: str
    sold_at: datetime
    vendor_name: str | None = None
    licensee_name: str | None = None
    policy: PolicyRef | None = None

    def same_sale(self, other: Sale) -> bool:
        """The same sale reported again (a re-sent event, a file uploaded twice)."""
        return (self.tid, self.warehouse_code, self.vendor_brand) == (
            other.tid,
            other.warehouse_code,
            other.vendor_brand,
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "seal_no": self.seal_no,
            "tid": self.tid,
            "vendor_brand": self.vendor_brand,
            "vendor_name": self.vendor_name,
            "warehouse_code": self.warehouse_code,
            "licensee_name": self.licensee_name,
            "sold_at": self.sold_at.isoformat(),
            "policy": None if self.policy is None else self.policy.to_data(),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Sale:
        policy = data.get("policy")
        return cls(
            seal_no=str(data["seal_no"]),
            tid=str(data["tid"]),
            vendor_brand=str(data["vendor_brand"]),
            warehouse_code=str(data["warehouse_code"]),
            sold_at=datetime.fromisoformat(str(data["sold_at"])),
            vendor_name=data.get("vendor_name"),
            licensee_name=data.get("licensee_name"),
            policy=PolicyRef.from_data(policy) if policy else None,
        )


def sale_from(data: Mapping[str, Any], vendors: InForce[VendorList] | None) -> Sale:
    """SEAL-FMT-1, SEAL-LINK-1: a vendor's sale (the data of `vendor.rfid-seal.sold.v1`)
    as a registry entry, or `Refused` with every rule it breaks."""
    reasons: list[Reason] = []
    seal_no = seal_number(str(data["seal_no"]))
    if seal_no is None:
        reasons.append(format_reason(str(data["seal_no"])))
    tid = tid_of(str(data["tid"]))
    if tid is None:
        reasons.append(
            Reason.of("SEAL-LINK-1", f"TID {data['tid']!r} is not a hexadecimal tag identifier")
        )
    brand = str(data["vendor_brand"]).strip().upper()
    if seal_no is not None and brand_of(seal_no) != brand:
        reasons.append(
            Reason.of("SEAL-FMT-1", f"seal {seal_no} does not bear the vendor's brand {brand}")
        )
    warehouse_code = str(data["warehouse_code"]).strip().upper()
    if not _WAREHOUSE_CODE.fullmatch(warehouse_code):
        reasons.append(
            Reason.of("SEAL-LINK-1", f"warehouse code {warehouse_code!r} is not an ICES code (C8)")
        )
    sold_at = datetime.fromisoformat(str(data["sold_at"]))
    if vendors is None:
        reasons.append(Reason.of("SEAL-POLICY-1", f"no list of RFID seal vendors on {sold_at}"))
    elif not vendors.body.lists(brand):
        reasons.append(
            Reason.of(
                "SEAL-FMT-1",
                f"brand {brand} is not a listed RFID seal vendor (Circular 19/2018 para 4)",
                policy=vendors.ref,
            )
        )
    if reasons or seal_no is None or tid is None or vendors is None:
        raise Refused(reasons)
    return Sale(
        seal_no=seal_no,
        tid=tid,
        vendor_brand=brand,
        warehouse_code=warehouse_code,
        sold_at=sold_at,
        vendor_name=data.get("vendor_name") or vendors.body.vendors.get(brand),
        licensee_name=data.get("licensee_name"),
        policy=vendors.ref,
    )


def register(sale: Sale, known: Sale | None) -> bool:
    """SEAL-FMT-1 (unique, single use): True to record the sale, False for the same
    sale again; `Refused` when the number was already sold otherwise."""
    if known is None:
        return True
    if known.same_sale(sale):
        return False
    raise Refused(
        [
            Reason.of(
                "SEAL-FMT-1",
                f"seal {sale.seal_no} was already sold (TID {known.tid}, warehouse "
                f"{known.warehouse_code}): a seal number is unique and the seal single use",
            )
        ]
    )
