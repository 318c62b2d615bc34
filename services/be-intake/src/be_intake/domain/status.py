"""The statuses a BE goes through and their notice codes (pure; STATUS-1).

A finite set, each with a two-digit code in the manner of the notification
function codes of HMRC's Customs Declaration Service (hmrc/customs-declarations,
RULES.md STATUS-1): where CDS has the same notice the code is CDS's (01
accepted DMSACC, 03 rejected DMSREJ, 05 under control DMSCTL, 06 documents
requested DMSDOC, 07 amendment accepted DMSRES, 08 released DMSROG, 09 cleared
DMSCLE, 10 invalidated DMSINV, 16 goods exited DMSEOG); 13 is our code for the
tax liability CDS announces as DMSTAX; the steps CDS has no code for are 3x.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDER_CONTROL = "under_control"
    DOCUMENTS_REQUESTED = "documents_requested"
    AMENDMENT_ACCEPTED = "amendment_accepted"
    RELEASED = "released"
    GATEPASS_ISSUED = "gatepass_issued"
    INVALIDATED = "invalidated"
    DUTY_DUE = "duty_due"
    GOODS_EXITED = "goods_exited"
    EXAMINATION_ORDERED = "examination_ordered"
    ASSESSED = "assessed"
    PAID = "paid"
    BIS_VERIFICATION_PENDING = "bis_verification_pending"

    @property
    def code(self) -> str:
        return NOTICE_CODES[self]

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


NOTICE_CODES: dict[Status, str] = {
    Status.ACCEPTED: "01",
    Status.REJECTED: "03",
    Status.UNDER_CONTROL: "05",
    Status.DOCUMENTS_REQUESTED: "06",
    Status.AMENDMENT_ACCEPTED: "07",
    Status.RELEASED: "08",
    Status.GATEPASS_ISSUED: "09",
    Status.INVALIDATED: "10",
    Status.DUTY_DUE: "13",
    Status.GOODS_EXITED: "16",
    Status.EXAMINATION_ORDERED: "31",
    Status.ASSESSED: "32",
    Status.PAID: "33",
    Status.BIS_VERIFICATION_PENDING: "34",
}

MEANINGS: dict[Status, str] = {
    Status.ACCEPTED: "registered (every intake rule passed); checks under way",
    Status.REJECTED: "refused on intake rules (every rule broken is listed); nothing went on",
    Status.UNDER_CONTROL: "with an officer: selected for assessment, scanning or a PGA NOC, "
    "or held from automatic Out of Charge",
    Status.DOCUMENTS_REQUESTED: "a post-clearance amendment awaits the officer's check of its "
    "documentary evidence (INTAKE-AMEND-2)",
    Status.AMENDMENT_ACCEPTED: "an amendment was registered as a new version (INTAKE-AMEND-1)",
    Status.RELEASED: "Out of Charge issued",
    Status.GATEPASS_ISSUED: "the e-Gatepass went to the custodian (OOC-GP-1)",
    Status.INVALIDATED: "invalid: nothing may be released on it (e.g. INTAKE-PRIOR-1)",
    Status.DUTY_DUE: "assessed (or self-assessment accepted); duty or charges to pay",
    Status.GOODS_EXITED: "the custodian let the goods out of its gate",
    Status.EXAMINATION_ORDERED: "selected for examination of the goods (RMS-1)",
    Status.ASSESSED: "assessment complete and nothing to pay now (e.g. warehousing)",
    Status.PAID: "duty paid, or deferred and authenticated by OTP (INTAKE-DUTY-1, -2)",
    Status.BIS_VERIFICATION_PENDING: "the BIS registry did not answer: the BIS check waits and "
    "is retried; nothing is released unverified (BIS-CRS-1)",
}
