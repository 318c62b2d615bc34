"""EVENT_TYPES, schema files, examples and the AsyncAPI document name the same things.

Nothing here counts the event types: catalogue.yaml lists them, and every one of them must have
its schema, example and channel.
"""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from typing import Any

import clearance_contracts as contracts
import pytest

pytestmark = pytest.mark.unit

PACKAGE = resources.files("clearance_contracts")
SERVICES = {"be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer"}
EXTERNAL_PARTIES = {
    "icegate-upstream",
    "icegate-e-payment",
    "aeo-directory",
    "custodians",
    "customs-brokers",
    "rfid-vendors",
    "rfid-readers",
    "nabl-laboratories",
}


def _json_names(*parts: str) -> set[str]:
    folder = PACKAGE.joinpath(*parts)
    return {
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".json")
    }


def _document() -> dict[str, Any]:
    return contracts.asyncapi_document()


def _main_channels() -> dict[str, dict[str, Any]]:
    return {
        channel_id: channel
        for channel_id, channel in _document()["channels"].items()
        if "x-dead-letter-of" not in channel
    }


def _resolve(reference: str) -> Any:
    node: Any = _document()
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_event_types_are_unique_and_named_owner_entity_fact_version() -> None:
    assert contracts.EVENT_TYPES
    assert len(set(contracts.EVENT_TYPES)) == len(contracts.EVENT_TYPES)
    for event_type in contracts.EVENT_TYPES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*\.[a-z-]+\.[a-z-]+\.v[0-9]+", event_type), event_type


def test_the_named_event_types_are_in_event_types_in_the_order_a_be_meets_them() -> None:
    named = [
        contracts.BILL_OF_ENTRY_FILED,
        contracts.BILL_OF_ENTRY_REGISTERED,
        contracts.BILL_OF_ENTRY_REJECTED,
        contracts.BIS_VERIFICATION_COMPLETED,
        contracts.RMS_DECISION_MADE,
        contracts.SEAL_TRIP_RECONCILED,
        contracts.OUT_OF_CHARGE_ISSUED,
        contracts.OUT_OF_CHARGE_HELD,
        contracts.E_GATEPASS_ISSUED,
    ]
    assert [event_type for event_type in contracts.EVENT_TYPES if event_type in named] == named


@pytest.mark.parametrize("event_type", contracts.EVENT_TYPES)
def test_every_event_type_has_a_schema_an_example_and_a_channel(event_type: str) -> None:
    assert PACKAGE.joinpath("schemas", f"{event_type}.json").is_file()
    contracts.validate_event(event_type, contracts.example(event_type))
    specs = contracts.topics_of(event_type)
    assert specs
    for spec in specs:
        assert not spec.dead_letter
        assert spec.key_template


def test_every_event_type_has_a_schema_file_and_every_schema_file_an_event_type() -> None:
    assert _json_names("schemas") == {*contracts.EVENT_TYPES, contracts.COMMON}


def test_every_http_schema_has_a_file_and_every_file_a_name() -> None:
    assert _json_names("schemas", "http") == set(contracts.HTTP_SCHEMAS)


def test_every_event_type_has_a_default_example_and_every_example_an_event_type() -> None:
    assert _json_names("examples") == set(contracts.EVENT_TYPES)
    for entry in PACKAGE.joinpath("examples").iterdir():
        if entry.is_dir():
            assert _json_names("examples", entry.name) <= set(contracts.EVENT_TYPES), entry.name
    for event_type in contracts.EVENT_TYPES:
        assert contracts.example_variants(event_type)[0] == "default"


def test_every_event_type_has_a_channel_and_every_channel_an_event_type() -> None:
    types = [
        channel.get("x-event-type", channel["address"]) for channel in _main_channels().values()
    ]
    assert tuple(types) == contracts.EVENT_TYPES


