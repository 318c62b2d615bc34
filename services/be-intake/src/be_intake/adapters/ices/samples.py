"""Sample ICES files (for tests, the e2e suite and the parsing benchmark): canonical BEs
with the spec's mandatory fields that the canonical BE has no name for (`ices_fields`),
rendered as CACHI01."""

from __future__ import annotations

import copy
import json
from typing import Any

from clearance_contracts import example

from be_intake.adapters.ices import flatfile, mapping


def with_ices_fields(be: dict[str, Any]) -> dict[str, Any]:
    """The BE with values for every mandatory field of the spec the canonical BE lacks
    (pp. 13, 17, 19-20, 24-26, 36, 38, 50-51)."""
    be = copy.deepcopy(be)
    bag: dict[str, dict[str, str]] = {
        "BE": {
            "16": "N",
            "19": "N",
            "20": "N",
            "21": be.get("port_of_shipment", "CNNGB"),
            "27": "N",
            "29": "0510005",
        },
        "CTX/1": {"7": "27", "8": "G", "9": "27AAGCS4417M1Z5"},
    }
    for invoice in be["invoices"]:
        n = invoice["invoice_sl_no"]
        bag[f"INVOICE/{n}"] = {"66": "S", "67": "LC", "87": "N"}
        bag[f"EXCHANGE/{invoice['currency']}"] = {"8": "Y"}
        for item in invoice["items"]:
            bag[f"ITEMS/{n}/{item['item_sl_no']}"] = {
                "20": "TRADING",
                "23": "S",
                "24": "NOEXCISE",
                "74": "N",
                "75": "N",
                "92": "0",
            }
    for n, _ in enumerate(be.get("house_bills") or [], start=1):
        bag[f"IGMS/{n}"] = {"21": "AS ADDRESSED"}
    for n, doc in enumerate(be.get("supporting_documents") or [], start=1):
        bag[f"SUPPORTINGDOCS/{n}"] = {
            "7": "B",
            "12": "AABCJ2231PCH001",
            "13": doc["reference"][:16],
            "22": "MUMBAI",
            "26": be.get("importer_name", "IMPORTER")[:70],
            "31": "pdf",
        }
    be["ices_fields"] = bag
    return be


def example_be() -> dict[str, Any]:
    be = json.loads(json.dumps(example("icegate.bill-of-entry.filed.v1")))
    for doc in be["supporting_documents"]:
        doc.pop("standards", None)  # not carried by the flat file (README)
    be.pop("aeo_tier", None)  # a claim the flat file does not carry
    return with_ices_fields(be)


def cachi01(be: dict[str, Any], *, control_no: str = "100001", crlf: bool = False) -> str:
    message = mapping.message_of(
        be, sender="AABCJ2231PCH001", control_no=control_no, at="202503201042"
    )
    return flatfile.write(message, crlf=crlf)
