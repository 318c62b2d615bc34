"""What the risk rules look at: one BE version and its context, as typed facts (pure).

The facts join what rms-router learns per BE version: the registered BE from
be-intake (the importer's AEO certificate from the AEO directory, amendment
information), the BIS verdict from bis-verifier (which carries the BE), the
importer's history of examinations and discrepancies (kept by rms-router from
its officers' results), and a tampered export seal reported by warehouse-seal
(SEAL-TAMPER-1). The filer's own claims (its AEO tier) decide nothing.

Facts are stored with each decision (`to_data`), so any decision can be
replayed against the rule-set version it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from clearance_domain import BillOfEntryRef
from clearance_domain.assessment_routing import item_value
from clearance_domain.money import decimal_of

from rms_router.domain.rule_set import RuleSet

#: `importer.aeo_status` when the registered BE carried no AEO information at all
#: (a be-intake that does not look the certificate up yet).
UNREPORTED = "unreported"
NO_CERTIFICATE = "none"


@dataclass(frozen=True, slots=True)
class ItemFacts:
    sl_no: int
    cth: str
    country_of_origin: str
    value: Decimal  # invoice currency

    def to_data(self) -> dict[str, Any]:
        return {
            "sl_no": self.sl_no,
            "cth": self.cth,
            "country_of_origin": self.country_of_origin,
            "value": str(self.value),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ItemFacts:
        return cls(
            int(data["sl_no"]), data["cth"], data["country_of_origin"], Decimal(data["value"])
        )


@dataclass(frozen=True, slots=True)
class History:
    """The importer's record, kept by rms-router from its officers' results."""

    examinations: int = 0
    discrepancies: int = 0
    reassessments: int = 0
    refused_nocs: int = 0

    def to_data(self) -> dict[str, int]:
        return {
            "examinations": self.examinations,
            "discrepancies": self.discrepancies,
            "reassessments": self.reassessments,
            "refused_nocs": self.refused_nocs,
        }


@dataclass(frozen=True, slots=True)
class RiskFacts:
    ref: BillOfEntryRef
    iec: str
    be_type: str
    mode_of_transport: str
    first_check: bool
    prior_be: bool
    customs_broker_code: str | None
    country_of_origin: str | None
    country_of_consignment: str | None
    port_of_shipment: str | None
    containerised: bool
    assessable_value: Decimal
    total_duty: Decimal
    items: tuple[ItemFacts, ...]
    aeo_status: str = UNREPORTED
    aeo_certificate_no: str | None = None
    history: History = field(default_factory=History)
    bis_verdict: str = "not_applicable"
    bis_sampling: bool = False
    amendment_no: int = 0
    assessment_invalidated: bool = False
    after_out_of_charge: bool = False
    tampered_at_export: bool = False

    @classmethod
    def of(
        cls,
        ref: BillOfEntryRef,
        bill_of_entry: Mapping[str, Any],
        registered: Mapping[str, Any],
        bis: Mapping[str, Any],
        history: History | None = None,
        tampered_at_export: bool = False,
    ) -> RiskFacts:
        """The facts of a BE version from the contract's `bill_of_entry` (validated by the
        consumer; only what the rules read is taken, as typed values), its registration
        part (`aeo_reported`, `aeo_certificate`, `amendment` of
        `clearance.bill-of-entry.registered.v1`) and its BIS part (`verdict`, `sampling`)."""
        be = bill_of_entry
        status, certificate_no = aeo_standing(be["iec"], ref.be_date, registered)
        amendment = registered.get("amendment") or {}
        duty = be["duty"]
        return cls(
            ref=ref,
            iec=be["iec"],
            be_type=be["be_type"],
            mode_of_transport=be["mode_of_transport"],
            first_check=bool(be["first_check"]),
            prior_be=bool(be["prior_be"]),
            customs_broker_code=be.get("customs_broker_code"),
            country_of_origin=be.get("country_of_origin"),
            country_of_consignment=be.get("country_of_consignment"),
            port_of_shipment=be.get("port_of_shipment"),
            containerised=bool(be.get("containers")),
            assessable_value=decimal_of(duty["assessable_value"]),
            total_duty=decimal_of(duty["total_duty"]),
            items=tuple(
                ItemFacts(
                    int(item["item_sl_no"]),
                    item["cth"],
                    item["country_of_origin"],
                    item_value(item),
                )
                for invoice in be["invoices"]
                for item in invoice["items"]
            ),
            aeo_status=status,
            aeo_certificate_no=certificate_no,
            history=history or History(),
            bis_verdict=str(bis.get("verdict", "not_applicable")),
            bis_sampling=bool(bis.get("sampling")),
            amendment_no=int(amendment.get("amendment_no", 0)),
            assessment_invalidated=bool(amendment.get("assessment_invalidated", False)),
            after_out_of_charge=bool(amendment.get("after_out_of_charge", False)),
            tampered_at_export=tampered_at_export,
        )

    def with_context(self, history: History, tampered_at_export: bool) -> RiskFacts:
        return replace(self, history=history, tampered_at_export=tampered_at_export)

    @property
    def transshipped(self) -> bool:
        origin, consignment = self.country_of_origin, self.country_of_consignment
        return bool(origin and consignment and origin != consignment)

    def for_conditions(self, rule_set: RuleSet) -> dict[str, Any]:
        """The facts under the field names of the condition language."""
        return {
            "be.port_code": self.ref.port_code,
            "be.type": self.be_type,
            "be.mode_of_transport": self.mode_of_transport,
            "be.first_check": self.first_check,
            "be.prior_be": self.prior_be,
            "be.version": self.ref.version,
            "be.customs_broker_code": self.customs_broker_code,
            "be.country_of_origin": self.country_of_origin,
            "be.country_of_consignment": self.country_of_consignment,
            "be.port_of_shipment": self.port_of_shipment,
            "be.transshipped": self.transshipped,
            "be.containerised": self.containerised,
            "be.item_count": len(self.items),
            "value.assessable_inr": self.assessable_value,
            "value.duty_inr": self.total_duty,
            "importer.iec": self.iec,
            "importer.aeo_status": self.aeo_status,
            "importer.examinations": self.history.examinations,
            "importer.discrepancies": self.history.discrepancies,
            "importer.reassessments": self.history.reassessments,
            "importer.refused_nocs": self.history.refused_nocs,
            "bis.verdict": self.bis_verdict,
            "bis.sampling": self.bis_sampling,
            "amendment.number": self.amendment_no,
            "amendment.assessment_invalidated": self.assessment_invalidated,
            "amendment.after_out_of_charge": self.after_out_of_charge,
            "seal.tampered_at_export": self.tampered_at_export,
            "items": [
                {
                    "item.sl_no": item.sl_no,
                    "item.cth": item.cth,
                    "item.chapter": item.cth[:2],
                    "item.heading": item.cth[:4],
                    "item.country_of_origin": item.country_of_origin,
                    "item.value": item.value,
                    "item.partner_agencies": rule_set.agencies_for(item.cth),
                }
                for item in self.items
            ],
        }

    def to_data(self) -> dict[str, Any]:
        """JSON for the decision record (replays read it back with `from_data`)."""
        return {
            "bill_of_entry_ref": self.ref.to_data(),
            "iec": self.iec,
            "be_type": self.be_type,
            "mode_of_transport": self.mode_of_transport,
            "first_check": self.first_check,
            "prior_be": self.prior_be,
            "customs_broker_code": self.customs_broker_code,
            "country_of_origin": self.country_of_origin,
            "country_of_consignment": self.country_of_consignment,
            "port_of_shipment": self.port_of_shipment,
            "containerised": self.containerised,
            "assessable_value": str(self.assessable_value),
            "total_duty": str(self.total_duty),
            "items": [item.to_data() for item in self.items],
            "aeo_status": self.aeo_status,
            "aeo_certificate_no": self.aeo_certificate_no,
            "history": self.history.to_data(),
            "bis_verdict": self.bis_verdict,
            "bis_sampling": self.bis_sampling,
            "amendment_no": self.amendment_no,
            "assessment_invalidated": self.assessment_invalidated,
            "after_out_of_charge": self.after_out_of_charge,
            "tampered_at_export": self.tampered_at_export,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RiskFacts:
        return cls(
            ref=BillOfEntryRef.from_data(data["bill_of_entry_ref"]),
            iec=data["iec"],
            be_type=data["be_type"],
            mode_of_transport=data["mode_of_transport"],
            first_check=data["first_check"],
            prior_be=data["prior_be"],
            customs_broker_code=data["customs_broker_code"],
            country_of_origin=data["country_of_origin"],
            country_of_consignment=data["country_of_consignment"],
            port_of_shipment=data["port_of_shipment"],
            containerised=data["containerised"],
            assessable_value=Decimal(data["assessable_value"]),
            total_duty=Decimal(data["total_duty"]),
            items=tuple(ItemFacts.from_data(item) for item in data["items"]),
            aeo_status=data["aeo_status"],
            aeo_certificate_no=data["aeo_certificate_no"],
            history=History(**data["history"]),
            bis_verdict=data["bis_verdict"],
            bis_sampling=data["bis_sampling"],
            amendment_no=data["amendment_no"],
            assessment_invalidated=data["assessment_invalidated"],
            after_out_of_charge=data["after_out_of_charge"],
            tampered_at_export=data["tampered_at_export"],
        )


def aeo_standing(iec: str, be_date: date, registered: Mapping[str, Any]) -> tuple[str, str | None]:
    """The importer's AEO status from the certificate on the registered BE (OOC-AUTO-1:
    the directory's certificate, never the filing's `aeo_tier`), and its number.

    A certificate of another IEC, or not valid on the BE date, counts as none.
    """
    if not registered.get("aeo_reported", False):
        return UNREPORTED, None
    certificate = registered.get("aeo_certificate")
    if not certificate:
        return NO_CERTIFICATE, None
    valid_from = date.fromisoformat(certificate["valid_from"])
    valid_to = date.fromisoformat(certificate["valid_to"])
    if certificate["iec"] != iec or not (valid_from <= be_date <= valid_to):
        return NO_CERTIFICATE, None
    return str(certificate["tier"]), str(certificate["certificate_no"])


def registration_part(registered_event: Mapping[str, Any]) -> dict[str, Any]:
    """What rms-router keeps of a `clearance.bill-of-entry.registered.v1` (the BE itself
    comes again with the BIS verdict)."""
    return {
        "aeo_reported": "aeo_certificate" in registered_event,
        "aeo_certificate": registered_event.get("aeo_certificate"),
        "amendment": registered_event.get("amendment"),
    }


def verification_part(verdict_event: Mapping[str, Any]) -> dict[str, Any]:
    """What rms-router keeps of a `clearance.bis-verification.completed.v1`."""
    sampling = verdict_event.get("sampling")
    return {"verdict": verdict_event["verdict"], "sampling": bool(sampling and sampling["items"])}
