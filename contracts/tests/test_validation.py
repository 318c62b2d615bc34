"""Every example satisfies its schema; broken data is refused with the path of the fault."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import clearance_contracts as contracts
import jsonschema_rs
import pytest

pytestmark = pytest.mark.unit

PACKAGE = resources.files("clearance_contracts")


def _example_files() -> list[tuple[str, str]]:
    """(variant, event type) of every example file on disk."""
    found = []
    folder = PACKAGE / "examples"
    for entry in folder.iterdir():
        if entry.is_file() and entry.name.endswith(".json"):
            found.append(("default", entry.name.removesuffix(".json")))
        elif entry.is_dir():
            found += [
                (entry.name, sub.name.removesuffix(".json"))
                for sub in entry.iterdir()
                if sub.name.endswith(".json")
            ]
    return sorted(found)


def _schema_documents() -> list[tuple[str, dict[str, Any]]]:
    names = [*contracts.EVENT_TYPES, *contracts.HTTP_SCHEMAS, contracts.COMMON]
    return [(name, contracts.schema(name)) for name in names]


def _walk(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


@pytest.mark.parametrize(("variant", "event_type"), _example_files())
def test_every_example_file_is_valid_data_of_its_event_type(variant: str, event_type: str) -> None:
    assert event_type in contracts.EVENT_TYPES, f"example of unknown event type {event_type}"
    assert variant in contracts.example_variants(event_type)
    contracts.validate_event(event_type, contracts.example(event_type, variant))


def test_example_returns_a_fresh_copy() -> None:
    first = contracts.example(contracts.BILL_OF_ENTRY_FILED)
    first["be_no"] = "mutated"
    assert contracts.example(contracts.BILL_OF_ENTRY_FILED)["be_no"] != "mutated"


def test_unknown_example_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        contracts.example(contracts.RMS_DECISION_MADE, "warehousing")
    with pytest.raises(KeyError):
        contracts.example("clearance.nothing.happened.v1")


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return mutate


FILED = contracts.BILL_OF_ENTRY_FILED
BROKEN: list[tuple[str, Mutation, str, str]] = [
    (
        FILED,
        _set(["invoices", 0, "items", 0, "cth"], "85258"),
        "$.invoices[0].items[0].cth",
        '"85258" does not match "^[0-9]{8}$"',
    ),
    (FILED, _delete(["be_no"]), "$", '"be_no" is a required property'),
    (FILED, _set(["be_date"], "2025-02-30"), "$.be_date", "date"),
    (FILED, _set(["filed_at"], "2025-03-20 10:42"), "$.filed_at", "date-time"),
    (FILED, _set(["be_type"], "Q"), "$.be_type", '"Q" is not one of'),
    (FILED, _set(["port_code"], "innsa1"), "$.port_code", "does not match"),
    (FILED, _set(["invoices"], []), "$.invoices", "[] has less than 1 item"),
    (FILED, _set(["invoices", 0, "items"], []), "$.invoices[0].items", "less than 1 item"),
    (
        FILED,
        _set(["containers", 0, "container_no"], "MSKU736451"),
        "$.containers[0].container_no",
        "match",
    ),
    (FILED, _set(["duty", "paid"], "yes"), "$.duty.paid", 'not of type "boolean"'),
    (FILED, _set(["aeo_tier"], "T4"), "$.aeo_tier", "is not one of"),
    (FILED, _set(["igm", "igm_no"], "IGM-1"), "$.igm.igm_no", "does not match"),
    (FILED, _set(["warehouse_code"], "WAREHOUSE-7"), "$.warehouse_code", "longer than 8"),
    (FILED, _set(["iec"], "A" * 21), "$.iec", "longer than 20"),
    (FILED, _set(["smuggled"], True), "$", "'smuggled' was unexpected"),
    (
        FILED,
        _set(["supporting_documents", 0, "document_type"], "bis"),
        "$.supporting_documents[0].document_type",
        "is not one of",
    ),
    (
        contracts.BILL_OF_ENTRY_REJECTED,
        _delete(["bill_of_entry_ref", "be_date"]),
        "$.bill_of_entry_ref",
        '"be_date" is a required property',
    ),
    (contracts.BILL_OF_ENTRY_REJECTED, _set(["reasons"], []), "$.reasons", "less than 1 item"),
    (
        contracts.BILL_OF_ENTRY_REJECTED,
        _set(["reasons", 0, "rule_id"], "iec rule"),
        "$.reasons[0].rule_id",
        "does not match",
    ),
    (
        contracts.RMS_DECISION_MADE,
        _set(["outcome"], "green"),
        "$.outcome",
        '"green" is not one of',
    ),
    (
        contracts.E_GATEPASS_ISSUED,
        _set(["warehouse_code"], 17),
        "$.warehouse_code",
        '17 is not of type "string" (nor null)',
    ),
    (
        contracts.BIS_VERIFICATION_COMPLETED,
        _set(["bill_of_entry", "invoices", 0, "currency"], "usd"),
        "$.bill_of_entry.invoices[0].currency",
        "does not match",
    ),
    (
        contracts.BILL_OF_ENTRY_REGISTERED,
        _set(["bill_of_entry", "igm"], {"igm_no": "1"}),
        "$.bill_of_entry.igm",
        '"igm_date" is a required property',
    ),
]


@pytest.mark.parametrize(
    ("event_type", "mutate", "path", "fragment"),
    BROKEN,
    ids=[f"{case[0]}:{case[2]}" for case in BROKEN],
)
def test_broken_data_is_refused_with_the_path_of_the_fault(
    event_type: str, mutate: Mutation, path: str, fragment: str
) -> None:
    data = contracts.example(event_type)
    mutate(data)
    with pytest.raises(contracts.ContractViolation) as caught:
        contracts.validate_event(event_type, data)
    text = str(caught.value)
    assert text.startswith(f"{event_type}: {path}: "), text
    assert fragment in text, text
    assert caught.value.path == path
    assert caught.value.schema_name == event_type


def test_reason_names_the_first_fault_in_the_documented_form() -> None:
    data = contracts.example(FILED)
    data["invoices"][0]["items"][0]["cth"] = "85258"
    with pytest.raises(contracts.ContractViolation) as caught:
        contracts.validate_event(FILED, data)
    assert str(caught.value) == (
        'icegate.bill-of-entry.filed.v1: $.invoices[0].items[0].cth: "85258" does not match '
        '"^[0-9]{8}$"'
    )


def test_an_unknown_event_type_is_a_contract_violation() -> None:
    with pytest.raises(contracts.ContractViolation, match="unknown event type"):
        contracts.validate_event("clearance.bill-of-entry.misplaced.v1", {})


@pytest.mark.parametrize("data", [None, [], "BE", 7, {}])
def test_data_that_is_not_the_right_object_is_refused(data: object) -> None:
    with pytest.raises(contracts.ContractViolation, match=r"^icegate.bill-of-entry.filed.v1: \$"):
        contracts.validate_event(FILED, data)


def test_python_values_with_no_json_form_are_refused() -> None:
    data = contracts.example(FILED)
    data["filed_at"] = datetime.now(UTC)
    with pytest.raises(contracts.ContractViolation, match="not JSON data"):
        contracts.validate_event(FILED, data)


def test_a_very_long_reason_is_shortened() -> None:
    data = contracts.example(contracts.BILL_OF_ENTRY_REGISTERED)
    data["bill_of_entry"]["invoices"] = {"x" * 1000: 1}
    with pytest.raises(contracts.ContractViolation) as caught:
        contracts.validate_event(contracts.BILL_OF_ENTRY_REGISTERED, data)
    assert len(caught.value.reason) <= 300


def test_business_rules_are_not_schema_rules() -> None:
    """INTAKE-IEC-1 and INTAKE-BE-2 are checked by be-intake and cited as reasons."""
    data = contracts.example(FILED)
    data["iec"] = "AB12"  # not 10 characters: INTAKE-IEC-1
    data["be_type"] = "W"
    data["warehouse_code"] = None  # warehousing BE without warehouse: INTAKE-BE-2
    contracts.validate_event(FILED, data)


def _status_body() -> dict[str, Any]:
    ooc = contracts.example(contracts.OUT_OF_CHARGE_ISSUED)
    registered = contracts.example(contracts.BILL_OF_ENTRY_REGISTERED)
    return {
        "bill_of_entry_ref": ooc["bill_of_entry_ref"],
        "status": "gatepass_issued",
        "notice_code": "09",
        "registered": True,
        "filer": "AABCJ2231PCH001",
        "iec": "AAGCS4417M",
        "presented_on": "2025-03-20",
        "aeo_certificate": registered["aeo_certificate"],
        "aeo_claim": "T2",
        "arrival": registered["arrival"],
        "charges": {
            "duty_self_assessed": 2881666.87,
            "duty_assessed": None,
            "late_presentation": None,
            "amount_due": 2881666.87,
            "total_paid": 0,
            "outstanding": 0,
            "deferred": {
                "reference": "OTP-2503200011872",
                "amount": 2881666.87,
                "due_date": "2025-03-31",
                "at": "2025-03-20T11:02:09+05:30",
            },
            "payments": [],
        },
        "out_of_charge_no": ooc["ooc_no"],
        "gatepass_no": None,
        "pending_amendment": None,
        "history": [
            {
                "version": 1,
                "event_type": contracts.BILL_OF_ENTRY_REGISTERED,
                "producer": "be-intake",
                "summary": "registered as version 1; presented on 2025-03-20",
                "status": "accepted",
                "notice_code": "01",
                "at": "2025-03-20T10:42:17+05:30",
                "reasons": [],
            },
            {
                "version": 1,
                "event_type": contracts.OUT_OF_CHARGE_ISSUED,
                "producer": "ooc-issuer",
                "summary": "Out of Charge",
                "status": "gatepass_issued",
                "notice_code": "09",
                "at": ooc["issued_at"],
                "reasons": ooc["reasons"],
            },
        ],
        "versions": [
            {"version": 1, "amendment": None, "registered_at": "2025-03-20T10:42:19+05:30"}
        ],
        "reasons": ooc["reasons"],
        "updated_at": ooc["issued_at"],
        "stuck": False,
        "dead_letters": [],
    }


def test_http_bodies_validate() -> None:
    contracts.validate_http(contracts.BILL_OF_ENTRY_FILING, contracts.example(FILED))
    contracts.validate_http(
        contracts.BILL_OF_ENTRY_ACCEPTED,
        {
            "bill_of_entry_ref": {
                "port_code": "INNSA1",
                "be_no": "2345678",
                "be_date": "2025-03-20",
                "version": 1,
            },
            "event_id": "0b6f6a52-9d0e-4c55-8a34-2f1f3f0f5e21",
            "outcome": "registered",
            "reasons": [],
            "status_url": "/bills-of-entry/INNSA1/2345678/2025-03-20",
        },
    )
    contracts.validate_http(contracts.BILL_OF_ENTRY_STATUS, _status_body())


def test_broken_http_bodies_are_refused_with_a_path() -> None:
    body = _status_body()
    body["history"][1]["event_type"] = "clearance.out-of-charge.v0"
    with pytest.raises(contracts.ContractViolation) as caught:
        contracts.validate_http(contracts.BILL_OF_ENTRY_STATUS, body)
    assert caught.value.path == "$.history[1].event_type"
    accepted = {
        "bill_of_entry_ref": {
            "port_code": "INNSA1",
            "be_no": "2345678",
            "be_date": "2025-03-20",
            "version": 1,
        },
        "event_id": "not-a-uuid",
        "outcome": "rejected",
        "reasons": [{"rule_id": "INTAKE-IEC-1", "message": "IEC '12AB' is not 10 characters"}],
        "status_url": "/bills-of-entry/INNSA1/2345678/2025-03-20",
    }
    with pytest.raises(contracts.ContractViolation, match=r"\$\.event_id: .*uuid"):
        contracts.validate_http(contracts.BILL_OF_ENTRY_ACCEPTED, accepted)
    with pytest.raises(contracts.ContractViolation, match="unknown HTTP schema"):
        contracts.validate_http(FILED, contracts.example(FILED))


def test_status_history_takes_every_event_type_and_nothing_else() -> None:
    body = _status_body()
    for event_type in contracts.EVENT_TYPES:
        body["history"][0]["event_type"] = event_type
        contracts.validate_http(contracts.BILL_OF_ENTRY_STATUS, body)
    body["history"][0]["event_type"] = "not an event type"
    with pytest.raises(contracts.ContractViolation):
        contracts.validate_http(contracts.BILL_OF_ENTRY_STATUS, body)


def test_schema_returns_a_copy_and_refuses_unknown_names() -> None:
    loaded = contracts.schema(FILED)
    loaded["title"] = "changed"
    assert contracts.schema(FILED)["title"] != "changed"
    with pytest.raises(KeyError):
        contracts.schema("bill-of-entry.v0")


@pytest.mark.parametrize("name", [*contracts.EVENT_TYPES, *contracts.HTTP_SCHEMAS])
def test_dereferenced_schema_stands_alone_and_agrees(name: str) -> None:
    standalone = contracts.dereferenced_schema(name)
    text = json.dumps(standalone)
    assert "common.v1.json" not in text
    assert "$ref" not in text
    assert "$id" not in text
    validator = jsonschema_rs.validator_for(standalone, validate_formats=True, offline=True)
    if name in contracts.EVENT_TYPES:
        assert validator.is_valid(contracts.example(name))
        broken = copy.deepcopy(contracts.example(name))
        broken["unexpected"] = 1
        assert not validator.is_valid(broken)


@pytest.mark.parametrize(
    ("name", "document"), _schema_documents(), ids=lambda value: str(value)[:40]
)
def test_schemas_are_2020_12_with_their_conventional_id(
    name: str, document: dict[str, Any]
) -> None:
    jsonschema_rs.meta.validate(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    folder = "http/" if name in contracts.HTTP_SCHEMAS else ""
    assert document["$id"] == f"{contracts.BASE_URI}{folder}{name}.json"
    assert document.get("description"), f"{name} has no description"


@pytest.mark.parametrize(
    ("name", "document"), _schema_documents(), ids=lambda value: str(value)[:40]
)
def test_every_object_we_own_is_closed(name: str, document: dict[str, Any]) -> None:
    for path, node in _walk(document):
        if node.get("type") == "object" or "properties" in node:
            assert node.get("additionalProperties") is False, f"{name} {path} is open"


@pytest.mark.parametrize(
    ("name", "document"), _schema_documents(), ids=lambda value: str(value)[:40]
)
def test_property_names_are_snake_case(name: str, document: dict[str, Any]) -> None:
    for path, node in _walk(document):
        for key in node.get("properties", {}):
            assert re.fullmatch(r"[a-z][a-z0-9_]*", key), f"{name} {path}: {key}"


def test_canonical_bill_of_entry_keeps_the_field_names_other_code_uses() -> None:
    bill_of_entry = contracts.schema(contracts.COMMON)["$defs"]["bill_of_entry"]
    expected = {
        "port_code", "be_no", "be_date", "user_job_no", "user_job_date", "be_type", "iec",
        "branch_sl_no", "importer_name", "importer_address", "importer_type",
        "mode_of_transport", "customs_broker_code", "prior_be", "first_check", "green_channel",
        "warehouse_code", "payment_method", "aeo_tier", "country_of_origin",
        "country_of_consignment", "port_of_shipment", "arrival_date", "filed_at", "igm",
        "house_bills", "invoices", "containers", "supporting_documents", "duty",
    }  # fmt: skip
    assert expected <= set(bill_of_entry["properties"])
    assert set(bill_of_entry["required"]) == {
        "port_code", "be_no", "be_date", "be_type", "iec", "mode_of_transport", "prior_be",
        "first_check", "filed_at", "invoices", "duty",
    }  # fmt: skip


def test_validation_is_fast_enough_to_leave_in_the_hot_path() -> None:
    """Not a benchmark (see scripts/bench_validation.py): validators compile once."""
    data = contracts.example(FILED)
    contracts.validate_event(FILED, data)
    from clearance_contracts import validation

    assert validation._validator.cache_info().currsize >= 1
    before = validation._validator.cache_info().misses
    for _ in range(100):
        contracts.validate_event(FILED, data)
    assert validation._validator.cache_info().misses == before
