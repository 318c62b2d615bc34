"""RMS-FAG-1 in the ICES acknowledgement: the appraising group of a fresh BE (CHCAI02 field
23, C3, spec v2.23 p. 53: "BE Number (and date) and Appraising Group ID is generated").

The routing table is rms-router's (the `assessment_groups` of its RMS rule set); be-intake
holds each rule-set version's table as rms-router published it
(`clearance.assessment-routing.published.v1`) and routes the way rms-router does, with the
shared kernel's `clearance_domain.assessment_routing`: the group of the heading of the BE's
principal item (the item of highest value), under the rule-set version in force on the BE
date (the policies' own rule: latest start not after it, highest version among equals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from clearance_domain.assessment_routing import AssessmentRouting, routed_items
from clearance_runtime.policies import Policies, PolicyKind, PolicyNotInForce, PolicyVersion

#: rms-router's rule set, of which be-intake holds the routing table only.
ROUTING: PolicyKind[AssessmentRouting] = PolicyKind(
    "rms-rule-set",
    AssessmentRouting.from_data,
    "rms-router's faceless assessment routing (RMS-FAG-1), as published",
)


def routing_book(versions: Iterable[Mapping[str, Any]]) -> Policies:
    """The published versions (`rule_set`, `effective_from`, `effective_until`,
    `source_document`, `groups`) as a book of effective-dated versions."""
    book = Policies([ROUTING])
    for data in versions:
        rule_set = data["rule_set"]
        if rule_set["policy_id"] != ROUTING.policy_id:
            continue
        version = PolicyVersion.from_data(
            {
                "policy_id": rule_set["policy_id"],
                "version": rule_set["version"],
                "effective_from": data["effective_from"],
                "effective_until": data.get("effective_until"),
                "source_document": data.get("source_document", ""),
                "body": data["groups"],
            }
        )
        book.add(book.typed(version, int(rule_set["version"]), "rms-router"))
    return book


def appraising_group(
    versions: Iterable[Mapping[str, Any]], be_date: date, bill_of_entry: Mapping[str, Any]
) -> str | None:
    """RMS-FAG-1: the group of the BE's principal item under the version in force on the BE
    date; None when be-intake holds no version in force then (none consumed yet), the BE has
    no items, or the table lists no group for the heading (the port's group assesses it)."""
    try:
        policy = routing_book(versions).in_force(ROUTING, be_date)
    except PolicyNotInForce:
        return None
    _, line = policy.body.route(routed_items(bill_of_entry))
    return None if line is None else line.group
