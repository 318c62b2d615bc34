"""The names every service agrees on: event types (== Kafka topics) and HTTP body schemas."""

from __future__ import annotations

from typing import Any, Final

from clearance_contracts import _resources

#: The hand-edited list of topics that asyncapi.yaml is generated from.
CATALOGUE_FILE: Final = "catalogue.yaml"

BILL_OF_ENTRY_FILED: Final = "icegate.bill-of-entry.filed.v1"
BILL_OF_ENTRY_REGISTERED: Final = "clearance.bill-of-entry.registered.v1"
BILL_OF_ENTRY_REJECTED: Final = "clearance.bill-of-entry.rejected.v1"
BIS_VERIFICATION_COMPLETED: Final = "clearance.bis-verification.completed.v1"
RMS_DECISION_MADE: Final = "clearance.rms-decision.made.v1"
SEAL_TRIP_RECONCILED: Final = "clearance.seal-trip.reconciled.v1"
OUT_OF_CHARGE_ISSUED: Final = "clearance.out-of-charge.issued.v1"
OUT_OF_CHARGE_HELD: Final = "clearance.out-of-charge.held.v1"
E_GATEPASS_ISSUED: Final = "custodian.e-gatepass.issued.v1"


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

#: Every HTTP body schema: be-intake's (POST /bills-of-entry request and response, GET
#: status response), then rms-router's.
HTTP_SCHEMAS: Final[tuple[str, ...]] = (
    BILL_OF_ENTRY_FILING,
    BILL_OF_ENTRY_ACCEPTED,
    BILL_OF_ENTRY_STATUS,
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
