"""Codes of the ICES 1.5 BE message as enums (values as on the wire)."""

from __future__ import annotations

from enum import StrEnum


class BeType(StrEnum):
    """ICES <TABLE>BE field 7 'BE Type' (INTAKE-BE-2)."""

    HOME_CONSUMPTION = "H"
    WAREHOUSING = "W"
    EX_BOND = "X"
    SEZ = "Z"
    SEZ_DTA_TRADING = "T"
    SEZ_DTA_MANUFACTURING = "M"
    SEZ_GOODS_MOVEMENT = "V"
    SEZ_STOCK_CLEARANCE = "S"


class ModeOfTransport(StrEnum):
    """ICES <TABLE>BE field 17 'Mode of Transport'."""

    LAND = "L"
    SEA = "S"
    AIR = "A"


class AeoTier(StrEnum):
    """Authorised Economic Operator status of an importer (OOC-AUTO-1, OOC-AEO-2)."""

    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    LO = "LO"  # logistics operator

    @property
    def automatic_out_of_charge(self) -> bool:
        """OOC-AUTO-1: automatic OOC is for Tier 2 and Tier 3 importers."""
        return self in (AeoTier.T2, AeoTier.T3)
