"""The national day: a seeded, realistic mix of Bills of Entry in the canonical BE schema.

`generate(count, seed=..., first_be_no=...)` is deterministic: the same seed
gives the same filings, and BE numbers are `first_be_no`, `first_be_no + 1`,
... so a run can take a fresh range (see `numbering.py`) without changing the
mix. Every valid filing passes `validate_event("icegate.bill-of-entry.filed.v1")`
and be-intake's rules; an invalid one breaks exactly one intake rule on purpose
(INTAKE-IEC-1 or INTAKE-BE-2) so it still ends in a terminal `rejected` event.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from clearance_contracts import bill_of_entry_key

from clearance_bench.catalogue import (
    CRO_CATEGORIES,
    CURRENCY_OF,
    CUSTOM_HOUSES,
    GENERAL_GOODS,
    INR_PER,
    ORIGIN_WEIGHTS,
    ORIGINS,
    REGISTER_SNAPSHOT_DATE,
    TOY_CTH,
    TOY_DESCRIPTIONS,
    TOY_STANDARD_15644,
    TOY_STANDARDS_PART,
    WAREHOUSING_GOODS,
    CroCategory,
    CustomHouse,
    Goods,
    Registration,
    _country,
    load_registrations,
    toy_licences,
)

GENERAL, CRO_ELECTRONICS, QCO_TOYS = "general", "cro_electronics", "qco_toys"
BE_NUMBER_SPACE = 10**7  # ICES BE Number is N7


@dataclass(frozen=True)
class MixParameters:
    """Shares of the national day. Defaults are assumptions, not statistics, except
    where a comment names a source."""

    #: BE type W (into a bonded warehouse, RFID-sealed); the rest are home consumption (H).
    warehousing_share: float = 0.12
    #: AEO importers, about 37 % of BEs, split over the tiers (T1 is by far the commonest).
    aeo_t1_share: float = 0.22
    aeo_t2_share: float = 0.12
    aeo_t3_share: float = 0.03
    #: Electronics under the Compulsory Registration Order, declared with a real registration.
    cro_electronics_share: float = 0.08
    #: Of those, the share declaring a registration not valid on the BE date (expired,
    #: cancelled, deferred in the register): BIS-CRS-1/2 fail them.
    cro_invalid_registration_share: float = 0.05
    #: Non-electronic toys under the Toys QCO (HSN 9503 00 20), with CM/L and certificates.
    qco_toys_share: float = 0.02
    #: Of those, the share with one consolidated certificate (the commonest error, BIS-QCO-2).
    toys_single_certificate_share: float = 0.10
    #: Filings that break an intake rule (malformed IEC, warehousing without warehouse code).
    invalid_share: float = 0.01
    #: Of the invalid ones, the share that is a warehousing BE without warehouse code.
    invalid_warehouse_code_share: float = 0.25
    #: First Check requested (RMS-2): examination before assessment.
    first_check_share: float = 0.02
    #: Of home-consumption BEs of AEO T2/T3 importers: deferred payment (D) confirmed by OTP.
    deferred_payment_share: float = 0.5
    #: Of the other home-consumption BEs: duty already paid when filed.
    duty_paid_share: float = 0.9
    #: Items per BE: 1..items_max, mean near items_mean (truncated geometric: many 1-item BEs).
    items_mean: float = 5.0
    items_max: int = 20

    @property
    def aeo_share(self) -> float:
        return self.aeo_t1_share + self.aeo_t2_share + self.aeo_t3_share


@dataclass(frozen=True)
class Filing:
    """One generated Bill of Entry, its Kafka key and what it was made to be."""

    key: str
    bill_of_entry: dict[str, Any]
    profile: str  # general | cro_electronics | qco_toys
    invalid_rule: str | None  # the intake rule it breaks on purpose, if any

    @property
    def valid(self) -> bool:
        return self.invalid_rule is None

    @property
    def item_count(self) -> int:
        return sum(len(invoice["items"]) for invoice in self.bill_of_entry["invoices"])


@cache
def item_count_weights(mean: float, maximum: int) -> tuple[float, ...]:
    """P(k items), k = 1..maximum: a geometric law truncated at `maximum` with the given mean."""

    def weights(p: float) -> list[float]:
        raw = [p * (1 - p) ** (k - 1) for k in range(1, maximum + 1)]
        total = sum(raw)
        return [w / total for w in raw]

    low, high = 1e-6, 1.0  # the truncated mean falls as p rises
    for _ in range(100):
        p = (low + high) / 2
        truncated_mean = sum(k * w for k, w in enumerate(weights(p), start=1))
        low, high = (p, high) if truncated_mean > mean else (low, p)
    return tuple(weights((low + high) / 2))


@dataclass(frozen=True)
class _Importer:
    iec: str
    name: str
    address: str
    aeo_tier: str | None


_NAME_WORDS = (
    "SECURUS", "DECCAN", "KAVERI", "NARMADA", "SAHYADRI", "ORION", "VAJRA", "INDUS", "TRIVENI",
    "AKSHAR", "MERIDIAN", "SUNRISE", "GANGA", "PRAGATI", "NILGIRI", "SHAKTI", "ARAVALI", "KONARK",
)  # fmt: skip
_TRADE_WORDS = (
    "VISION SYSTEMS", "POLYMERS", "PHARMA", "AUTO COMPONENTS", "ELECTRONICS", "AGRO FOODS",
    "CHEMICALS", "TRADING", "IMPEX", "INDUSTRIES", "TEXTILES", "ENGINEERING", "TOYS",
)  # fmt: skip
_CITIES = (
    ("Navi Mumbai, Maharashtra", "400710"), ("Bhiwandi, Maharashtra", "421302"),
    ("Ahmedabad, Gujarat", "380015"), ("Chennai, Tamil Nadu", "600032"),
    ("Gurugram, Haryana", "122002"), ("Bengaluru, Karnataka", "560058"),
    ("Kolkata, West Bengal", "700088"), ("Noida, Uttar Pradesh", "201305"),
)  # fmt: skip
_SEAL_VENDORS = ("ZSEL", "RFSL", "ELCK", "TGSL")  # RFID OTL seal brands, SEAL-FMT-1 form
_CONTAINER_OWNERS = ("MSKU", "MRKU", "MSCU", "CMAU", "HLXU", "OOLU", "TGHU", "TCNU")
_AIRLINE_PREFIXES = ("176", "618", "157", "125", "098", "180")
_SHIPPING_LINES = ("A.P. Moller - Maersk A/S", "MSC", "CMA CGM", "Hapag-Lloyd AG", "ONE")


def _pan(rng: random.Random, holder: str, name: str) -> str:
    """A PAN-shaped code (AAAHN9999A): what an IEC looks like since 2018."""
    letters = "".join(rng.choices(string.ascii_uppercase, k=3))
    return (
        f"{letters}{holder}{name[0]}{rng.randrange(10_000):04d}{rng.choice(string.ascii_uppercase)}"
    )


def _importer(rng: random.Random, tier: str | None) -> _Importer:
    name = f"{rng.choice(_NAME_WORDS)} {rng.choice(_TRADE_WORDS)} PRIVATE LIMITED"
    city, pin = rng.choice(_CITIES)
    address = f"Plot {rng.randrange(1, 400)}, Industrial Area, {city} {pin}"
    return _Importer(_pan(rng, "C", name), name[:50], address[:140], tier)


def _iso6346(owner: str, serial: int) -> str:
    """A container number with its ISO 6346 check digit."""
    body = f"{owner}{serial:06d}"
    values = {ch: v for ch, v in zip(string.ascii_uppercase, _LETTER_VALUES, strict=True)}
    total = sum((values[ch] if ch.isalpha() else int(ch)) * 2**i for i, ch in enumerate(body))
    return f"{body}{total % 11 % 10}"


# ISO 6346 letter values skip multiples of 11.
_LETTER_VALUES = [v for v in range(10, 39) if v % 11][:26]


class _Generator:
    def __init__(
        self,
        seed: int,
        mix: MixParameters,
        be_date: date,
        registrations: Sequence[Registration],
    ) -> None:
        self.rng = random.Random(seed)
        self.mix = mix
        self.be_date = be_date
        tiers: tuple[str | None, ...] = ("T1", "T2", "T3", None)
        people = random.Random(f"{seed}-importers")
        self.importers = {tier: [_importer(people, tier) for _ in range(150)] for tier in tiers}
        self.brokers = [_pan(people, "F", "C") + "CH001" for _ in range(40)]
        self.valid_registrations: dict[str, list[Registration]] = {}
        self.invalid_registrations: dict[str, list[Registration]] = {}
        for registration in registrations:
            pool = (
                self.valid_registrations
                if registration.valid_on(be_date)
                else self.invalid_registrations
            )
            pool.setdefault(registration.category, []).append(registration)
        self.item_weights = item_count_weights(mix.items_mean, mix.items_max)

    # -- the BE as a whole ------------------------------------------------------------

    def filing(self, be_no: str) -> Filing:
        rng, mix = self.rng, self.mix
        invalid_rule: str | None = None
        if rng.random() < mix.invalid_share:
            wh = rng.random() < mix.invalid_warehouse_code_share
            invalid_rule = "INTAKE-BE-2" if wh else "INTAKE-IEC-1"
        draw = rng.random()
        if invalid_rule == "INTAKE-BE-2":
            profile = GENERAL
        elif draw < mix.cro_electronics_share:
            profile = CRO_ELECTRONICS
        elif draw < mix.cro_electronics_share + mix.qco_toys_share:
            profile = QCO_TOYS
        else:
            profile = GENERAL
        # Warehoused goods here are general cargo, so the share is taken among general BEs.
        general_share = 1 - mix.cro_electronics_share - mix.qco_toys_share
        warehousing = invalid_rule == "INTAKE-BE-2" or (
            profile == GENERAL and rng.random() < mix.warehousing_share / general_share
        )
        tier = self._tier()
        importer = rng.choice(self.importers[tier])
        house = self._custom_house(sea_only=warehousing)
        items_wanted = rng.choices(range(1, mix.items_max + 1), self.item_weights)[0]

        if profile == CRO_ELECTRONICS:
            origin, invoices, documents = self._cro_goods(items_wanted)
        elif profile == QCO_TOYS:
            origin, invoices, documents = self._toy_goods(items_wanted)
        else:
            origin, invoices, documents = self._general_goods(items_wanted, warehousing)

        arrival = self.be_date - timedelta(days=rng.choice((0, 1)))
        igm_date = arrival - timedelta(days=rng.randrange(0, 3))
        last_invoice = max(date.fromisoformat(inv["invoice_date"]) for inv in invoices)
        shipped = min(last_invoice + timedelta(days=rng.randrange(1, 6)), arrival)
        sea = house.mode_of_transport == "S"
        containers = self._containers(warehousing, be_no) if sea else []
        packages = sum(
            max(1, int(item["quantity"]) // 50) for inv in invoices for item in inv["items"]
        )
        master_bill = (
            f"{rng.choice(_CONTAINER_OWNERS)[:4]}{rng.randrange(10**8, 10**9)}"
            if sea
            else f"{rng.choice(_AIRLINE_PREFIXES)}-{rng.randrange(10**7, 10**8)}"
        )
        documents += [
            {
                "document_type": "bill_of_lading" if sea else "airway_bill",
                "reference": master_bill,
                "issued_by": rng.choice(_SHIPPING_LINES) if sea else "IATA carrier",
                "issued_on": shipped.isoformat(),
            }
        ]
        duty, deferred = self._duty(invoices, tier, warehousing)
        be: dict[str, Any] = {
            "port_code": house.code,
            "be_no": be_no,
            "be_date": self.be_date.isoformat(),
            # The filer's own job number: unique per BE, since a filer's job number and date
            # register one BE (be-intake: duplicates); the BE number's digits serve.
            "user_job_no": str(int(be_no)) if int(be_no) else "1",
            "user_job_date": self.be_date.isoformat(),
            "be_type": "W" if warehousing else "H",
            "iec": importer.iec,
            "branch_sl_no": rng.randrange(0, 4),
            "importer_name": importer.name,
            "importer_address": importer.address,
            "importer_type": "P",
            "mode_of_transport": house.mode_of_transport,
            "customs_broker_code": rng.choice(self.brokers),
            "prior_be": False,
            "first_check": rng.random() < mix.first_check_share,
            "green_channel": False,
            "warehouse_code": f"{house.code[2:5]}4W{rng.randrange(1, 60):03d}"
            if warehousing
            else None,
            "payment_method": "D" if deferred else "T",
            "aeo_tier": tier,
            "country_of_origin": origin,
            "country_of_consignment": origin,
            "port_of_shipment": ORIGINS[origin][0 if sea else 1],
            "arrival_date": arrival.isoformat(),
            "filed_at": f"{self.be_date.isoformat()}T{rng.randrange(9, 17):02d}:"
            f"{rng.randrange(60):02d}:{rng.randrange(60):02d}+05:30",
            "igm": {
                "igm_no": str(rng.randrange(2_000_000, 2_400_000)),
                "igm_date": igm_date.isoformat(),
                "inward_date": arrival.isoformat(),
                "gateway_port_code": None,
            },
            "house_bills": [
                {
                    "master_bill_no": master_bill,
                    "master_bill_date": shipped.isoformat(),
                    "house_bill_no": None,
                    "house_bill_date": None,
                    "package_count": packages,
                    "package_code": "CTN" if sea else "PKG",
                    "gross_weight": round(packages * rng.uniform(5, 40), 3),
                    "gross_weight_unit": "KGS",
                }
            ],
            "invoices": invoices,
            "containers": containers,
            "supporting_documents": documents,
            "duty": duty,
        }
        if invalid_rule == "INTAKE-IEC-1":
            be["iec"] = self._malformed_iec(importer.iec)
        elif invalid_rule == "INTAKE-BE-2":
            be["warehouse_code"] = None
        return Filing(
            key=bill_of_entry_key(house.code, be_no, be["be_date"]),
            bill_of_entry=be,
            profile=profile,
            invalid_rule=invalid_rule,
        )

    def _tier(self) -> str | None:
        mix, draw = self.mix, self.rng.random()
        if draw < mix.aeo_t1_share:
            return "T1"
        if draw < mix.aeo_t1_share + mix.aeo_t2_share:
            return "T2"
        if draw < mix.aeo_share:
            return "T3"
        return None

    def _custom_house(self, *, sea_only: bool) -> CustomHouse:
        houses = [h for h in CUSTOM_HOUSES if h.mode_of_transport == "S" or not sea_only]
        return self.rng.choices(houses, [h.weight for h in houses])[0]

    def _malformed_iec(self, iec: str) -> str:
        broken = (iec[:9], iec.lower(), f"{iec[:5]}-{iec[5:]}", "", f"{iec}7")
        return self.rng.choice(broken)

    def _containers(self, warehousing: bool, be_no: str) -> list[dict[str, Any]]:
        rng = self.rng
        containers = []
        for n in range(rng.choice((1, 1, 1, 2, 2, 3))):
            number = _iso6346(rng.choice(_CONTAINER_OWNERS), rng.randrange(10**6))
            if warehousing:  # RFID one-time-lock, SEAL-FMT-1; single use, so one per BE
                rng.randrange(10**8)  # (kept: the rest of the day stays as the seed made it)
                digits = f"{be_no[-7:]}{n}"
                seal = f"{rng.choice(_SEAL_VENDORS)} {digits[:4]} {digits[4:]}"
            else:  # a bottle seal of the shipping line
                seal = f"{rng.choice(('CN', 'ML', 'HL', 'EM'))}{rng.randrange(10**6, 10**7)}"
            containers.append(
                {"container_no": number, "seal_no": seal, "fcl_lcl": rng.choice(("FCL", "LCL"))}
            )
        return containers

    def _duty(
        self, invoices: list[dict[str, Any]], tier: str | None, warehousing: bool
    ) -> tuple[dict[str, Any], bool]:
        """Self-assessed duty; True when deferred by OTP (INTAKE-DUTY-1, INTAKE-DUTY-2)."""
        rng, mix = self.rng, self.mix
        assessable = sum(
            inv["invoice_value"]
            * INR_PER[inv["currency"]]
            * (1.0 if inv["terms_of_invoice"] == "CIF" else 1.03)
            for inv in invoices
        )
        deferred = paid = False
        if not warehousing:
            if tier in ("T2", "T3") and rng.random() < mix.deferred_payment_share:
                deferred = True
            else:
                paid = rng.random() < mix.duty_paid_share
        duty = {
            "assessable_value": round(assessable, 2),
            "total_duty": round(assessable * rng.uniform(0.05, 0.45), 2),
            "paid": paid,
            "deferred_payment_otp_authenticated": deferred,
        }
        return duty, deferred

    # -- goods ------------------------------------------------------------------------

    def _origin(self) -> str:
        return self.rng.choices(list(ORIGIN_WEIGHTS), list(ORIGIN_WEIGHTS.values()))[0]

    def _invoices(
        self, origin: str, supplier: str, address: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Spread the items over 1-3 invoices of one supplier, numbered per invoice."""
        rng = self.rng
        count = 1 if len(items) < 4 else rng.randrange(1, min(3, len(items) // 2) + 1)
        cuts = sorted(rng.sample(range(1, len(items)), count - 1)) if count > 1 else []
        currency = CURRENCY_OF.get(origin, "USD")
        invoices = []
        for n, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(items)], strict=True), 1):
            lines = [{**item, "item_sl_no": k} for k, item in enumerate(items[start:end], 1)]
            if currency != "USD":  # catalogue prices are in USD
                factor = INR_PER["USD"] / INR_PER[currency]
                lines = [
                    {**item, "unit_price": round(item["unit_price"] * factor, 2)} for item in lines
                ]
            invoice_date = self.be_date - timedelta(days=rng.randrange(10, 45))
            invoices.append(
                {
                    "invoice_sl_no": n,
                    "invoice_no": f"{supplier[:4].upper().strip()}-{rng.randrange(10**6):06d}",
                    "invoice_date": invoice_date.isoformat(),
                    "invoice_value": round(
                        sum(item["quantity"] * item["unit_price"] for item in lines), 2
                    ),
                    "currency": currency,
                    "terms_of_invoice": rng.choice(("FOB", "CIF", "CF")),
                    "supplier_name": supplier[:100],
                    "supplier_address": address[:300],
                    "items": lines,
                }
            )
        return invoices

    def _commercial_documents(self, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        documents = []
        for invoice in invoices:
            for kind, reference in (
                ("invoice", invoice["invoice_no"]),
                ("packing_list", f"PL-{invoice['invoice_no']}"[:35]),
            ):
                documents.append(
                    {
                        "document_type": kind,
                        "reference": reference,
                        "invoice_sl_no": invoice["invoice_sl_no"],
                        "issued_by": invoice["supplier_name"][:70],
                        "issued_on": invoice["invoice_date"],
                    }
                )
        return documents

    def _item(self, goods: Goods, origin: str, **extra: Any) -> dict[str, Any]:
        rng = self.rng
        return {
            "item_sl_no": 1,
            "cth": goods.cth,
            "description": goods.description[:120],
            "quantity": rng.randrange(*goods.quantity_range),
            "unit": goods.unit,
            "unit_price": round(rng.uniform(*goods.price_range), 2),
            "country_of_origin": origin,
            **extra,
        }

    def _general_goods(
        self, count: int, warehousing: bool
    ) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        origin = self._origin()
        lines = (
            [g for g in GENERAL_GOODS if g.cth in WAREHOUSING_GOODS]
            if warehousing
            else list(GENERAL_GOODS)
        )
        main = rng.choice(lines)
        items = [
            self._item(main if rng.random() < 0.7 else rng.choice(lines), origin)
            for _ in range(count)
        ]
        supplier = f"{rng.choice(_NAME_WORDS).title()} {rng.choice(_TRADE_WORDS).title()} Co., Ltd."
        invoices = self._invoices(origin, supplier, f"Export Zone, {origin}", items)
        return origin, invoices, self._commercial_documents(invoices)

    def _cro_goods(self, count: int) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        category = rng.choices(CRO_CATEGORIES, [c.weight for c in CRO_CATEGORIES])[0]
        invalid = rng.random() < self.mix.cro_invalid_registration_share
        pool = (self.invalid_registrations if invalid else self.valid_registrations).get(
            category.name
        ) or self.valid_registrations[category.name]
        registration = rng.choice(pool)
        items = [self._cro_item(category, registration, n) for n in range(count)]
        invoices = self._invoices(
            registration.country,
            registration.manufacturer,
            registration.manufacturing_location,
            items,
        )
        documents = self._commercial_documents(invoices)
        for invoice in invoices:
            for item in invoice["items"]:
                documents.append(
                    {
                        "document_type": "bis_registration",
                        "reference": registration.number,
                        "invoice_sl_no": invoice["invoice_sl_no"],
                        "item_sl_no": item["item_sl_no"],
                        "standards": list(registration.standards),
                        "issued_by": "Bureau of Indian Standards",
                        "issued_on": registration.granted_on.isoformat(),
                        **(
                            {"expires_on": registration.valid_upto.isoformat()}
                            if registration.valid_upto
                            else {}
                        ),
                    }
                )
        return registration.country, invoices, documents

    def _cro_item(
        self, category: CroCategory, registration: Registration, n: int
    ) -> dict[str, Any]:
        rng = self.rng
        return {
            "item_sl_no": 1,
            "cth": category.cth,
            "description": registration.product,
            "quantity": rng.randrange(20, 2000),
            "unit": category.unit,
            "unit_price": round(rng.uniform(*category.price_range), 2),
            "country_of_origin": registration.country,
            "manufacturer": registration.manufacturer[:50],
            "brand": registration.brand[:20],
            "model": registration.models[n % len(registration.models)],
            "manufacturing_location": registration.manufacturing_location[:200],
        }

    def _toy_goods(self, count: int) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        # A licensed toy maker of the registry's CM/L licences (SAMPLE DATA).
        licence = rng.choice(toy_licences(self.be_date))
        origin = _country(licence.factory_address) or "CN"
        maker = licence.licensee
        toy = Goods(TOY_CTH, "", "NOS", (0.5, 12.0), (500, 20_000))
        items = [
            {
                **self._item(toy, origin, manufacturer=maker[:50]),
                "description": rng.choice(TOY_DESCRIPTIONS),
                "manufacturing_location": licence.factory_address[:200],
                "isi_mark": True,
            }
            for _ in range(count)
        ]
        invoices = self._invoices(origin, maker, licence.factory_address, items)
        documents = self._commercial_documents(invoices)
        # Either form of the licence number: BIS padded the 7-digit ones to 10 digits.
        number = licence.old_form if licence.old_form and rng.random() < 0.5 else licence.licence_no
        single = rng.random() < self.mix.toys_single_certificate_share
        for invoice in invoices:
            n = invoice["invoice_sl_no"]
            documents.append(
                {
                    "document_type": "bis_cml_licence",
                    "reference": number,
                    "invoice_sl_no": n,
                    "standards": list(TOY_STANDARDS_PART),
                    "issued_by": "Bureau of Indian Standards",
                }
            )
            certificates = (
                [[*TOY_STANDARDS_PART, TOY_STANDARD_15644]]
                if single
                else [list(TOY_STANDARDS_PART), ["IS 9873", TOY_STANDARD_15644]]
            )
            for k, standards in enumerate(certificates, 1):
                documents.append(
                    {
                        "document_type": "conformity_certificate",
                        "reference": f"TC-{number[-7:]}-{n}{k}",
                        "invoice_sl_no": n,
                        "standards": standards,
                        "issued_by": "NABL-accredited laboratory",
                        "issued_on": invoice["invoice_date"],
                    }
                )
        return origin, invoices, documents


def generate(
    count: int,
    *,
    seed: int,
    first_be_no: int = 0,
    mix: MixParameters | None = None,
    be_date: date = REGISTER_SNAPSHOT_DATE,
    registrations: Sequence[Registration] | None = None,
) -> list[Filing]:
    """`count` filings of the national day; BE numbers from `first_be_no` (wrapping at 10^7)."""
    generator = _Generator(
        seed,
        mix or MixParameters(),
        be_date,
        load_registrations() if registrations is None else registrations,
    )
    return [generator.filing(f"{(first_be_no + i) % BE_NUMBER_SPACE:07d}") for i in range(count)]
