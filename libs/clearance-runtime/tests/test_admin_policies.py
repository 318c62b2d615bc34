"""The administration API's policies: a version an administrator adds tells the service
(`ServiceParts.policies_changed`), e.g. rms-router publishing its assessment routing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from clearance_runtime.access import Principal, principal
from clearance_runtime.admin import policy_routes
from clearance_runtime.clock import ControllableClock
from clearance_runtime.policies import Policies, Policy, PolicyKind, PolicyVersion
from fastapi import FastAPI

pytestmark = pytest.mark.unit
KIND: PolicyKind[Any] = PolicyKind("limits", dict)
#: The caller the token would name (tokens themselves: test_access.py).
ADMINISTRATOR = Principal("admin", frozenset({"administrator"}))


class FakeStore:
    """PolicyStore's part the routes use, in memory."""

    def __init__(self) -> None:
        self.policies = Policies([KIND])

    async def add_version(self, version: PolicyVersion, origin: str) -> Policy[Any]:
        policy = self.policies.typed(version, len(self.policies.versions("limits")) + 1, origin)
        self.policies.add(policy)
        return policy


async def test_an_administrators_version_runs_the_services_changed_callback() -> None:
    calls: list[int] = []
    store = FakeStore()

    async def changed() -> None:
        calls.append(len(store.policies.versions("limits")))

    app = FastAPI()
    app.dependency_overrides[principal] = lambda: ADMINISTRATOR
    app.include_router(policy_routes(store, ControllableClock(), changed=changed))  # type: ignore[arg-type]
    version = {
        "effective_from": "2025-04-01",
        "source_document": "test",
        "body": {"max": 3},
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        added = await client.post("/admin/policies/limits", json=version)
        refused = await client.post("/admin/policies/limits", json={"body": {}})
    assert added.status_code == 201, added.text
    assert refused.status_code == 422, refused.text
    assert calls == [1]  # after the version is stored; not for a refused one
