"""The platform's topics, read from the AsyncAPI document (the source of truth).

The local provisioner creates topics from `topics()`; services name what they publish and
consume after the same document.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from clearance_contracts import _resources

ASYNCAPI_FILE = "asyncapi.yaml"


class AsyncApiError(ValueError):
    """The AsyncAPI document lacks something `topics()` needs; the message says what."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One Kafka topic: a channel of the AsyncAPI document.

    `owner` is the service that produces the topic and owns its schema. A dead-letter topic
    (`<topic>.dlq`) is written by every consuming service of its topic: its `owner` names them
    all, comma-separated, and `producers` lists them. `partitions` is None when the count comes
    from the configuration setting `partitions_setting` (CLEARANCE_KAFKA_PARTITIONS).
    """

    name: str
    owner: str
    consumers: tuple[str, ...]
    dead_letter: bool
    producers: tuple[str, ...] = ()
    dead_letter_of: str | None = None
    partitions: int | None = None
    partitions_setting: str | None = None
    external_parties: tuple[str, ...] = ()


def asyncapi_document() -> dict[str, Any]:
    """A copy of the parsed AsyncAPI document (`asyncapi.yaml`)."""
    return copy.deepcopy(_document())


@cache
def _document() -> dict[str, Any]:
    document = _resources.load_yaml(ASYNCAPI_FILE)
    if not isinstance(document, dict):
        raise AsyncApiError(f"{ASYNCAPI_FILE} is not a mapping")
    return document


def topics() -> list[TopicSpec]:
    """Every topic of the AsyncAPI document, main topics and their dead-letter topics.

    Owner from each channel's `x-owner`; producers and consumers from the `send` and `receive`
    operations on the channel (their `x-service`); partitions from the Kafka channel binding,
    else the setting named by `x-partitions-config`.
    """
    return list(_topics())


def all_topic_names() -> list[str]:
    """Names of every topic to create: main topics and dead-letter topics."""
    return [topic.name for topic in _topics()]


def topic(name: str) -> TopicSpec:
    """The topic called `name`; KeyError if the AsyncAPI document has none."""
    for spec in _topics():
        if spec.name == name:
            return spec
    raise KeyError(name)


@cache
def _topics() -> tuple[TopicSpec, ...]:
    document = _document()
    channels = _mapping(document, "channels")
    operations = _mapping(document, "operations")
    parties: dict[str, dict[str, list[str]]] = {
        channel_id: {"send": [], "receive": []} for channel_id in channels
    }
    external: dict[str, set[str]] = {channel_id: set() for channel_id in channels}
    for operation_id, operation in operations.items():
        channel_id = _channel_id(operation_id, operation)
        action = operation.get("action")
        service = operation.get("x-service")
        if channel_id not in parties or action not in ("send", "receive"):
            raise AsyncApiError(f"operation {operation_id}: bad channel or action")
        if not isinstance(service, str):
            raise AsyncApiError(f"operation {operation_id}: x-service missing")
        if service not in parties[channel_id][action]:
            parties[channel_id][action].append(service)
        if operation.get("x-external") is True:
            external[channel_id].add(service)
    specs = []
    for channel_id, channel in channels.items():
        name = channel.get("address")
        if not isinstance(name, str):
            raise AsyncApiError(f"channel {channel_id}: address missing")
        partitions = channel.get("bindings", {}).get("kafka", {}).get("partitions")
        setting = channel.get("x-partitions-config")
        if partitions is None and not isinstance(setting, str):
            raise AsyncApiError(f"channel {channel_id}: neither partitions nor x-partitions-config")
        owner = channel.get("x-owner")
        owners = [owner] if isinstance(owner, str) else owner
        if not isinstance(owners, list) or not owners:
            raise AsyncApiError(f"channel {channel_id}: x-owner missing")
        dead_letter_of = channel.get("x-dead-letter-of")
        specs.append(
            TopicSpec(
                name=name,
                owner=", ".join(str(item) for item in owners),
                consumers=tuple(parties[channel_id]["receive"]),
                dead_letter=dead_letter_of is not None,
                producers=tuple(parties[channel_id]["send"]),
                dead_letter_of=dead_letter_of,
                partitions=int(partitions) if partitions is not None else None,
                partitions_setting=setting if partitions is None else None,
                external_parties=tuple(sorted(external[channel_id])),
            )
        )
    return tuple(specs)


def _mapping(document: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise AsyncApiError(f"{ASYNCAPI_FILE}: `{key}` missing")
    return value


def _channel_id(operation_id: str, operation: dict[str, Any]) -> str:
    channel = operation.get("channel")
    reference = channel.get("$ref") if isinstance(channel, dict) else None
    prefix = "#/channels/"
    if not isinstance(reference, str) or not reference.startswith(prefix):
        raise AsyncApiError(f"operation {operation_id}: channel is not a #/channels/ reference")
    return reference.removeprefix(prefix)
