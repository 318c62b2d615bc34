"""The platform's topics, read from the AsyncAPI document (the source of truth).

The local provisioner creates topics from `topics()`; services name what they publish and
consume after the same document.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
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
    `compacted` marks a reference topic kept by key (`cleanup.policy: compact`), to be created
    so. `key_template` is how the Kafka key is computed from an event's data (the message's
    `x-key`, see `event_key`); None for a dead-letter topic, whose records keep their key.
    A channel with a parameter (`custodian.e-gatepass.issued.v1.{custodian_code}`) is one
    topic per value of the parameter's enum: `event_type` names the events it carries (else
    the topic's own name) and `parameters` the value of this topic.
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
    compacted: bool = False
    key_template: str | None = None
    event_type: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def type(self) -> str:
        """The event type the topic carries (its name, unless one of a topic per party)."""
        return self.event_type or self.name


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
    else the setting named by `x-partitions-config`; compaction from the binding's
    `topicConfiguration`; the key template from the channel's message's `x-key`.
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


def topics_of(event_type: str) -> list[TopicSpec]:
    """The main topics carrying `event_type`: one, or one per party (a topic per custodian)."""
    return [spec for spec in _topics() if not spec.dead_letter and spec.type == event_type]


def topic_for(event_type: str, **parameters: str) -> str:
    """The name of the topic of `event_type` for these parameter values, e.g.
    `topic_for(E_GATEPASS_ISSUED, custodian_code="INNSA1CFS1")`; KeyError if there is none
    (an unregistered custodian has no topic)."""
    wanted = tuple(sorted(parameters.items()))
    for spec in topics_of(event_type):
        if tuple(sorted(spec.parameters)) == wanted:
            return spec.name
    raise KeyError(f"no topic of {event_type} for {parameters}")


@cache
def _topics() -> tuple[TopicSpec, ...]:
    return tuple(read_topics(_document()))


def read_topics(document: dict[str, Any]) -> list[TopicSpec]:
    """The topics of a parsed AsyncAPI document, as `topics()` reads them from asyncapi.yaml.

    For documents other than the package's own: a generated draft, a test's.
    """
    channels = _mapping(document, "channels")
    parties = _parties(channels, _mapping(document, "operations"))
    specs: list[TopicSpec] = []
    for channel_id, channel in channels.items():
        spec = _spec(document, channel_id, channel, parties[channel_id])
        specs += _expanded(channel_id, channel, spec)
    return specs


def _expanded(channel_id: str, channel: dict[str, Any], spec: TopicSpec) -> list[TopicSpec]:
    """A parameterised channel as one topic per value of its parameter's enum."""
    parameters = channel.get("parameters")
    if not parameters:
        return [spec]
    if not isinstance(parameters, dict) or len(parameters) != 1:
        raise AsyncApiError(f"channel {channel_id}: expected exactly one parameter")
    [(name, parameter)] = parameters.items()
    values = parameter.get("enum") if isinstance(parameter, dict) else None
    if not isinstance(values, list) or not values:
        raise AsyncApiError(f"channel {channel_id}: parameter {name} needs an enum of values")
    event_type = channel.get("x-event-type")
    if not isinstance(event_type, str):
        raise AsyncApiError(f"channel {channel_id}: x-event-type missing")
    reader = channel.get("x-reader")
    return [
        _own_reader(
            dataclasses.replace(
                spec,
                name=spec.name.replace(f"{{{name}}}", str(value)),
                event_type=event_type,
                parameters=((name, str(value)),),
            ),
            reader.format(**{name: value}) if isinstance(reader, str) else None,
        )
        for value in values
    ]


def _own_reader(spec: TopicSpec, reader: str | None) -> TopicSpec:
    """A topic per party is read by that party alone (`x-reader`, e.g. `custodian-INNSA1CFS1`),
    in place of the external party the channel names (`custodians`)."""
    if reader is None:
        return spec
    consumers = tuple(reader if c in spec.external_parties else c for c in spec.consumers)
    external = tuple(reader if p in spec.consumers else p for p in spec.external_parties)
    return dataclasses.replace(
        spec, consumers=consumers, external_parties=tuple(dict.fromkeys(external))
    )


