"""The custodians (CFS, ICD, port and air cargo terminals) the platform sends e-Gatepasses to.

Read from `custodians.yaml` (SAMPLE DATA). Each custodian has its own e-Gatepass topic
(`custodian.e-gatepass.issued.v1.<code>`, OOC-GP-1), generated into the AsyncAPI document
from this registry, so that a per-topic Kafka ACL lets only that custodian read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from clearance_contracts import _resources

CUSTODIANS_FILE = "custodians.yaml"
_CODE = re.compile(r"^[A-Z0-9]{1,15}$")
_PORT = re.compile(r"^[A-Z]{2}[A-Z0-9]{4}$")
KINDS = ("cfs", "icd", "port_terminal", "air_cargo_terminal")


@dataclass(frozen=True, slots=True)
class Custodian:
    code: str
    name: str
    port_code: str
    kind: str
    default_for_port: bool = False


def parse_custodians(raw: object) -> tuple[Custodian, ...]:
    """The registry's custodians, checked: codes unique, at most one default per port."""
    entries = raw.get("custodians") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{CUSTODIANS_FILE}: `custodians` is not a list")
    found: list[Custodian] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {
            "code", "name", "port_code", "kind", "default_for_port",
        }:  # fmt: skip
            raise ValueError(f"{CUSTODIANS_FILE}: custodians[{index}] is malformed")
        custodian = Custodian(
            code=str(entry.get("code", "")),
            name=str(entry.get("name", "")),
            port_code=str(entry.get("port_code", "")),
            kind=str(entry.get("kind", "")),
            default_for_port=bool(entry.get("default_for_port", False)),
        )
        if not _CODE.match(custodian.code) or not _PORT.match(custodian.port_code):
            raise ValueError(f"{CUSTODIANS_FILE}: custodians[{index}]: bad code or port code")
        if custodian.kind not in KINDS or not custodian.name:
            raise ValueError(f"{CUSTODIANS_FILE}: custodians[{index}]: bad kind or no name")
        found.append(custodian)
    codes = [c.code for c in found]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{CUSTODIANS_FILE}: a custodian code is listed twice")
    defaults = [c.port_code for c in found if c.default_for_port]
    if len(set(defaults)) != len(defaults):
        raise ValueError(f"{CUSTODIANS_FILE}: a custom house has two default custodians")
    return tuple(found)


@cache
def custodians() -> tuple[Custodian, ...]:
    """Every registered custodian, in file order."""
    return parse_custodians(_resources.load_yaml(CUSTODIANS_FILE))


def custodian(code: str) -> Custodian | None:
    """The registered custodian with this ICEGATE code, if any."""
    return next((c for c in custodians() if c.code == code), None)


def default_custodian(port_code: str) -> Custodian | None:
    """The custodian that receives e-Gatepasses of the custom house's BEs naming none."""
    return next((c for c in custodians() if c.port_code == port_code and c.default_for_port), None)
