"""rms-router publishes its faceless assessment routing (RMS-FAG-1) for be-intake's CHCAI02.

The routing table is the `assessment_groups` of rms-router's effective-dated rule set; it
stays rms-router's. Each rule-set version's table goes out once on the compacted reference
topic `clearance.assessment-routing.published.v1`, keyed `<policy_id>/<version>`: when the
version is loaded at start-up (the shipped files) and when an administrator adds one
(`ServiceParts.policies_changed`). A version already published is not published again: a
row per version (`assessment_routing_published`) is claimed in the transaction that puts
the event in the outbox. be-intake names the group in the ICES acknowledgement (field 23).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from clearance_contracts import ASSESSMENT_ROUTING_PUBLISHED
from clearance_runtime.policies import Policies, Policy

from rms_router.domain.rule_set import RULE_SET, RuleSet
from rms_router.service_layer.unit_of_work import RmsUnitOfWork


def routing_data(policy: Policy[RuleSet], published_at: str) -> dict[str, Any]:
    """The event of one rule-set version: its table, its policy ref and its period."""
    until = policy.effective_until
    return {
        "routing_id": f"{policy.policy_id}/{policy.version}",
        "rule_set": {"policy_id": policy.policy_id, "version": policy.version},
        "effective_from": policy.effective_from.isoformat(),
        "effective_until": None if until is None else until.isoformat(),
        "source_document": policy.source_document[:1000],
        "groups": policy.body.routing.to_data(),
        "published_at": published_at,
    }


async def publish_routing(uow: RmsUnitOfWork, versions: Iterable[Policy[RuleSet]]) -> list[int]:
    """Publish the routing of each version not published yet; the versions published."""
    now = uow.clock.now()
    published = []
    for policy in sorted(versions, key=lambda p: p.version):
        if await uow.routing.claim(policy.policy_id, policy.version, now):
            data = routing_data(policy, now.isoformat())
            uow.publish(ASSESSMENT_ROUTING_PUBLISHED, data["routing_id"], data)
            published.append(policy.version)
    return published


def routing_publisher(
    unit_of_work: Callable[[], AbstractAsyncContextManager[RmsUnitOfWork]], policies: Policies
) -> Callable[[], Awaitable[None]]:
    """`ServiceParts.policies_changed`: publish the versions the book holds and the table
    does not list as published, in one transaction."""

    async def publish() -> None:
        async with unit_of_work() as uow:
            await publish_routing(uow, policies.versions(RULE_SET.policy_id))

    return publish
