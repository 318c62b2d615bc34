"""What the load generator declares: custom houses, general goods, CRO electronics, QCO toys.

CRO-covered electronics come from the real BIS-CRS register (the February 2021
scrape in `shared/domain/bis/`), read by the BIS registry server's parser:
registration number, grant and expiry dates, standards, manufacturer, factory,
brand, models in scope and product text are taken from it as they are (the
scraper stripped their spaces), never made up. Toy makers come from the
registry server's CM/L licences (SAMPLE DATA: no source in `shared/` lists
them). What no source gives (importers, suppliers, general goods) is generated
and says so.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from clearance_bis_registry.licences import Licence, load_licences
from clearance_bis_registry.register import read_row

# The day the simulated national day is dated. The register is a scrape
# committed in February 2021: on that date its statuses are current, while on
# today's date not one of its registrations is still within its validity.
REGISTER_SNAPSHOT_DATE = date(2021, 2, 1)


@dataclass(frozen=True)
class CustomHouse:
    """A customs location (ICES Custom House Code) and how goods arrive there."""

    code: str
    mode_of_transport: str  # S sea, A air
    weight: float  # share of the day's BEs (approximate, not sourced)


CUSTOM_HOUSES: tuple[CustomHouse, ...] = (
    CustomHouse("INNSA1", "S", 0.30),  # Nhava Sheva (JNPT)
    CustomHouse("INMUN1", "S", 0.14),  # Mundra
    CustomHouse("INMAA1", "S", 0.12),  # Chennai sea
    CustomHouse("INCCU1", "S", 0.06),  # Kolkata sea
    CustomHouse("INBOM4", "A", 0.12),  # Air Cargo Complex Mumbai
    CustomHouse("INDEL4", "A", 0.14),  # Air Cargo Complex Delhi
    CustomHouse("INBLR4", "A", 0.07),  # Bengaluru air cargo
    CustomHouse("INMAA4", "A", 0.05),  # Chennai air cargo
)

# Country of origin -> (sea port of shipment, air port of shipment), UN/LOCODE.
ORIGINS: dict[str, tuple[str, str]] = {
    "CN": ("CNNGB", "CNPVG"),
    "US": ("USNYC", "USORD"),
    "AE": ("AEJEA", "AEDXB"),
    "DE": ("DEHAM", "DEFRA"),
    "SG": ("SGSIN", "SGSIN"),
    "KR": ("KRPUS", "KRICN"),
    "JP": ("JPYOK", "JPNRT"),
    "GB": ("GBFXT", "GBLHR"),
    "VN": ("VNSGN", "VNSGN"),
    "MY": ("MYPKG", "MYKUL"),
    "TW": ("TWKHH", "TWTPE"),
    "TH": ("THLCH", "THBKK"),
    "ID": ("IDJKT", "IDJKT"),
    "IT": ("ITGOA", "ITMXP"),
    "MX": ("MXZLO", "MXMEX"),
    "PH": ("PHMNL", "PHMNL"),
    "HK": ("HKHKG", "HKHKG"),
}
ORIGIN_WEIGHTS: dict[str, float] = {
    "CN": 0.34,
    "US": 0.09,
    "AE": 0.08,
    "DE": 0.07,
    "SG": 0.06,
    "KR": 0.06,
    "JP": 0.05,
    "GB": 0.04,
    "VN": 0.05,
    "MY": 0.05,
    "TW": 0.04,
    "TH": 0.04,
    "ID": 0.03,
}
CURRENCY_OF: dict[str, str] = {"DE": "EUR", "IT": "EUR", "GB": "GBP", "JP": "JPY", "AE": "AED"}
# INR per unit of invoice currency (approximate rates of early 2021, for duty arithmetic only).
INR_PER: dict[str, float] = {"USD": 73.0, "EUR": 88.5, "GBP": 100.0, "JPY": 0.70, "AED": 19.9}


@dataclass(frozen=True)
class Goods:
    """A general tariff line: CTH, how it is described, counted and priced (USD)."""

    cth: str
    description: str
    unit: str
    price_range: tuple[float, float]
    quantity_range: tuple[int, int]


GENERAL_GOODS: tuple[Goods, ...] = (
    Goods(
        "29051100",
        "METHANOL (METHYL ALCOHOL) IN BULK, PURITY 99.85 PCT MIN",
        "KGS",
        (0.3, 0.5),
        (10_000, 200_000),
    ),
    Goods(
        "28151110",
        "CAUSTIC SODA FLAKES 98 PCT MIN, 25 KG BAGS",
        "KGS",
        (0.3, 0.45),
        (20_000, 100_000),
    ),
    Goods(
        "39012000",
        "HIGH DENSITY POLYETHYLENE GRANULES, INJECTION GRADE",
        "KGS",
        (0.9, 1.3),
        (10_000, 60_000),
    ),
    Goods(
        "39021000",
        "POLYPROPYLENE HOMOPOLYMER GRANULES, RAFFIA GRADE",
        "KGS",
        (0.9, 1.2),
        (10_000, 60_000),
    ),
    Goods(
        "15119010",
        "REFINED BLEACHED DEODORISED PALM OLEIN IN BULK",
        "KGS",
        (0.8, 1.1),
        (50_000, 500_000),
    ),
    Goods(
        "08021200", "CALIFORNIA ALMONDS SHELLED, 25 LB CARTONS", "KGS", (4.5, 7.0), (5_000, 20_000)
    ),
    Goods(
        "47071000", "UNBLEACHED KRAFT PAPER WASTE (OCC 11)", "KGS", (0.15, 0.25), (20_000, 120_000)
    ),
    Goods(
        "30049099",
        "PHARMACEUTICAL FORMULATION TABLETS IN BLISTER PACKS",
        "NOS",
        (2.0, 30.0),
        (1_000, 50_000),
    ),
    Goods(
        "90183100",
        "STERILE SINGLE-USE SYRINGES 5 ML WITH NEEDLE",
        "NOS",
        (0.03, 0.08),
        (50_000, 500_000),
    ),
    Goods(
        "85423100",
        "MICROCONTROLLER INTEGRATED CIRCUITS, 32-BIT, LQFP PACKAGE",
        "NOS",
        (0.8, 6.0),
        (2_000, 100_000),
    ),
    Goods(
        "84795000", "SIX-AXIS INDUSTRIAL ROBOT WITH CONTROLLER", "NOS", (25_000.0, 60_000.0), (1, 6)
    ),
    Goods(
        "84818090", "STAINLESS STEEL BALL VALVES, FLANGED, DN50", "NOS", (40.0, 180.0), (50, 2_000)
    ),
    Goods(
        "87089900",
        "MOTOR VEHICLE PARTS: BRAKE CALIPER ASSEMBLIES",
        "NOS",
        (12.0, 60.0),
        (200, 5_000),
    ),
    Goods(
        "40111010", "RADIAL TYRES FOR PASSENGER CARS 205/55 R16", "NOS", (25.0, 60.0), (200, 2_000)
    ),
    Goods(
        "73181500",
        "HIGH TENSILE HEX BOLTS WITH NUTS, ZINC PLATED",
        "KGS",
        (1.2, 2.5),
        (1_000, 20_000),
    ),
    Goods(
        "61091000",
        "MEN'S COTTON KNITTED T-SHIRTS, ASSORTED SIZES",
        "PCS",
        (1.5, 4.0),
        (1_000, 20_000),
    ),
    Goods(
        "27011200",
        "STEAM COAL (BITUMINOUS), NON-COKING, GCV 5500 KCAL",
        "MTS",
        (50.0, 90.0),
        (5_000, 50_000),
    ),
    Goods(
        "22083011",
        "BLENDED SCOTCH WHISKY IN BOTTLES OF 750 ML",
        "BTL",
        (4.0, 25.0),
        (1_000, 12_000),
    ),
)

# Goods a bonded warehouse typically takes in (duty deferred until ex-bond).
WAREHOUSING_GOODS: tuple[str, ...] = ("22083011", "15119010", "08021200", "40111010", "87089900")


# Toys (Quality Control) Order, 2020: HSN 9503 00 20, non-electronic toys (seed 004).
TOY_CTH = "95030020"
TOY_DESCRIPTIONS: tuple[str, ...] = (
    "WOODEN JIGSAW PUZZLE, 100 PIECES, NON-ELECTRONIC",
    "PLUSH SOFT TOY TEDDY BEAR 30 CM",
    "FASHION DOLL WITH ACCESSORIES, NON-ELECTRONIC",
    "DIE-CAST MODEL CAR 1:32, PULL-BACK ACTION",
    "PEDAL CAR FOR CHILDREN, STEEL FRAME",
    "PLASTIC BUILDING BLOCKS SET, 250 PIECES",
    "STACKING RINGS TOY FOR INFANTS",
    "BOARD GAME SET WITH DICE AND TOKENS",
)
TOY_STANDARDS_PART = (
    "IS 9873 (Part 1)",
    "IS 9873 (Part 2)",
    "IS 9873 (Part 3)",
    "IS 9873 (Part 4)",
    "IS 9873 (Part 7)",
    "IS 9873 (Part 9)",
)
TOY_STANDARD_15644 = "IS 15644:2006"


@cache
def toy_licences(on: date = REGISTER_SNAPSHOT_DATE) -> tuple[Licence, ...]:
    """The CM/L licences valid on `on` for non-electronic toys (9503 00 20), from the BIS
    registry server's licence set: SAMPLE DATA (no source in shared/ lists real ones)."""
    return tuple(
        licence
        for licence in load_licences().values()
        if licence.status_on(on)[0].value == "valid"
        and any("95030020".startswith(line) for line in licence.tariff_lines)
        and any("9873" in standard for standard in licence.standards)
    )


