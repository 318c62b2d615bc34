"""Intake rules for a filed Bill of Entry (pure; no I/O).

Each check returns the reasons a filing must be rejected, citing the rule id
from RULES.md; an empty list means the filing may be registered. A rejection
lists every rule broken, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from clearance_domain import BillOfEntry, ModeOfTransport, Reason

IEC_FORMAT = re.compile(r"^[A-Z0-9]{10}$")
# A PAN (the IEC is the importer's PAN since DGFT's 2018 change): five letters, the fourth
# the holder's status (C company, P person, H HUF, F firm, A AOP, T trust, B BOI, L local
# authority, J artificial juridical person, G government), four digits, a check letter.
PAN_FORMAT = re.compile(r"^[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]$")
LEGACY_NUMERIC_IEC = re.compile(r"^[0-9]{10}$")

Check = Callable[[BillOfEntry], list[Reason]]


@dataclass(frozen=True, slots=True)
class PermanentIec:
    """An IEC that an exempt category of importers uses instead of its own (INTAKE-IEC-2,
    INTAKE-IEC-4), with what a BE can show about the category."""

    code: str
    category: str
    importer_types: frozenset[str] = frozenset()  # ICES <TABLE>BE field 18; empty: any
    consigned_from: frozenset[str] = frozenset()  # country of consignment; empty: any
    land_border: bool = False  # across a land border (mode of transport L)
    ceiling_inr: Decimal | None = None  # INTAKE-IEC-3: CIF of one consignment at most
    numeric: bool = False  # the ICES spec's numeric codes (INTAKE-IEC-4)


_GOVERNMENT = frozenset({"G", "U"})
_NEPAL_BHUTAN_MYANMAR_CEILING = Decimal(25_000)
# 002: China via Gunji and Namgaya Shipkila at most Rs 1,00,000; via Nathula Rs 2,00,000.
# Which land customs station a BE comes through is not in the canonical BE beyond its
# custom house, whose codes for those stations no source here gives: the higher ceiling
# (Nathula) is the one a BE under IIEGC1134E can never exceed (see README).
CHINA_GUNJI_SHIPKILA_CEILING = Decimal(100_000)
CHINA_NATHULA_CEILING = Decimal(200_000)

#: 002, "permanent IEC numbers ... for the categories mentioned against them".
PERMANENT_IECS: dict[str, PermanentIec] = {
    p.code: p
    for p in (
        PermanentIec("AMDCG0111E", "central government ministries/departments", _GOVERNMENT),
        PermanentIec("ADSGA0129E", "state government departments", _GOVERNMENT),
        PermanentIec("DCUNO0137E", "diplomatic personnel, UN officials"),
        PermanentIec("IABBR0145E", "Indians claiming benefit under the Baggage Rules"),
        PermanentIec("IIHIE0153E", "personal use, not trade, manufacture or agriculture"),
        PermanentIec(
            "IIEGN0161E",
            "goods from Nepal, non-commercial",
            consigned_from=frozenset({"NP"}),
            ceiling_inr=_NEPAL_BHUTAN_MYANMAR_CEILING,
        ),
        PermanentIec(
            "IIEGM0170E",
            "goods from Myanmar through the Indo-Myanmar border areas, non-commercial",
            consigned_from=frozenset({"MM"}),
            land_border=True,
            ceiling_inr=_NEPAL_BHUTAN_MYANMAR_CEILING,
        ),
        PermanentIec("ATAEF1096E", "fairs/exhibitions under ATA carnet"),
        PermanentIec("IDNBG1100E", "Director, National Blood Group"),
        PermanentIec("ICIRN1126E", "relief for victims of natural calamity"),
        PermanentIec(
            "IIEGC1134E",
            "goods from China through Gunji, Namgaya Shipkila and Nathula",
            consigned_from=frozenset({"CN"}),
            land_border=True,
            ceiling_inr=CHINA_NATHULA_CEILING,
        ),
        PermanentIec("NCIEE1169E", "non-commercial imports authorised by the RBI"),
        # ICES 1.5 BE message format v2.23, <TABLE>BE 'IEC' (INTAKE-IEC-4).
        PermanentIec("0100000011", "central government departments", _GOVERNMENT, numeric=True),
        PermanentIec("0100000029", "state government departments", _GOVERNMENT, numeric=True),
        PermanentIec("0100000037", "UNO/diplomatic officers", numeric=True),
        PermanentIec("0100000045", "Indians claiming the Baggage Rules", numeric=True),
        PermanentIec("0100000053", "goods for personal use", numeric=True),
        PermanentIec(
            "0100000061",
            "goods from Nepal, CIF up to Rs 25,000",
            consigned_from=frozenset({"NP"}),
            ceiling_inr=_NEPAL_BHUTAN_MYANMAR_CEILING,
            numeric=True,
        ),
        PermanentIec(
            "0100000070",
            "goods from Myanmar, CIF up to Rs 25,000",
            consigned_from=frozenset({"MM"}),
            ceiling_inr=_NEPAL_BHUTAN_MYANMAR_CEILING,
            numeric=True,
        ),
        PermanentIec("0100000088", "Ford Foundation", numeric=True),
        PermanentIec("0100000096", "display/fairs under ATA carnet", numeric=True),
        PermanentIec("0100000100", "Blood Group Reference Laboratory", numeric=True),
        PermanentIec("0100000126", "individuals, charities, NGOs: natural calamity", numeric=True),
        PermanentIec("0100000001", "others, with the permission of the DC/AC", numeric=True),
    )
}  # fmt: skip


def check_iec(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-1: the IEC is a mandatory 10-character alphanumeric code; where it has
    letters it is PAN-based (a permanent IEC of INTAKE-IEC-2 excepted), else it is one of
    the numeric codes of DGFT or ICES."""
    iec = be.iec
    if not IEC_FORMAT.fullmatch(iec):
        message = f"IEC {iec!r} is not a 10-character alphanumeric Importer-Exporter Code"
        return [Reason.of("INTAKE-IEC-1", message)]
    if iec in PERMANENT_IECS or LEGACY_NUMERIC_IEC.fullmatch(iec) or PAN_FORMAT.fullmatch(iec):
        return []
    message = (
        f"IEC {iec!r} is neither PAN-based (AAAAA9999A, the fourth letter the holder's "
        "status), nor numeric, nor a permanent IEC"
    )
    return [Reason.of("INTAKE-IEC-1", message)]


