"""The canonical Bill of Entry (ICES 1.5 CACHI01) as typed values.

`BillOfEntry.from_data` parses the contract's `bill_of_entry` once at the edge;
`to_data` renders it back. Optional fields absent from the data stay absent
(None) when rendered; nullable ones render as null. So
`BillOfEntry.from_data(be.to_data()) == be` for every BE, and data rendered
from a parsed BE equals the data with its nullable fields made explicit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from clearance_domain.codes import AeoTier, BeType, ModeOfTransport
from clearance_domain.duty import Duty
from clearance_domain.identity import BillOfEntryRef
from clearance_domain.money import decimal_of


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _number(value: Decimal) -> float | int:
    """A Decimal for a JSON body: an int when whole and written as one, else a float."""
    return (
        int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    )


def _optional(data: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """`data` plus the fields that are not None (optional, not nullable, in the schema)."""
    data.update({name: value for name, value in fields.items() if value is not None})
    return data


@dataclass(frozen=True, slots=True)
class Igm:
    """ICES <TABLE>IGMS: the manifest the goods arrived under."""

    igm_no: str
    igm_date: date
    inward_date: date | None = None
    gateway_port_code: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Igm:
        return cls(
            igm_no=str(data["igm_no"]),
            igm_date=date.fromisoformat(data["igm_date"]),
            inward_date=_date(data.get("inward_date")),
            gateway_port_code=data.get("gateway_port_code"),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "igm_no": self.igm_no,
            "igm_date": self.igm_date.isoformat(),
            "inward_date": _iso(self.inward_date),
            "gateway_port_code": self.gateway_port_code,
        }


@dataclass(frozen=True, slots=True)
class HouseBill:
    """ICES <TABLE>IGMS fields 13-20: a bill of lading / airway bill line."""

    master_bill_no: str
    master_bill_date: date
    house_bill_no: str | None = None
    house_bill_date: date | None = None
    package_count: int | None = None
    package_code: str | None = None
    gross_weight: Decimal | None = None
    gross_weight_unit: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> HouseBill:
        weight = data.get("gross_weight")
        return cls(
            master_bill_no=data["master_bill_no"],
            master_bill_date=date.fromisoformat(data["master_bill_date"]),
            house_bill_no=data.get("house_bill_no"),
            house_bill_date=_date(data.get("house_bill_date")),
            package_count=data.get("package_count"),
            package_code=data.get("package_code"),
            gross_weight=None if weight is None else decimal_of(weight),
            gross_weight_unit=data.get("gross_weight_unit"),
        )

    def to_data(self) -> dict[str, Any]:
        data = {
            "master_bill_no": self.master_bill_no,
            "master_bill_date": self.master_bill_date.isoformat(),
            "house_bill_no": self.house_bill_no,
            "house_bill_date": _iso(self.house_bill_date),
        }
        return _optional(
            data,
            package_count=self.package_count,
            package_code=self.package_code,
            gross_weight=None if self.gross_weight is None else _number(self.gross_weight),
            gross_weight_unit=self.gross_weight_unit,
        )


@dataclass(frozen=True, slots=True)
class Item:
    """ICES <TABLE>ITEMS: one item of an invoice."""

    item_sl_no: int
    cth: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    country_of_origin: str
    manufacturer: str | None = None
    brand: str | None = None
    model: str | None = None
    manufacturing_location: str | None = None
    # The importer declares the ISI Standard Mark on the goods (QCO goods, BIS-QCO-1).
    isi_mark: bool | None = None

    @property
    def chapter(self) -> str:
        return self.cth[:2]

    @property
    def heading(self) -> str:
        return self.cth[:4]

    @property
    def value(self) -> Decimal:
        """Quantity times unit price, in the invoice currency."""
        return self.quantity * self.unit_price

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            item_sl_no=int(data["item_sl_no"]),
            cth=data["cth"],
            description=data["description"],
            quantity=decimal_of(data["quantity"]),
            unit=data["unit"],
            unit_price=decimal_of(data["unit_price"]),
            country_of_origin=data["country_of_origin"],
            manufacturer=data.get("manufacturer"),
            brand=data.get("brand"),
            model=data.get("model"),
            manufacturing_location=data.get("manufacturing_location"),
            isi_mark=data.get("isi_mark"),
        )

    def to_data(self) -> dict[str, Any]:
        data = {
            "item_sl_no": self.item_sl_no,
            "cth": self.cth,
            "description": self.description,
            "quantity": _number(self.quantity),
            "unit": self.unit,
            "unit_price": _number(self.unit_price),
            "country_of_origin": self.country_of_origin,
        }
        return _optional(
            data,
            manufacturer=self.manufacturer,
            brand=self.brand,
            model=self.model,
            manufacturing_location=self.manufacturing_location,
            isi_mark=self.isi_mark,
        )


@dataclass(frozen=True, slots=True)
class Invoice:
    """ICES <TABLE>INVOICE with its items."""

    invoice_sl_no: int
    invoice_no: str
    invoice_date: date
    invoice_value: Decimal
    currency: str
    terms_of_invoice: str
    supplier_name: str
    items: tuple[Item, ...]
    supplier_address: str | None = None
    #: Rupees per unit of the invoice currency (ICES <TABLE>EXCHANGE 'Rate'), when given.
    exchange_rate: Decimal | None = None

    @property
    def value_in_rupees(self) -> Decimal | None:
        """The invoice value converted at its exchange rate (INR needs none); None without one."""
        if self.currency == "INR":
            return self.invoice_value
        if self.exchange_rate is None:
            return None
        return self.invoice_value * self.exchange_rate

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Invoice:
        rate = data.get("exchange_rate")
        return cls(
            invoice_sl_no=int(data["invoice_sl_no"]),
            invoice_no=data["invoice_no"],
            invoice_date=date.fromisoformat(data["invoice_date"]),
            invoice_value=decimal_of(data["invoice_value"]),
            currency=data["currency"],
            terms_of_invoice=data["terms_of_invoice"],
            supplier_name=data["supplier_name"],
            items=tuple(Item.from_data(item) for item in data["items"]),
            supplier_address=data.get("supplier_address"),
            exchange_rate=None if rate is None else decimal_of(rate),
        )

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "invoice_sl_no": self.invoice_sl_no,
            "invoice_no": self.invoice_no,
            "invoice_date": self.invoice_date.isoformat(),
            "invoice_value": _number(self.invoice_value),
            "currency": self.currency,
        }
        _optional(
            data,
            exchange_rate=None if self.exchange_rate is None else _number(self.exchange_rate),
        )
        data |= {
            "terms_of_invoice": self.terms_of_invoice,
            "supplier_name": self.supplier_name,
        }
        _optional(data, supplier_address=self.supplier_address)
        data["items"] = [item.to_data() for item in self.items]
        return data


@dataclass(frozen=True, slots=True)
class Container:
    """ICES <TABLE>CONTAINER: a container and its seal."""

    container_no: str
    seal_no: str
    fcl_lcl: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Container:
        return cls(data["container_no"], data["seal_no"], data.get("fcl_lcl"))

    def to_data(self) -> dict[str, Any]:
        data = {"container_no": self.container_no, "seal_no": self.seal_no}
        return _optional(data, fcl_lcl=self.fcl_lcl)


@dataclass(frozen=True, slots=True)
class SupportingDocument:
    """ICES <TABLE>SUPPORTINGDOCS: an e-Sanchit document (INTAKE-BE-1)."""

    document_type: str
    reference: str
    invoice_sl_no: int | None = None
    item_sl_no: int | None = None
    standards: tuple[str, ...] | None = None
    issued_by: str | None = None
    issued_on: date | None = None
    expires_on: date | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SupportingDocument:
        standards = data.get("standards")
        return cls(
            document_type=data["document_type"],
            reference=data["reference"],
            invoice_sl_no=data.get("invoice_sl_no"),
            item_sl_no=data.get("item_sl_no"),
            standards=None if standards is None else tuple(standards),
            issued_by=data.get("issued_by"),
            issued_on=_date(data.get("issued_on")),
            expires_on=_date(data.get("expires_on")),
        )

    def to_data(self) -> dict[str, Any]:
        data = {"document_type": self.document_type, "reference": self.reference}
        return _optional(
            data,
            invoice_sl_no=self.invoice_sl_no,
            item_sl_no=self.item_sl_no,
            standards=None if self.standards is None else list(self.standards),
            issued_by=self.issued_by,
            issued_on=_iso(self.issued_on),
            expires_on=_iso(self.expires_on),
        )


@dataclass(frozen=True, slots=True)
class BillOfEntry:
    """The declaration as filed. `aeo_tier` is the filer's claim: the AEO status
    that decides anything comes from the AEO directory (OOC-AUTO-1)."""

    port_code: str
    be_no: str
    be_date: date
    be_type: BeType
    iec: str
    mode_of_transport: ModeOfTransport
    prior_be: bool
    first_check: bool
    filed_at: datetime
    invoices: tuple[Invoice, ...]
    duty: Duty
    user_job_no: str | None = None
    user_job_date: date | None = None
    branch_sl_no: int | None = None
    importer_name: str | None = None
    importer_address: str | None = None
    importer_type: str | None = None
    customs_broker_code: str | None = None
    green_channel: bool | None = None
    warehouse_code: str | None = None
    custodian_code: str | None = None
    payment_method: str | None = None
    aeo_tier_claimed: AeoTier | None = None
    country_of_origin: str | None = None
    country_of_consignment: str | None = None
    port_of_shipment: str | None = None
    arrival_date: date | None = None
    igm: Igm | None = None
    house_bills: tuple[HouseBill, ...] | None = None
    containers: tuple[Container, ...] | None = None
    supporting_documents: tuple[SupportingDocument, ...] | None = None
    # Present in the data only when the filer set them (schema: optional and nullable).
    _explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def ref(self, version: int = 1) -> BillOfEntryRef:
        return BillOfEntryRef(self.port_code, self.be_no, self.be_date, version)

    @property
    def key(self) -> str:
        return self.ref().key

    @property
    def is_warehousing(self) -> bool:
        return self.be_type is BeType.WAREHOUSING

    def items(self) -> Iterator[Item]:
        """Every item of every invoice, in filing order."""
        for invoice in self.invoices:
            yield from invoice.items

    def documents(self, *document_types: str) -> list[SupportingDocument]:
        return [
            doc for doc in self.supporting_documents or () if doc.document_type in document_types
        ]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BillOfEntry:
        """Parse a contract `bill_of_entry` (already validated against its schema)."""
        tier, igm = data.get("aeo_tier"), data.get("igm")
        return cls(
            port_code=data["port_code"],
            be_no=data["be_no"],
            be_date=date.fromisoformat(data["be_date"]),
            be_type=BeType(data["be_type"]),
            iec=data["iec"],
            mode_of_transport=ModeOfTransport(data["mode_of_transport"]),
            prior_be=bool(data["prior_be"]),
            first_check=bool(data["first_check"]),
            filed_at=datetime.fromisoformat(data["filed_at"]),
            invoices=tuple(Invoice.from_data(invoice) for invoice in data["invoices"]),
            duty=Duty.from_data(data["duty"]),
            user_job_no=data.get("user_job_no"),
            user_job_date=_date(data.get("user_job_date")),
            branch_sl_no=data.get("branch_sl_no"),
            importer_name=data.get("importer_name"),
            importer_address=data.get("importer_address"),
            importer_type=data.get("importer_type"),
            customs_broker_code=data.get("customs_broker_code"),
            green_channel=data.get("green_channel"),
            warehouse_code=data.get("warehouse_code"),
            custodian_code=data.get("custodian_code"),
            payment_method=data.get("payment_method"),
            aeo_tier_claimed=None if tier is None else AeoTier(tier),
            country_of_origin=data.get("country_of_origin"),
            country_of_consignment=data.get("country_of_consignment"),
            port_of_shipment=data.get("port_of_shipment"),
            arrival_date=_date(data.get("arrival_date")),
            igm=None if igm is None else Igm.from_data(igm),
            house_bills=_tuple_of(HouseBill, data.get("house_bills")),
            containers=_tuple_of(Container, data.get("containers")),
            supporting_documents=_tuple_of(SupportingDocument, data.get("supporting_documents")),
            _explicit=frozenset(name for name in _NULLABLE if name in data),
        )

    def to_data(self) -> dict[str, Any]:
        """The contract's `bill_of_entry`."""
        data: dict[str, Any] = {
            "port_code": self.port_code,
            "be_no": self.be_no,
            "be_date": self.be_date.isoformat(),
        }
        _optional(data, user_job_no=self.user_job_no, user_job_date=_iso(self.user_job_date))
        data["be_type"] = self.be_type.value
        data["iec"] = self.iec
        _optional(
            data,
            branch_sl_no=self.branch_sl_no,
            importer_name=self.importer_name,
            importer_address=self.importer_address,
            importer_type=self.importer_type,
        )
        data["mode_of_transport"] = self.mode_of_transport.value
        _optional(data, customs_broker_code=self.customs_broker_code)
        data["prior_be"] = self.prior_be
        data["first_check"] = self.first_check
        _optional(data, green_channel=self.green_channel)
        self._nullable(data, "warehouse_code", self.warehouse_code)
        self._nullable(data, "custodian_code", self.custodian_code)
        _optional(data, payment_method=self.payment_method)
        tier = None if self.aeo_tier_claimed is None else self.aeo_tier_claimed.value
        self._nullable(data, "aeo_tier", tier)
        _optional(
            data,
            country_of_origin=self.country_of_origin,
            country_of_consignment=self.country_of_consignment,
            port_of_shipment=self.port_of_shipment,
        )
        self._nullable(data, "arrival_date", _iso(self.arrival_date))
        data["filed_at"] = self.filed_at.isoformat()
        self._nullable(data, "igm", None if self.igm is None else self.igm.to_data())
        _optional(data, house_bills=_data_of(self.house_bills))
        data["invoices"] = [invoice.to_data() for invoice in self.invoices]
        _optional(
            data,
            containers=_data_of(self.containers),
            supporting_documents=_data_of(self.supporting_documents),
        )
        data["duty"] = self.duty.to_data()
        return data

    def _nullable(self, data: dict[str, Any], name: str, value: Any) -> None:
        if value is not None or name in self._explicit:
            data[name] = value


_NULLABLE = frozenset({"warehouse_code", "custodian_code", "aeo_tier", "arrival_date", "igm"})


def _tuple_of(kind: Any, values: list[Mapping[str, Any]] | None) -> Any:
    return None if values is None else tuple(kind.from_data(value) for value in values)


def _data_of(values: tuple[Any, ...] | None) -> list[dict[str, Any]] | None:
    return None if values is None else [value.to_data() for value in values]
