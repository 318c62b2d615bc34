"""Why a decision was taken: one shared type for every service's reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance_domain.rule_catalogue import source_of


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """The effective-dated policy and the version of it a decision used."""

    policy_id: str
    version: int

    def to_data(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "version": self.version}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PolicyRef:
        return cls(str(data["policy_id"]), int(data["version"]))


@dataclass(frozen=True, slots=True)
class Reason:
    """A rule id of RULES.md, what an officer or importer reads, the item it concerns,
    the policy and version applied, and the document the rule comes from."""

    rule_id: str
    message: str
    item_sl_no: int | None = None
    policy: PolicyRef | None = None
    source_document: str | None = None

    @classmethod
    def of(
        cls,
        rule_id: str,
        message: str,
        *,
        item_sl_no: int | None = None,
        policy: PolicyRef | None = None,
    ) -> Reason:
        """A reason with its source document looked up from the rule catalogue
        (KeyError for a rule id that RULES.md does not define)."""
        return cls(rule_id, message, item_sl_no, policy, source_of(rule_id))

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule_id": self.rule_id, "message": self.message}
        if self.item_sl_no is not None:
            data["item_sl_no"] = self.item_sl_no
        if self.policy is not None:
            data["policy"] = self.policy.to_data()
        if self.source_document is not None:
            data["source_document"] = self.source_document
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Reason:
        policy = data.get("policy")
        return cls(
            rule_id=str(data["rule_id"]),
            message=str(data["message"]),
            item_sl_no=data.get("item_sl_no"),
            policy=PolicyRef.from_data(policy) if policy else None,
            source_document=data.get("source_document"),
        )


def reasons_data(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [reason.to_data() for reason in reasons]