def test_each_channel_carries_the_message_and_schema_of_its_event_type() -> None:
    for channel_id, channel in _main_channels().items():
        topic = channel.get("x-event-type", channel["address"])
        if "parameters" in channel:  # a topic per custodian: `<type>.{custodian_code}`
            assert channel["address"] == f"{topic}.{{custodian_code}}"
            assert "topic" not in channel["bindings"]["kafka"]
        else:
            assert channel["bindings"]["kafka"]["topic"] == topic
        messages = [_resolve(ref["$ref"]) for ref in channel["messages"].values()]
        assert len(messages) == 1, channel_id
        message = messages[0]
        assert message["name"] == topic
        assert message["payload"]["schema"] == {"$ref": f"./schemas/{topic}.json"}
        assert message["payload"]["schemaFormat"] == "application/schema+json;version=2020-12"
        headers = message["headers"]["allOf"]
        assert {"$ref": "#/components/schemas/cloudEventHeaders"} in headers
        assert {"type": "string", "const": topic} in [
            part.get("properties", {}).get("ce_type") for part in headers
        ]
        key = message["bindings"]["kafka"]["key"]
        key_schema = _resolve(key["$ref"])
        assert key_schema["type"] == "string"
        assert re.fullmatch(key_schema["pattern"], key_schema["examples"][0])
        assert {"ce_type", "ce_subject"} <= set(headers[1]["properties"])
        assert headers[1]["properties"]["ce_subject"] == key
        assert isinstance(message["x-key"], str), channel_id


def test_the_bill_of_entry_key_is_the_be_identity() -> None:
    pattern = _document()["components"]["schemas"]["billOfEntryKey"]["pattern"]
    key = contracts.bill_of_entry_key("INNSA1", "1234567", "2026-11-20")
    assert key == "INNSA1/1234567/2026-11-20"
    assert re.fullmatch(pattern, key)


def test_cloudevents_headers_are_described() -> None:
    headers = _document()["components"]["schemas"]["cloudEventHeaders"]
    names = {
        "ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject",
        "content-type", "traceparent",
    }  # fmt: skip
    assert set(headers["required"]) == names
    assert set(headers["properties"]) == names | {"tracestate"}


def test_each_main_channel_has_one_producer_its_owner() -> None:
    for spec in contracts.topics():
        if spec.dead_letter:
            continue
        assert spec.producers == (spec.owner,), spec.name
        assert spec.consumers, f"{spec.name} has no consumer"
        if spec.partitions is None:
            assert spec.partitions_setting == "CLEARANCE_KAFKA_PARTITIONS"
        else:
            assert spec.partitions >= 1
            assert spec.partitions_setting is None


def test_every_consumed_topic_has_a_dead_letter_topic_written_by_its_consumers() -> None:
    """Topics only outside parties read (rejections, e-Gatepasses) have no DLQ of ours."""
    specs = {spec.name: spec for spec in contracts.topics()}
    consumed = set()
    for spec in specs.values():
        if spec.dead_letter:
            continue
        internal = tuple(c for c in spec.consumers if c not in spec.external_parties)
        if not internal:
            assert f"{spec.name}.dlq" not in specs
            continue
        consumed.add(spec.name)
        dead_letters = specs[f"{spec.name}.dlq"]
        assert dead_letters.dead_letter
        assert dead_letters.dead_letter_of == spec.name
        assert dead_letters.producers == internal
        assert dead_letters.owner == ", ".join(internal)
        assert dead_letters.partitions == 1
        assert dead_letters.consumers == ("be-intake",)  # the view of stuck BEs
    assert {spec.dead_letter_of for spec in specs.values() if spec.dead_letter} == consumed


