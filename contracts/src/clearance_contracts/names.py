"""The names every service agrees on: event types (== Kafka topics) and HTTP body schemas."""

from __future__ import annotations

from typing import Any, Final

from clearance_contracts import _resources

#: The hand-edited list of topics that asyncapi.yaml is generated from.
CATALOGUE_FILE: Final = "catalogue.yaml"

BILL_OF_ENTRY_FILED: Final = "icegate.bill-of-entry.filed.v1"
BILL_OF_ENTRY_REGISTERED: Final = "clearance.bill-of-entry.registered.v1"
BILL_OF_ENTRY_REJECTED: Final = "clearance.bill-of-entry.rejected.v1"
BIS_VERIFICATION_PENDING: Final = "clearance.bis-verification.pending.v1"
BIS_VERIFICATION_COMPLETED: Final = "clearance.bis-verification.completed.v1"
RMS_DECISION_MADE: Final = "clearance.rms-decision.made.v1"
EXAMINATION_COMPLETED: Final = "clearance.examination.completed.v1"
SAMPLE_TEST_REPORTED: Final = "nabl-lab.sample-test.reported.v1"
BIS_SAMPLE_CONCLUDED: Final = "clearance.bis-sample.concluded.v1"
SEAL_TRIP_RECONCILED: Final = "clearance.seal-trip.reconciled.v1"
OUT_OF_CHARGE_ISSUED: Final = "clearance.out-of-charge.issued.v1"
OUT_OF_CHARGE_HELD: Final = "clearance.out-of-charge.held.v1"
E_GATEPASS_ISSUED: Final = "custodian.e-gatepass.issued.v1"
# Facts from outside parties and the events be-intake publishes about them (issue 8).
AEO_CERTIFICATE_RECORDED: Final = "aeo-directory.aeo-certificate.recorded.v1"
IGM_ENTERED_INWARD: Final = "icegate.igm.entered-inward.v1"
BILL_OF_ENTRY_AMENDMENT_FILED: Final = "icegate.bill-of-entry.amendment-filed.v1"
BILL_OF_ENTRY_INVALIDATED: Final = "clearance.bill-of-entry.invalidated.v1"
DUTY_PAYMENT_RECEIVED: Final = "icegate.duty-payment.received.v1"
DEFERRED_PAYMENT_AUTHENTICATED: Final = "icegate.deferred-payment.authenticated.v1"
DUTY_PAYMENT_RECORDED: Final = "clearance.duty-payment.recorded.v1"
BILL_OF_ENTRY_NOTICE_PUBLISHED: Final = "clearance.bill-of-entry-notice.published.v1"
ICES_ACKNOWLEDGEMENT_ISSUED: Final = "clearance.ices-acknowledgement.issued.v1"
ICES_MESSAGE_ISSUED: Final = "clearance.ices-message.issued.v1"
# rms-router's faceless assessment routing (RMS-FAG-1), read by be-intake (issue 9).
ASSESSMENT_ROUTING_PUBLISHED: Final = "clearance.assessment-routing.published.v1"
# Facts of the other services that be-intake folds into its status view (CONTRACTS.md).
RFID_SEAL_SOLD: Final = "vendor.rfid-seal.sold.v1"
RFID_SEAL_AFFIXED: Final = "vendor.rfid-seal.affixed.v1"
RFID_SEAL_SCANNED: Final = "reader.rfid-seal.scanned.v1"
SEAL_TRIP_ALERT_RAISED: Final = "clearance.seal-trip.alert-raised.v1"
DUTY_DEMAND_RAISED: Final = "clearance.duty-demand.raised.v1"
ASSESSMENT_COMPLETED: Final = "clearance.assessment.completed.v1"
PGA_NOC_RECORDED: Final = "clearance.pga-noc.recorded.v1"
RE_EXPORT_ORDERED: Final = "clearance.re-export.ordered.v1"
GATE_OUT_REPORTED: Final = "custodian.gate-out.reported.v1"