@dataclass(frozen=True)
class CroCategory:
    """A CRO product category: how to find it in the register and its tariff line."""

    name: str
    cth: str
    cth_sourced: bool  # False: a reasonable but unsourced mapping (bis/README.md)
    unit: str
    price_range: tuple[float, float]
    weight: float  # share of CRO-covered BEs


CRO_CATEGORIES: tuple[CroCategory, ...] = (
    CroCategory("cctv_camera", "85258090", True, "NOS", (12.0, 320.0), 0.30),
    CroCategory("cctv_recorder", "85219090", True, "NOS", (40.0, 400.0), 0.10),
    CroCategory("mobile_phone", "85171300", False, "NOS", (40.0, 300.0), 0.25),
    CroCategory("power_adaptor", "85044090", False, "NOS", (1.0, 8.0), 0.15),
    CroCategory("notebook", "84713010", False, "NOS", (250.0, 900.0), 0.10),
    CroCategory("microwave_oven", "85165000", False, "NOS", (45.0, 160.0), 0.10),
)


def cro_category_of(product: str) -> str | None:
    """The CRO category of a register row's product text, or None if not one we import."""
    p = product.lower()
    if "cctv" in p and "camera" in p:
        return "cctv_camera"
    if any(word in p for word in ("dvr", "nvr", "recorder")) and ("cctv" in p or "video" in p):
        return "cctv_recorder"
    accessory = ("charger", "adapt", "battery", "bank")
    if "mobile" in p and "phone" in p and not any(word in p for word in accessory):
        return "mobile_phone"
    if "adaptor" in p or "adapter" in p:
        return "power_adaptor"
    if "notebook" in p or "laptop" in p:
        return "notebook"
    if "microwave" in p:
        return "microwave_oven"
    return None


