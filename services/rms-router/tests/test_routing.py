"""rms-router publishes each rule-set version's faceless assessment routing (RMS-FAG-1) once,
on `clearance.assessment-routing.published.v1`, for be-intake's CHCAI02 field 23."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from clearance_contracts import ASSESSMENT_ROUTING_PUBLISHED, event_key, validate_event
from clearance_domain.assessment_routing import AssessmentRouting
from rms_router.domain.rule_set import RULE_SET
from rms_router.service_layer.routing import publish_routing, routing_publisher
from rms_router.testing import DEFAULT_RULE_SET, policies_of

NewUow = Callable[[], Any]


def _version_2() -> dict[str, Any]:
    """An administrator's version from 2025-04-01: chapter 85's communication equipment
    moves to a group of its own."""
    v2 = copy.deepcopy(DEFAULT_RULE_SET)
    v2.update(version=2, effective_from="2025-04-01T00:00:00+05:30")
    for line in v2["body"]["assessment_groups"]:
        if line["group"] == "5C":
            line["group"] = "5X"
    return v2


async def test_rms_fag_1_a_loaded_version_is_published_once(new_uow: NewUow) -> None:
    policies = policies_of()
    uow = new_uow()
    assert await publish_routing(uow, policies.versions(RULE_SET.policy_id)) == [1]
    await uow.commit()
    [published] = uow.published
    assert published.type == ASSESSMENT_ROUTING_PUBLISHED
    assert published.subject == "rms-rule-set/1"
    validate_event(ASSESSMENT_ROUTING_PUBLISHED, published.data)
    assert event_key(ASSESSMENT_ROUTING_PUBLISHED, published.data) == "rms-rule-set/1"
    assert published.data["rule_set"] == {"policy_id": "rms-rule-set", "version": 1}
    assert published.data["effective_from"].startswith("2020-01-01T00:00:00")
    assert published.data["effective_until"] is None
    routing = AssessmentRouting.from_data(published.data["groups"])
    # the same table the decision routes with (chapter 85, heading 8529: group 5C)
    assert routing == policies.versions(RULE_SET.policy_id)[0].body.routing
    line = routing.group_of("85299090")
    assert line is not None
    assert line.group == "5C"

    again = new_uow()  # a restart, or another replica: nothing more
    assert await publish_routing(again, policies.versions(RULE_SET.policy_id)) == []
    await again.commit()
    assert again.published == []


async def test_rms_fag_1_an_administrators_version_is_published_with_its_period(
    new_uow: NewUow,
) -> None:
    await publish_routing(new_uow(), policies_of().versions(RULE_SET.policy_id))
    both = policies_of(DEFAULT_RULE_SET, _version_2())
    uow = new_uow()
    assert await publish_routing(uow, both.versions(RULE_SET.policy_id)) == [2]
    await uow.commit()
    [published] = uow.published
    assert published.subject == "rms-rule-set/2"
    assert published.data["effective_from"].startswith("2025-04-01T00:00:00")
    groups = {line["group"] for line in published.data["groups"]}
    assert "5X" in groups
    assert "5C" not in groups


async def test_the_publisher_the_runtime_calls_commits_through_the_unit_of_work(
    new_uow: NewUow,
) -> None:
    """`ServiceParts.policies_changed` (start-up, an administrator's version): one unit of
    work, the versions of the book not yet published."""
    uows: list[Any] = []

    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[Any]:
        uow = new_uow()
        uows.append(uow)
        yield uow
        await uow.commit()

    policies = policies_of()
    publish = routing_publisher(unit_of_work, policies)
    await publish()
    await publish()
    assert [len(uow.published) for uow in uows] == [1, 0]
