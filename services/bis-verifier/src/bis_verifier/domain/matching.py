"""Comparing what a BE declares with what the BIS registry holds (pure): BIS-CRS-3, BIS-QCO-1.

The register's scraper stripped every space (`ZHEJIANGDAHUAZHILIANCO.,LTD.`)
and writes names and addresses as it pleases, so manufacturer names and
factory locations are compared on a normal form: upper case, letters and
digits only. A manufacturer's legal form (`Co., Ltd.`, `Pvt Ltd`, `GmbH`) is
not part of its identity and is dropped from both sides. Every comparison here
is a function of the normal forms, so formatting noise (case, spaces,
punctuation) can never change a verdict.

Models are different: `DH-IPC-HDBW1431EP` and `DH-IPC-HDBW1431E-P` may be two
products. A model matches only when it is the same model up to case and
spaces (the register's own noise); a different model never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


def normal_form(text: str) -> str:
    """Upper case, letters and digits only: `No. 28, Dongqiao Rd` -> `NO28DONGQIAORD`."""
    return "".join(char for char in text.upper() if char.isalnum())


# Legal forms in normal form, stripped from the end of a name (longest first, repeatedly):
# `CO.,LTD.` -> `COLTD` -> `CO` -> ``; `Company Limited`, `Pvt. Ltd.`, `S. de R.L. de C.V.` ...
LEGAL_FORMS: tuple[str, ...] = tuple(
    sorted(
        {
            "LIMITED", "LTD", "LDT", "COMPANY", "CO", "CORPORATION", "CORP", "INCORPORATED",
            "INC", "PRIVATE", "PVT", "PLC", "LLC", "LLP", "GMBH", "AG", "SDNBHD", "BHD",
            "SDN", "PTE", "SA", "SAS", "SADECV", "SDERLDECV", "DECV", "SRL", "SRO", "SPA",
            "BV", "NV", "JSC", "KFT", "SPZOO", "ZOO", "TBK",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
_MIN_CORE = 3


def company_core(name: str) -> str:
    """A manufacturer's name without its legal form, in normal form."""
    core = normal_form(name)
    stripped = True
    while stripped:
        stripped = False
        for form in LEGAL_FORMS:
            if core.endswith(form) and len(core) - len(form) >= _MIN_CORE:
                core = core[: -len(form)]
                stripped = True
                break
    return core


# ICES <TABLE>ITEMS field 17 'Manufacturer/Grower/Producer Name' is C50: a longer
# registered name is declared cut to 50 characters.
MANUFACTURER_FIELD = 50

# Words an address starts with, after a name the register ran into it (no legal form).
_ADDRESS_START = re.compile(
    r"^(?:\d|NO\d|PLOT|ROOM|RM\d|BUILDING|BLDG|BLOCK|UNIT|FLOOR|FLAT|SHED|LOT|ZONE)"
)


def manufacturer_matches(declared: str, registered: str | None, name_and_address: str) -> bool:
    """BIS-CRS-3: the declared manufacturer is the registered one, legal forms aside.

    `registered` is the name the registry gives (None when it could not tell the
    name from the address); `name_and_address` is the register's text, which
    starts with the name. Without a separate name, the declared one must begin
    that text and be followed by a legal form or the start of an address, so a
    shorter name (`Zhejiang Dahua` for `Zhejiang Dahua Zhilian`) never matches,
    unless it fills the BE's 50-character field: then it is the registered name cut.
    """
    core = company_core(declared)
    if len(core) < _MIN_CORE:
        return False
    if len(declared) >= MANUFACTURER_FIELD and normal_form(
        registered or name_and_address
    ).startswith(normal_form(declared)):
        return True  # a longer registered name, cut to fit the BE's field
    if registered is not None:
        return company_core(registered) == core
    text = normal_form(name_and_address)
    if not text.startswith(core):
        return False
    rest = text[len(core) :]
    return any(rest.startswith(form) for form in LEGAL_FORMS) or bool(_ADDRESS_START.match(rest))


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212\uff0d"})


def model_key(model: str) -> str:
    """A model as compared: case and spaces aside, every other character kept."""
    return "".join(model.translate(_DASHES).upper().split())


def location_matches(
    declared: str,
    registered: str,
    *,
    min_chunk: int = 4,
    precision: float = 0.8,
    recall: float = 0.4,
) -> bool:
    """BIS-CRS-3: the declared manufacturing location is the registered factory.

    On normal forms: every number of the declared address (street number,
    postcode) appears in the registered one; at least `precision` of the declared
    text is made of pieces (`min_chunk`+ characters) of the registered text; and
    those pieces make at least `recall` of the registered text, so a bare
    `Hangzhou, China` does not pass for a factory's address.
    """
    d, r = normal_form(declared), normal_form(registered)
    if len(d) < 2 * min_chunk or not r:
        return False
    if any(number not in r for number in re.findall(r"\d+", d)):
        return False
    covered = _covered(d, r, min_chunk)
    return covered >= precision * len(d) and covered >= recall * len(r)


def _covered(d: str, r: str, min_chunk: int) -> int:
    """Characters of `d` covered, left to right, by the longest pieces found in `r`."""
    covered, i = 0, 0
    while i < len(d):
        length = 0
        while i + length < len(d) and d[i : i + length + 1] in r:
            length += 1
        if length >= min_chunk:
            covered += length
            i += length
        else:
            i += 1
    return covered


@dataclass(frozen=True, slots=True, order=True)
class Standard:
    """An Indian Standard as written on a document: `IS 9873 (Part 1):2019`."""

    number: str  # `9873`, `302-2-25`
    part: str | None = None  # `1`, `5/SEC1`
    year: str | None = None

    def satisfies(self, required: Standard) -> bool:
        """This standard attests `required` (a required part or year must be the same)."""
        if self.number != required.number:
            return False
        if required.part is not None and self.part != required.part:
            return False
        return required.year is None or self.year is None or self.year == required.year

    def __str__(self) -> str:
        part = f" (Part {self.part})" if self.part else ""
        year = f":{self.year}" if self.year else ""
        return f"IS {self.number}{part}{year}"


_STANDARD = re.compile(
    r"IS(?:/IEC)?(?P<number>\d+(?:-\d+)*)(?:\(PART(?P<part>[0-9A-Z/]+)\))?(?::(?P<year>\d{4}))?"
)


def standards_in(texts: Iterable[str]) -> list[Standard]:
    """The Indian Standards named in texts like `IS13252(Part1):2010/IEC60950-1:2005`."""
    found = []
    for text in texts:
        compact = "".join(text.upper().split())
        for match in _STANDARD.finditer(compact):
            found.append(Standard(match["number"], match["part"], match["year"]))
    return found


def standard_numbers(texts: Iterable[str]) -> set[str]:
    return {standard.number for standard in standards_in(texts)}


def canonical_registration_no(text: str) -> str | None:
    """`R-41087785` (`r 41087785`, `R41087785`); None when it is not one."""
    match = re.fullmatch(r"R-?(\d{7,9})", "".join(text.upper().split()))
    return None if match is None else f"R-{match.group(1)}"


def canonical_licence_no(text: str) -> str | None:
    """A CM/L licence in its 10-digit form: `CM/L-1234567` and `CM/L-0001234567` are one
    licence (BIS padded the old 7-digit numbers with zeros); None when it is not one."""
    match = re.fullmatch(r"(?:CM/?L)?[-/]*(\d{7}|\d{10})", "".join(text.upper().split()))
    return None if match is None else f"CM/L-{match.group(1).rjust(10, '0')}"