@dataclass(frozen=True)
class Registration:
    """One row of the BIS-CRS register, as much of it as a BE declares."""

    number: str
    category: str
    granted_on: date
    valid_upto: date | None
    status: str
    standards: tuple[str, ...]
    product: str
    manufacturer: str
    manufacturing_location: str
    country: str
    brand: str
    models: tuple[str, ...]

    def valid_on(self, day: date) -> bool:
        """Operative and within its validity on `day` (BIS-CRS-1, BIS-CRS-2)."""
        return self.status == "Operative" and self.valid_upto is not None and self.valid_upto >= day


# The factory address ends in its country; the country of origin follows from it.
_COUNTRIES = (
    ("CHINA", "CN"),
    ("TAIWAN", "TW"),
    ("VIETNAM", "VN"),
    ("KOREA", "KR"),
    ("MALAYSIA", "MY"),
    ("THAILAND", "TH"),
    ("JAPAN", "JP"),
    ("INDONESIA", "ID"),
    ("MEXICO", "MX"),
    ("PHILIPPINES", "PH"),
    ("HONGKONG", "HK"),
    ("SINGAPORE", "SG"),
    ("GERMANY", "DE"),
    ("ITALY", "IT"),
    ("UNITEDSTATES", "US"),
    ("USA", "US"),
    ("INDIA", "IN"),
)