def test_the_first_topics_match_the_platform_flow() -> None:
    """Owner and consumers of the event types of the first release; later ones may follow."""
    expected = {
        contracts.BILL_OF_ENTRY_FILED: ("icegate-upstream", {"be-intake"}),
        contracts.BILL_OF_ENTRY_REGISTERED: (
            "be-intake",
            {"bis-verifier", "warehouse-seal", "rms-router", "ooc-issuer"},
        ),
        contracts.BILL_OF_ENTRY_REJECTED: ("be-intake", {"icegate-upstream"}),
        contracts.BIS_VERIFICATION_COMPLETED: (
            "bis-verifier",
            {"rms-router", "ooc-issuer", "be-intake"},
        ),
        contracts.RMS_DECISION_MADE: ("rms-router", {"ooc-issuer", "be-intake"}),
        contracts.SEAL_TRIP_RECONCILED: ("warehouse-seal", {"ooc-issuer", "be-intake"}),
        contracts.OUT_OF_CHARGE_ISSUED: ("ooc-issuer", {"be-intake"}),
        contracts.OUT_OF_CHARGE_HELD: ("ooc-issuer", {"be-intake"}),
    }
    actual = {
        spec.type: (spec.owner, set(spec.consumers))
        for spec in contracts.topics()
        if spec.type in expected and not spec.dead_letter
    }
    assert actual == expected
    for spec in contracts.topics_of(contracts.E_GATEPASS_ISSUED):  # each custodian its own
        code = dict(spec.parameters)["custodian_code"]
        assert (spec.owner, spec.consumers) == ("ooc-issuer", (f"custodian-{code}",))


def test_each_custodian_has_an_e_gatepass_topic_of_its_own() -> None:
    """OOC-GP-1: Kafka ACLs are per topic, so a custodian reads only its own gate passes."""
    from clearance_contracts.custodians import custodians

    specs = contracts.topics_of(contracts.E_GATEPASS_ISSUED)
    codes = [custodian.code for custodian in custodians()]
    assert [spec.name for spec in specs] == [f"{contracts.E_GATEPASS_ISSUED}.{c}" for c in codes]
    assert [dict(spec.parameters)["custodian_code"] for spec in specs] == codes
    assert (
        contracts.topic_for(contracts.E_GATEPASS_ISSUED, custodian_code=codes[0]) == specs[0].name
    )
    with pytest.raises(KeyError):
        contracts.topic_for(contracts.E_GATEPASS_ISSUED, custodian_code="NOSUCH1")


def test_all_topic_names_lists_main_and_dead_letter_topics_once() -> None:
    names = contracts.all_topic_names()
    dead_letters = {f"{spec.dead_letter_of}.dlq" for spec in contracts.topics() if spec.dead_letter}
    assert f"{contracts.BILL_OF_ENTRY_REJECTED}.dlq" not in dead_letters  # read only outside
    assert f"{contracts.E_GATEPASS_ISSUED}.dlq" not in dead_letters
    main = [spec.name for spec in contracts.topics() if not spec.dead_letter]
    assert {spec.type for spec in contracts.topics() if not spec.dead_letter} == set(
        contracts.EVENT_TYPES
    )
    assert len(names) == len(set(names)) == len(main) + len(dead_letters)
    assert set(names) == {*main, *dead_letters}
    assert contracts.topic(contracts.BILL_OF_ENTRY_FILED).owner == "icegate-upstream"
    with pytest.raises(KeyError):
        contracts.topic("clearance.unknown.v1")


def test_topic_spec_is_frozen() -> None:
    spec = contracts.topics()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_operations_name_their_party_and_follow_the_naming_convention() -> None:
    for operation_id, operation in _document()["operations"].items():
        service = operation["x-service"]
        assert service in SERVICES | EXTERNAL_PARTIES, operation_id
        assert (operation.get("x-external") is True) == (service in EXTERNAL_PARTIES)
        head, *rest = service.split("-")
        prefix = head + "".join(word.capitalize() for word in rest)
        verb = "Sends" if operation["action"] == "send" else "Receives"
        assert operation_id.startswith(prefix + verb), operation_id
        channel = _resolve(operation["channel"]["$ref"])
        for message in operation["messages"]:
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
        if operation["action"] == "receive" and service in SERVICES:
            assert operation["bindings"]["kafka"]["groupId"]["const"] == service
        if "x-dead-letter-of" in channel:
            assert "DeadLetter" in operation_id


def test_dead_letter_headers_carry_the_reason_and_the_origin() -> None:
    headers = _document()["components"]["schemas"]["deadLetterHeaders"]
    assert set(headers["required"]) == {
        "dlq_reason", "dlq_consumer", "dlq_original_topic", "dlq_original_partition",
        "dlq_original_offset",
    }  # fmt: skip
