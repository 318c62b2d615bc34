"""Effective-dated, versioned policies: rules as data an administrator changes without a deploy.

A policy (a holiday calendar, an RMS rule set, the BIS coverage catalogue, the
seal circular in force) has versions; each version is in force from
`effective_from` (until `effective_until`, if it was rescinded). Versions are
kept as files in the service (loaded into its schema at start-up, never
edited once released) and added by an administrator over HTTP. A rule asks for
the version in force at the instant the rule names (the BE date, the arrival,
the event time): the one with the latest `effective_from` not after it, the
highest version among equals. Every decision cites the version it used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime.clock import instant_of

log = logging.getLogger(__name__)
T = TypeVar("T")

_SELECT = text(
    "SELECT policy_id, version, effective_from, effective_until, source_document, "
    "description, body, origin, loaded_at FROM policy ORDER BY policy_id, version"
)
_INSERT = text(
    "INSERT INTO policy (policy_id, version, effective_from, effective_until, "
    "source_document, description, body, origin) VALUES (:policy_id, :version, "
    ":effective_from, :effective_until, :source_document, :description, "
    "CAST(:body AS jsonb), :origin) ON CONFLICT (policy_id, version) DO NOTHING "
    "RETURNING version"
)
_NEXT_VERSION = text(
    "SELECT coalesce(max(version), 0) + 1 FROM policy WHERE policy_id = :policy_id"
)
_FINGERPRINT = text("SELECT count(*), max(loaded_at) FROM policy")
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('clearance.policy'), hashtext(:policy_id))")


class PolicyNotInForce(LookupError):
    """No version of the policy is in force at the instant asked about."""


class InvalidPolicy(ValueError):
    """A policy body (or version) its kind does not accept; the message says why."""


@dataclass(frozen=True, slots=True)
class PolicyKind(Generic[T]):
    """A policy a service uses: its id and how to read (and so validate) a body."""

    policy_id: str
    parse: Callable[[Any], T]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Policy(Generic[T]):
    policy_id: str
    version: int
    effective_from: datetime
    effective_until: datetime | None
    source_document: str
    body: T
    description: str = ""
    origin: str = "file"
    raw_body: Any = None  # the body as stored (JSON), for the administration API

    def in_force_at(self, instant: datetime) -> bool:
        started = self.effective_from <= instant
        return started and (self.effective_until is None or instant < self.effective_until)

    def summary(self) -> dict[str, Any]:
        """What the administration API shows of a version (without its body)."""
        return {
            "policy_id": self.policy_id,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "effective_until": _iso(self.effective_until),
            "source_document": self.source_document,
            "description": self.description,
            "origin": self.origin,
        }


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A version as written in a file or an administrator's request, before it is stored."""

    policy_id: str
    version: int | None
    effective_from: datetime
    effective_until: datetime | None
    source_document: str
    body: Any
    description: str = ""

    @classmethod
    def from_data(cls, data: Mapping[str, Any], policy_id: str | None = None) -> PolicyVersion:
        try:
            until = data.get("effective_until")
            return cls(
                policy_id=policy_id or str(data["policy_id"]),
                version=data.get("version"),
                effective_from=_instant(data["effective_from"]),
                effective_until=None if until is None else _instant(until),
                source_document=str(data["source_document"]),
                body=data["body"],
                description=str(data.get("description", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidPolicy(f"not a policy version: {error!r}") from error


class PolicyBook(Protocol):
    """What rules read: the version of a policy in force at an instant."""

    def in_force(self, kind: PolicyKind[T], at: date | datetime) -> Policy[T]: ...


@dataclass
class Policies:
    """The policies of one service, in memory, typed by their kinds."""

    kinds: Sequence[PolicyKind[Any]]
    _versions: dict[str, list[Policy[Any]]] = field(default_factory=dict)

    def kind(self, policy_id: str) -> PolicyKind[Any]:
        for kind in self.kinds:
            if kind.policy_id == policy_id:
                return kind
        raise KeyError(f"this service keeps no policy {policy_id!r}")

    def in_force(self, kind: PolicyKind[T], at: date | datetime) -> Policy[T]:
        instant = instant_of(at)
        candidates = [p for p in self._versions.get(kind.policy_id, ()) if p.in_force_at(instant)]
        if not candidates:
            raise PolicyNotInForce(f"no version of {kind.policy_id} is in force at {instant}")
        return max(candidates, key=lambda p: (p.effective_from, p.version))

    def versions(self, policy_id: str) -> list[Policy[Any]]:
        return list(self._versions.get(policy_id, ()))

    def add(self, policy: Policy[Any]) -> None:
        versions = self._versions.setdefault(policy.policy_id, [])
        versions[:] = [p for p in versions if p.version != policy.version] + [policy]
        versions.sort(key=lambda p: p.version)

    def typed(self, version: PolicyVersion, number: int, origin: str) -> Policy[Any]:
        """The version with its body read by its kind (InvalidPolicy when it does not read)."""
        kind = self.kind(version.policy_id)
        try:
            body = kind.parse(version.body)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidPolicy(f"{version.policy_id}: {error}") from error
        return Policy(
            policy_id=version.policy_id,
            version=number,
            effective_from=version.effective_from,
            effective_until=version.effective_until,
            source_document=version.source_document,
            body=body,
            description=version.description,
            origin=origin,
            raw_body=version.body,
        )


class PolicyStore:
    """The `policy` table of the service's schema, and the in-memory book it feeds."""

    def __init__(self, engine: AsyncEngine, policies: Policies) -> None:
        self.engine = engine
        self.policies = policies
        self._fingerprint: tuple[Any, ...] | None = None

    async def load_files(self, folder: Path) -> int:
        """Store every version kept as a file under `folder` not stored yet; return how many."""
        added = 0
        for name, content in _policy_files(folder):
            version = PolicyVersion.from_data(json.loads(content))
            if version.version is None:
                raise InvalidPolicy(f"{name}: a policy file names its version")
            self.policies.typed(version, version.version, "file")  # it must read
            if await self._insert(version, version.version, f"file:{name}"):
                added += 1
        return added

    async def add_version(self, version: PolicyVersion, origin: str) -> Policy[Any]:
        """An administrator's new version: numbered after the newest, stored, in force
        from its start (InvalidPolicy when its kind does not read it)."""
        self.policies.typed(version, 1, origin)
        async with self.engine.begin() as conn:
            await conn.execute(_LOCK, {"policy_id": version.policy_id})
            number = (
                await conn.execute(_NEXT_VERSION, {"policy_id": version.policy_id})
            ).scalar_one()
            await conn.execute(_INSERT, _row(version, number, origin))
        policy = self.policies.typed(version, number, origin)
        self.policies.add(policy)
        return policy

    async def refresh(self) -> bool:
        """Reload the book when the table changed (another replica, an administrator)."""
        async with self.engine.connect() as conn:
            fingerprint = tuple((await conn.execute(_FINGERPRINT)).one())
            if fingerprint == self._fingerprint:
                return False
            rows = (await conn.execute(_SELECT)).all()
        for row in rows:
            if not any(row.policy_id == kind.policy_id for kind in self.policies.kinds):
                continue
            version = PolicyVersion(
                row.policy_id,
                row.version,
                row.effective_from,
                row.effective_until,
                row.source_document,
                row.body,
                row.description,
            )
            self.policies.add(self.policies.typed(version, row.version, row.origin))
        self._fingerprint = fingerprint
        return True

    async def _insert(self, version: PolicyVersion, number: int, origin: str) -> bool:
        async with self.engine.begin() as conn:
            inserted = await conn.execute(_INSERT, _row(version, number, origin))
            return inserted.first() is not None


def _policy_files(folder: Path) -> list[tuple[str, str]]:
    """(name, content) of the policy files of a folder (small; read at start-up)."""
    if not folder.is_dir():
        return []
    return [(path.name, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def _row(version: PolicyVersion, number: int, origin: str) -> dict[str, Any]:
    return {
        "policy_id": version.policy_id,
        "version": number,
        "effective_from": version.effective_from,
        "effective_until": version.effective_until,
        "source_document": version.source_document,
        "description": version.description,
        "body": orjson.dumps(version.body).decode(),
        "origin": origin,
    }


def _instant(value: Any) -> datetime:
    text_value = str(value)
    if "T" in text_value:
        return instant_of(datetime.fromisoformat(text_value))
    return instant_of(date.fromisoformat(text_value))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def in_memory(kinds: Iterable[PolicyKind[Any]], versions: Iterable[Mapping[str, Any]]) -> Policies:
    """A book built from version dicts (as in the files): for unit tests and replays."""
    policies = Policies(list(kinds))
    for data in versions:
        version = PolicyVersion.from_data(data)
        policies.add(policies.typed(version, int(version.version or 1), "memory"))
    return policies