@dataclass(slots=True)
class _Parties:
    """Who sends to and receives from one channel, in operation order; which are external."""

    send: list[str] = field(default_factory=list)
    receive: list[str] = field(default_factory=list)
    external: set[str] = field(default_factory=set)


def _parties(
    channels: dict[str, dict[str, Any]], operations: dict[str, dict[str, Any]]
) -> dict[str, _Parties]:
    """The parties of every channel, from the `x-service` of the operations on it."""
    parties = {channel_id: _Parties() for channel_id in channels}
    for operation_id, operation in operations.items():
        channel_id = _channel_id(operation_id, operation)
        action = operation.get("action")
        service = operation.get("x-service")
        if channel_id not in parties or action not in ("send", "receive"):
            raise AsyncApiError(f"operation {operation_id}: bad channel or action")
        if not isinstance(service, str):
            raise AsyncApiError(f"operation {operation_id}: x-service missing")
        listed = parties[channel_id].send if action == "send" else parties[channel_id].receive
        if service not in listed:
            listed.append(service)
        if operation.get("x-external") is True:
            parties[channel_id].external.add(service)
    return parties


def _spec(
    document: dict[str, Any], channel_id: str, channel: dict[str, Any], parties: _Parties
) -> TopicSpec:
    """The TopicSpec of one channel."""
    name = channel.get("address")
    if not isinstance(name, str):
        raise AsyncApiError(f"channel {channel_id}: address missing")
    binding = channel.get("bindings", {}).get("kafka", {})
    partitions = binding.get("partitions")
    setting = channel.get("x-partitions-config")
    if partitions is None and not isinstance(setting, str):
        raise AsyncApiError(f"channel {channel_id}: neither partitions nor x-partitions-config")
    owner = channel.get("x-owner")
    owners = [owner] if isinstance(owner, str) else owner
    if not isinstance(owners, list) or not owners:
        raise AsyncApiError(f"channel {channel_id}: x-owner missing")
    dead_letter_of = channel.get("x-dead-letter-of")
    return TopicSpec(
        name=name,
        owner=", ".join(str(item) for item in owners),
        consumers=tuple(parties.receive),
        dead_letter=dead_letter_of is not None,
        producers=tuple(parties.send),
        dead_letter_of=dead_letter_of,
        partitions=int(partitions) if partitions is not None else None,
        partitions_setting=setting if partitions is None else None,
        external_parties=tuple(sorted(parties.external)),
        compacted=_compacted(binding),
        key_template=_key_template(document, channel_id, channel),
    )


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


def _compacted(binding: dict[str, Any]) -> bool:
    """Whether the Kafka channel binding asks for `cleanup.policy: [compact]`."""
    policy = binding.get("topicConfiguration", {}).get("cleanup.policy", [])
    return "compact" in policy


def _key_template(document: dict[str, Any], channel_id: str, channel: dict[str, Any]) -> str | None:
    """`x-key` of the channel's message (a main topic carries one message), if it has one."""
    prefix = "#/components/messages/"
    templates = []
    for message in channel.get("messages", {}).values():
        reference = message.get("$ref") if isinstance(message, dict) else None
        if not isinstance(reference, str) or not reference.startswith(prefix):
            raise AsyncApiError(f"channel {channel_id}: message is not a {prefix} reference")
        component = _mapping(_mapping(document, "components"), "messages").get(
            reference.removeprefix(prefix), {}
        )
        template = component.get("x-key")
        if template is not None:
            templates.append(template)
    if len(templates) > 1 or not all(isinstance(item, str) for item in templates):
        raise AsyncApiError(f"channel {channel_id}: expected at most one x-key string")
    return templates[0] if templates else None
