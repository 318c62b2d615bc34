"""event_key computes the Kafka key / CloudEvents subject with each topic's `x-key` template."""

from __future__ import annotations

import re
from typing import Any

import clearance_contracts as contracts
import pytest
from clearance_contracts.keys import KeyTemplateError, parse_key_template

pytestmark = pytest.mark.unit

#: The event types of the first release, all keyed by the BE identity.
BE_KEYED = (
    contracts.BILL_OF_ENTRY_FILED,
    contracts.BILL_OF_ENTRY_REGISTERED,
    contracts.BILL_OF_ENTRY_REJECTED,
    contracts.BIS_VERIFICATION_COMPLETED,
    contracts.RMS_DECISION_MADE,
    contracts.SEAL_TRIP_RECONCILED,
    contracts.OUT_OF_CHARGE_ISSUED,
    contracts.OUT_OF_CHARGE_HELD,
    contracts.E_GATEPASS_ISSUED,
)


def _examples() -> list[tuple[str, str]]:
    return [
        (event_type, variant)
        for event_type in contracts.EVENT_TYPES
        for variant in contracts.example_variants(event_type)
    ]


def _be_identity(event_type: str, data: dict[str, Any]) -> tuple[str, str, str]:
    ref = data if event_type == contracts.BILL_OF_ENTRY_FILED else data["bill_of_entry_ref"]
    return ref["port_code"], ref["be_no"], ref["be_date"]


def _message(event_type: str) -> dict[str, Any]:
    messages = contracts.asyncapi_document()["components"]["messages"]
    (message,) = [message for message in messages.values() if message["name"] == event_type]
    return dict(message)


@pytest.mark.parametrize("event_type", BE_KEYED)
def test_the_event_types_of_a_bill_of_entry_are_keyed_by_its_identity(event_type: str) -> None:
    for variant in contracts.example_variants(event_type):
        data = contracts.example(event_type, variant)
        expected = contracts.bill_of_entry_key(*_be_identity(event_type, data))
        assert contracts.event_key(event_type, data) == expected, variant


@pytest.mark.parametrize(("event_type", "variant"), _examples())
def test_the_key_of_every_example_matches_its_key_schema(event_type: str, variant: str) -> None:
    message = _message(event_type)
    reference = message["bindings"]["kafka"]["key"]["$ref"]
    schemas = contracts.asyncapi_document()["components"]["schemas"]
    key_schema = schemas[reference.removeprefix("#/components/schemas/")]
    key = contracts.event_key(event_type, contracts.example(event_type, variant))
    assert re.fullmatch(key_schema["pattern"], key), key
    assert message["headers"]["allOf"][1]["properties"]["ce_subject"] == {"$ref": reference}


@pytest.mark.parametrize("event_type", contracts.EVENT_TYPES)
def test_every_key_field_is_a_required_string_of_the_schema(event_type: str) -> None:
    """A key made of optional data could not be computed for every valid event."""
    template = parse_key_template(contracts.topics_of(event_type)[0].key_template or "")
    for path in template.fields:
        node = contracts.dereferenced_schema(event_type)
        for name in path:
            assert name in node.get("required", []), (event_type, path)
            node = node["properties"][name]
        assert node.get("type") == "string", (event_type, path)


def test_the_template_is_the_message_x_key() -> None:
    for event_type in contracts.EVENT_TYPES:
        for spec in contracts.topics_of(event_type):
            assert spec.key_template == _message(event_type)["x-key"]
    dead_letters = [spec for spec in contracts.topics() if spec.dead_letter]
    assert dead_letters
    assert all(spec.key_template is None for spec in dead_letters)


def test_an_unknown_event_type_or_a_dead_letter_topic_has_no_key() -> None:
    with pytest.raises(KeyError):
        contracts.event_key("clearance.unknown.v1", {})
    with pytest.raises(KeyError):
        contracts.event_key(f"{contracts.OUT_OF_CHARGE_HELD}.dlq", {})


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda data: data.pop("bill_of_entry_ref"), "bill_of_entry_ref.port_code"),
        (lambda data: data.update(bill_of_entry_ref=None), "bill_of_entry_ref.port_code"),
        (lambda data: data["bill_of_entry_ref"].pop("be_no"), "bill_of_entry_ref.be_no"),
        (lambda data: data["bill_of_entry_ref"].update(be_date=None), "bill_of_entry_ref.be_date"),
        (lambda data: data["bill_of_entry_ref"].update(be_no=2345711), "bill_of_entry_ref.be_no"),
        (
            lambda data: data["bill_of_entry_ref"].update(port_code=""),
            "bill_of_entry_ref.port_code",
        ),
    ],
    ids=["no-ref", "null-ref", "no-be-no", "null-be-date", "number-be-no", "empty-port-code"],
)
def test_a_missing_key_field_is_named(mutate: Any, field: str) -> None:
    data = contracts.example(contracts.OUT_OF_CHARGE_HELD)
    mutate(data)
    with pytest.raises(contracts.MissingKeyField) as caught:
        contracts.event_key(contracts.OUT_OF_CHARGE_HELD, data)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.event_type, caught.value.field) == (contracts.OUT_OF_CHARGE_HELD, field)
    assert str(caught.value).startswith(f"{contracts.OUT_OF_CHARGE_HELD}: key field '{field}'")


def test_a_template_is_literal_text_around_dotted_fields() -> None:
    template = parse_key_template("{{seal}}/{seal.number}-{custodian_code}")
    assert template.fields == (("seal", "number"), ("custodian_code",))
    data = {"seal": {"number": "ZSEL 4417 0932"}, "custodian_code": "MUM4W017"}
    assert template.render("x.y.z.v1", data) == "{seal}/ZSEL 4417 0932-MUM4W017"


@pytest.mark.parametrize(
    "template", ["{", "}", "no fields", "{iec!r}", "{iec:>10}", "{iec[0]}", "{}", "{a..b}"]
)
def test_a_malformed_template_is_refused(template: str) -> None:
    with pytest.raises(KeyTemplateError):
        parse_key_template(template)
