"""Topics are created as the AsyncAPI document says: partitions, and compaction for reference
topics."""

from __future__ import annotations

import dataclasses

import pytest
from clearance_contracts import topics
from clearance_local.kafka import new_topic
from clearance_local.topics import (
    COMPACT,
    platform_topic_configs,
    platform_topics,
    topic_config,
)

pytestmark = pytest.mark.unit


def test_a_compacted_topic_is_created_with_cleanup_policy_compact() -> None:
    spec = dataclasses.replace(topics()[0], compacted=True)
    assert topic_config(spec) == {"cleanup.policy": "compact"}
    assert topic_config(dataclasses.replace(spec, compacted=False)) == {}
    topic_config(spec)["cleanup.policy"] = "delete"  # a copy: COMPACT stays as it is
    assert COMPACT == {"cleanup.policy": "compact"}


def test_platform_topic_configs_name_exactly_the_compacted_topics() -> None:
    assert platform_topic_configs() == {spec.name: COMPACT for spec in topics() if spec.compacted}
    assert set(platform_topic_configs()) <= set(platform_topics(3))


def test_new_topic_carries_partitions_and_topic_configuration() -> None:
    topic = new_topic("aeo.certificate.published.v1", 6, {"cleanup.policy": "compact"})
    assert (topic.name, topic.num_partitions, topic.replication_factor) == (
        "aeo.certificate.published.v1",
        6,
        1,
    )
    assert topic.topic_configs == {"cleanup.policy": "compact"}
    assert new_topic("clearance.out-of-charge.held.v1", 3).topic_configs == {}