def _catalogue_event_types() -> tuple[str, ...]:
    """The `type` of every topic of catalogue.yaml, in its order.

    Read from the catalogue rather than kept by hand here, so that adding an event type is one
    entry there (plus its schema and example); the tests check that the two agree.
    """
    catalogue: Any = _resources.load_yaml(CATALOGUE_FILE)
    entries = catalogue.get("topics") if isinstance(catalogue, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{CATALOGUE_FILE}: `topics` is not a list")
    types: list[str] = []
    for entry in entries:
        name = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in types:
            raise ValueError(f"{CATALOGUE_FILE}: a topic without a `type` of its own: {name!r}")
        types.append(name)
    return tuple(types)


#: Every event type, in the order a Bill of Entry meets them (the order of catalogue.yaml).
#: Each is also its Kafka topic.
EVENT_TYPES: Final[tuple[str, ...]] = _catalogue_event_types()

BILL_OF_ENTRY_FILING: Final = "bill-of-entry.filing.v1"
BILL_OF_ENTRY_ACCEPTED: Final = "bill-of-entry.accepted.v1"
BILL_OF_ENTRY_STATUS: Final = "bill-of-entry.status.v1"
BILL_OF_ENTRY_SEARCH: Final = "bill-of-entry.search.v1"
BILL_OF_ENTRY_AMENDMENT: Final = "bill-of-entry.amendment.v1"
AMENDMENT_DECISION: Final = "bill-of-entry.amendment-decision.v1"
OFFICER_WAIVER: Final = "officer.waiver.v1"
AEO_CERTIFICATES: Final = "aeo.certificates.v1"
ASSESSMENT_ROUTING: Final = "assessment-routing.v1"
IGM_ARRIVAL: Final = "igm.arrival.v1"
HTTP_ERROR: Final = "error.v1"
#: be-intake: the answer to an ICES 1.5 flat file uploaded (issue 9).
ICES_ACKNOWLEDGEMENT: Final = "ices.acknowledgement.v1"
SEAL_SALES_UPLOAD: Final = "seal-sales.upload.v1"
SEAL_SALES_RECORDED: Final = "seal-sales.recorded.v1"
SEAL_TRIP_EXEMPTION: Final = "seal-trip.exemption.v1"
SEAL_TRIP_DEADLINE_EXTENSION: Final = "seal-trip.deadline-extension.v1"
SEAL_TRIP: Final = "seal-trip.v1"
SEAL_TRIP_REPORT: Final = "seal-trip.report.v1"
SEAL_VERDICT: Final = "seal-verdict.v1"
OFFICER_DECISION: Final = "out-of-charge.officer-decision.v1"
CUSTODIAN_CALLBACK: Final = "custodian.callback.v1"
E_OOC_VERIFICATION: Final = "e-ooc.verification.v1"

#: HTTP bodies of rms-router: the officers' queues, tasks and results, the decisions of a BE
#: with their replay, and its audit trail.
OFFICER_QUEUE: Final = "officer-queue.v1"
OFFICER_TASK: Final = "officer-task.v1"
ASSESSMENT_RESULT: Final = "assessment-result.v1"
EXAMINATION_RESULT: Final = "examination-result.v1"
PGA_NOC_RESULT: Final = "pga-noc-result.v1"
RMS_DECISIONS: Final = "rms-decisions.v1"
RMS_DECISION_REPLAY: Final = "rms-decision-replay.v1"
AUDIT_TRAIL: Final = "audit-trail.v1"

#: HTTP bodies: be-intake's filings, amendments and their decisions, waivers, status and search,
#: directory and arrival uploads; warehouse-seal's; ooc-issuer's; rms-router's.
HTTP_SCHEMAS: Final[tuple[str, ...]] = (
    BILL_OF_ENTRY_FILING,
    BILL_OF_ENTRY_ACCEPTED,
    BILL_OF_ENTRY_STATUS,
    BILL_OF_ENTRY_SEARCH,
    BILL_OF_ENTRY_AMENDMENT,
    AMENDMENT_DECISION,
    OFFICER_WAIVER,
    AEO_CERTIFICATES,
    ASSESSMENT_ROUTING,
    IGM_ARRIVAL,
    HTTP_ERROR,
    ICES_ACKNOWLEDGEMENT,
    # warehouse-seal: seal sales (bulk), sealing, exemptions, deadlines, trips and reports
    SEAL_SALES_UPLOAD,
    SEAL_SALES_RECORDED,
    SEAL_TRIP_EXEMPTION,
    SEAL_TRIP_DEADLINE_EXTENSION,
    SEAL_TRIP,
    SEAL_TRIP_REPORT,
    SEAL_VERDICT,
    # ooc-issuer: officer decision, custodian callback registration, e-OOC verification
    OFFICER_DECISION,
    CUSTODIAN_CALLBACK,
    E_OOC_VERIFICATION,
    # rms-router: officers' queues, tasks, results, decisions, replays, audit trails
    OFFICER_QUEUE,
    OFFICER_TASK,
    ASSESSMENT_RESULT,
    EXAMINATION_RESULT,
    PGA_NOC_RESULT,
    RMS_DECISIONS,
    RMS_DECISION_REPLAY,
    AUDIT_TRAIL,
)

#: The file of shared `$defs` that every other schema refers to.
COMMON: Final = "common.v1"

#: Base URI of every schema `$id`; relative `$ref`s resolve against it.
BASE_URI: Final = "https://clearance.example/contracts/"


def bill_of_entry_key(port_code: str, be_no: str, be_date: str) -> str:
    """The BE identity `<port_code>/<be_no>/<be_date>`: Kafka key and CloudEvents subject."""
    return f"{port_code}/{be_no}/{be_date}"
