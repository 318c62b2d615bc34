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
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    BIS_VERIFICATION_PENDING,
    COMMON,
    E_GATEPASS_ISSUED,
    EVENT_TYPES,
    EXAMINATION_COMPLETED,
    HTTP_SCHEMAS,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    SAMPLE_TEST_REPORTED,
    SEAL_TRIP_RECONCILED,
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
    "BIS_SAMPLE_CONCLUDED",
    "BIS_VERIFICATION_COMPLETED",
    "BIS_VERIFICATION_PENDING",
    "COMMON",
    "EVENT_TYPES",
    "EXAMINATION_COMPLETED",
    "E_GATEPASS_ISSUED",
    "HTTP_SCHEMAS",
    "OUT_OF_CHARGE_HELD",
    "OUT_OF_CHARGE_ISSUED",
    "RMS_DECISION_MADE",
    "SAMPLE_TEST_REPORTED",
    "SEAL_TRIP_RECONCILED",
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
