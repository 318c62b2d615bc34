"""What the other parties say about the national day's BEs, as their events: the AEO
directory (a certificate for every AEO importer of the mix, with the tier it claims), the
carriers' arrivals (one IGM entered inward per BE, as its filing names it), and the payments
(the e-payment gateway's report of each BE whose duty the mix pays, or the OTP authentication
of each deferred one). be-intake takes these facts from them, never from the filing; the
mix stays what `workload.py` makes it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from clearance_runtime.clock import CUSTOMS_TIMEZONE

from clearance_bench.workload import Filing

AEO_CERTIFICATE = "aeo-directory.aeo-certificate.recorded.v1"
ARRIVAL = "icegate.igm.entered-inward.v1"
PAYMENT = "icegate.duty-payment.received.v1"
DEFERMENT = "icegate.deferred-payment.authenticated.v1"
_MODES = {"S": "sea", "A": "air", "L": "land"}

Event = tuple[str, str, dict[str, Any]]  # (event type, key, data)


def _stamp(day: date, hour: int = 9) -> str:
    return datetime.combine(day, time(hour), tzinfo=CUSTOMS_TIMEZONE).isoformat()


def certificates(filings: list[Filing]) -> list[Event]:
    """One certificate per AEO importer, valid around the BE date, of the tier it claims."""
    seen: dict[str, Event] = {}
    for filing in filings:
        be = filing.bill_of_entry
        tier, iec = be.get("aeo_tier"), be["iec"]
        if not tier or iec in seen or len(iec) != 10 or not iec.isalnum() or not iec.isupper():
            continue
        be_date = date.fromisoformat(be["be_date"])
        data = {
            "certificate_no": f"IN{iec}1F{tier[-1]}",
            "iec": iec,
            "tier": tier,
            "entity_name": be.get("importer_name") or iec,
            "valid_from": (be_date - timedelta(days=700)).isoformat(),
            "valid_to": (be_date + timedelta(days=1100)).isoformat(),
            "suspended_from": None,
            "revoked_from": None,
            "recorded_at": _stamp(be_date - timedelta(days=700)),
        }
        seen[iec] = (AEO_CERTIFICATE, data["certificate_no"], data)
    return list(seen.values())


def arrivals(filings: list[Filing]) -> list[Event]:
    """The IGM each BE was filed against, entered inward on its arrival day."""
    events = []
    for filing in filings:
        be, igm = filing.bill_of_entry, filing.bill_of_entry.get("igm")
        if not igm or not igm.get("inward_date"):
            continue
        data = {
            "port_code": be["port_code"],
            "igm_no": igm["igm_no"],
            "igm_date": igm["igm_date"],
            "inward_date": igm["inward_date"],
            "mode": _MODES[be["mode_of_transport"]],
            "lines": [{"master_bill_no": h["master_bill_no"]} for h in be.get("house_bills", [])],
            "recorded_at": _stamp(date.fromisoformat(igm["inward_date"]), 6),
        }
        events.append((ARRIVAL, f"{be['port_code']}/{igm['igm_no']}/{igm['igm_date']}", data))
    return events


def payment(filing: Filing) -> Event | None:
    """The bank's report of the duty paid, or the OTP of a deferred payment, if the mix has
    one for this BE (none for warehousing BEs, or unpaid ones)."""
    be = filing.bill_of_entry
    duty, identity = be["duty"], {k: be[k] for k in ("port_code", "be_no", "be_date")}
    filed = datetime.fromisoformat(be["filed_at"])
    if duty["deferred_payment_otp_authenticated"]:
        data = {
            **identity,
            "authentication_id": f"OTP-{be['be_no']}{be['port_code']}"[:35],
            "iec": be["iec"],
            "authenticated_at": (filed + timedelta(minutes=20)).isoformat(),
        }
        return DEFERMENT, filing.key, data
    if duty["paid"] and duty["total_duty"] > 0:
        data = {
            **identity,
            "challan_no": f"{be['be_no']}{be['port_code'][2:]}"[:20],
            "transaction_no": f"ECL{be['port_code']}{be['be_no']}",
            "amount": duty["total_duty"],
            "mode": "electronic_cash_ledger",
            "paid_at": (filed + timedelta(minutes=30)).isoformat(),
        }
        return PAYMENT, filing.key, data
    return None
