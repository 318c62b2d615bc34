"""Contracts of the clearance platform: JSON Schemas of every event and HTTP body, the AsyncAPI
document of every topic, example data, and typed models generated from the schemas.

    from clearance_contracts import validate_event, ContractViolation

    validate_event("icegate.bill-of-entry.filed.v1", data)  # raises ContractViolation
    event_key("icegate.bill-of-entry.filed.v1", data)  # "INNSA1/2345678/2025-03-20"
"""

from clearance_contracts.examples import example, example_variants
from clearance_contracts.keys import MissingKeyField, event_key
from clearance_contracts.names import (
    BASE_URI,
    BILL_OF_ENTRY_ACCEPTED,
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_FILING,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    BILL_OF_ENTRY_STATUS,
    BIS_VERIFICATION_COMPLETED,
    COMMON,
    DUTY_DEMAND_RAISED,
    E_GATEPASS_ISSUED,
    EVENT_TYPES,
    HTTP_SCHEMAS,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RFID_SEAL_AFFIXED,
    RFID_SEAL_SCANNED,
    RFID_SEAL_SOLD,
    RMS_DECISION_MADE,
    SEAL_SALES_RECORDED,
    SEAL_SALES_UPLOAD,
    SEAL_TRIP,
    SEAL_TRIP_ALERT_RAISED,
    SEAL_TRIP_DEADLINE_EXTENSION,
    SEAL_TRIP_EXEMPTION,
    SEAL_TRIP_RECONCILED,
    SEAL_TRIP_REPORT,
    SEAL_VERDICT,
    bill_of_entry_key,
)
from clearance_contracts.topology import (
    AsyncApiError,
    TopicSpec,
    all_topic_names,
    asyncapi_document,
    topic,
    topics,
)
from clearance_contracts.validation import (
    ContractViolation,
    dereferenced_schema,
    schema,
    validate_event,
    validate_http,
)

__all__ = [
    "BASE_URI",
    "BILL_OF_ENTRY_ACCEPTED",
    "BILL_OF_ENTRY_FILED",
    "BILL_OF_ENTRY_FILING",
    "BILL_OF_ENTRY_REGISTERED",
    "BILL_OF_ENTRY_REJECTED",
    "BILL_OF_ENTRY_STATUS",
    "BIS_VERIFICATION_COMPLETED",
    "COMMON",
    "DUTY_DEMAND_RAISED",
    "EVENT_TYPES",
    "E_GATEPASS_ISSUED",
    "HTTP_SCHEMAS",
    "OUT_OF_CHARGE_HELD",
    "OUT_OF_CHARGE_ISSUED",
    "RFID_SEAL_AFFIXED",
    "RFID_SEAL_SCANNED",
    "RFID_SEAL_SOLD",
    "RMS_DECISION_MADE",
    "SEAL_SALES_RECORDED",
    "SEAL_SALES_UPLOAD",
    "SEAL_TRIP",
    "SEAL_TRIP_ALERT_RAISED",
    "SEAL_TRIP_DEADLINE_EXTENSION",
    "SEAL_TRIP_EXEMPTION",
    "SEAL_TRIP_RECONCILED",
    "SEAL_TRIP_REPORT",
    "SEAL_VERDICT",
    "AsyncApiError",
    "ContractViolation",
    "MissingKeyField",
    "TopicSpec",
    "all_topic_names",
    "asyncapi_document",
    "bill_of_entry_key",
    "dereferenced_schema",
    "event_key",
    "example",
    "example_variants",
    "schema",
    "topic",
    "topics",
    "validate_event",
    "validate_http",
]