def check_permanent_iec_category(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-2: a permanent IEC only for its category, as far as the BE shows it
    (importer type, country of consignment, a land border)."""
    permanent = PERMANENT_IECS.get(be.iec)
    if permanent is None:
        return []
    rule = "INTAKE-IEC-4" if permanent.numeric else "INTAKE-IEC-2"
    reasons = []
    what = f"permanent IEC {permanent.code} is only for {permanent.category}"
    if permanent.importer_types and be.importer_type not in permanent.importer_types:
        reasons.append(Reason.of(rule, f"{what}: importer type {be.importer_type or 'none'}"))
    consigned = be.country_of_consignment
    if permanent.consigned_from and consigned not in permanent.consigned_from:
        reasons.append(Reason.of(rule, f"{what}: consigned from {consigned or 'nowhere stated'}"))
    if permanent.land_border and be.mode_of_transport is not ModeOfTransport.LAND:
        reasons.append(Reason.of(rule, f"{what}: not across the land border"))
    return reasons


def cif_in_rupees(be: BillOfEntry) -> Decimal | None:
    """The consignment's CIF value in rupees: its invoices at their exchange rates. The
    canonical BE has no freight or insurance amounts, so for invoices not on CIF terms the
    declared assessable value (rupees, which includes them) is taken when it is higher.
    None when a foreign-currency invoice has no exchange rate."""
    values = [invoice.value_in_rupees for invoice in be.invoices]
    if any(value is None for value in values):
        return None
    total = sum((value for value in values if value is not None), Decimal(0))
    if any(invoice.terms_of_invoice != "CIF" for invoice in be.invoices):
        total = max(total, be.duty.assessable_value.amount)
    return total


def check_border_trade_ceiling(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-3: border trade without an IEC is for single consignments up to a CIF
    ceiling in rupees, converted at the BE's exchange rate."""
    permanent = PERMANENT_IECS.get(be.iec)
    if permanent is None or permanent.ceiling_inr is None:
        return []
    cif = cif_in_rupees(be)
    if cif is None:
        currencies = sorted({i.currency for i in be.invoices if i.value_in_rupees is None})
        message = (
            f"the CIF ceiling of Rs {permanent.ceiling_inr:,} under {permanent.code} cannot be "
            f"checked: no exchange rate for {', '.join(currencies)}"
        )
        return [Reason.of("INTAKE-IEC-3", message)]
    if cif > permanent.ceiling_inr:
        message = (
            f"CIF value Rs {_rupees(cif)} exceeds the ceiling of "
            f"Rs {permanent.ceiling_inr:,} for a single consignment under {permanent.code}"
        )
        return [Reason.of("INTAKE-IEC-3", message)]
    return []


def _rupees(amount: Decimal) -> str:
    """An amount for a reason's message; an absurd one (a typo of many digits) in
    scientific form, as no decimal context can round it to paise."""
    return f"{amount:,.2f}" if amount < Decimal(10) ** 15 else f"{amount:.3E}"


def check_importer_details(be: BillOfEntry) -> list[Reason]:
    """INTAKE-IEC-4: for the numeric permanent IECs of the ICES spec, the importer's name
    and address are mandatory (ICES cannot take them from DGFT's records)."""
    permanent = PERMANENT_IECS.get(be.iec)
    if permanent is None or not permanent.numeric:
        return []
    missing = [
        name
        for name, value in (("name", be.importer_name), ("address", be.importer_address))
        if not (value and value.strip())
    ]
    if not missing:
        return []
    what = " and ".join(missing)
    message = f"IEC {be.iec} is a numeric permanent IEC: the importer's {what} must be given"
    return [Reason.of("INTAKE-IEC-4", message)]


def check_warehouse_code(be: BillOfEntry) -> list[Reason]:
    """INTAKE-BE-2: a warehousing BE must declare the warehouse code."""
    if be.is_warehousing and not be.warehouse_code:
        return [
            Reason.of("INTAKE-BE-2", "a warehousing BE (type W) must declare the warehouse code")
        ]
    return []


CHECKS: tuple[Check, ...] = (
    check_iec,
    check_permanent_iec_category,
    check_border_trade_ceiling,
    check_importer_details,
    check_warehouse_code,
)


def rejection_reasons(be: BillOfEntry) -> list[Reason]:
    """All reasons to reject the filing, in rule order."""
    return [reason for check in CHECKS for reason in check(be)]