def _country(address: str) -> str | None:
    upper = address.upper().replace(".", "").replace(" ", "")
    found = [(upper.rfind(name), code) for name, code in _COUNTRIES if name in upper]
    return max(found)[1] if found else None


def _standards(text: str) -> tuple[str, ...]:
    parts = re.split(r"&|/(?=IS)", text.strip())
    return tuple(part.strip()[:60] for part in parts if part.strip())


def shared_register_path() -> Path:
    """The real register in `shared/domain/bis/` beside the repository.

    `CLEARANCE_BIS_REGISTER_CSV` overrides it, as it does for the BIS registry server.
    """
    override = os.environ.get("CLEARANCE_BIS_REGISTER_CSV")
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "domain" / "bis" / "crs-register-2021.csv"
        if candidate.exists():
            return candidate
    return Path("/work/shared/domain/bis/crs-register-2021.csv")


def read_registrations(
    rows: Iterable[dict[str, str]], on: date = REGISTER_SNAPSHOT_DATE
) -> list[Registration]:
    """Register rows a foreign factory could ship under one of our CRO categories.

    Each row is read by the BIS registry server's own parser (`clearance_bis_registry`):
    the manufacturer it cuts from the address, the factory, and the models in scope on
    `on` (inline history, deletions, stop-sale). Rows are kept only when the register
    gives everything the BE declares within its field lengths (manufacturer C50, brand
    C20, model C20) and the factory is abroad.
    """
    kept: list[Registration] = []
    for row in rows:
        registration = read_row(row)
        category = cro_category_of(registration.product)
        manufacturer = registration.manufacturer
        country = _country(registration.name_and_factory_address)
        brand = registration.brand
        models = tuple(
            m.model for m in registration.models if m.in_scope_on(on) and 0 < len(m.model) <= 20
        )
        if (
            category is None
            or registration.granted_on is None
            or manufacturer is None
            or len(manufacturer) > 50
            or len(registration.factory_address) < 10
            or country not in ORIGINS
            or not models
            or not 0 < len(brand) <= 20
            or not re.fullmatch(r"R-\d{7,9}", registration.number)
        ):
            continue
        kept.append(
            Registration(
                number=registration.number,
                category=category,
                granted_on=registration.granted_on,
                valid_upto=registration.valid_upto,
                status=registration.status_text,
                standards=_standards(row["IS NO"]),
                product=registration.product[:120],
                manufacturer=manufacturer,
                manufacturing_location=registration.factory_address[:200],
                country=country,
                brand=brand,
                models=models,
            )
        )
    return kept


@cache
def load_registrations(path: Path | None = None) -> tuple[Registration, ...]:
    """The usable CRO registrations of the real register (read once per process)."""
    with (path or shared_register_path()).open(newline="", encoding="utf-8") as handle:
        return tuple(read_registrations(csv.DictReader(handle)))
