"""Who may call an HTTP route: one dependency every service declares per route.

`requires("officer")` gives the route the caller's `Principal` (subject, roles,
scope such as the officer's customs location or the filer's IEC) or answers
401 (no identity) / 403 (not one of the roles). Until bearer tokens land
(issue: identities and roles), the identity is asserted by the caller in the
`X-Clearance-Subject`, `X-Clearance-Roles` and `X-Clearance-Scope` headers, so
this stand-in must only ever listen on loopback; the token check replaces the
body of `principal()` and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from fastapi import Header, HTTPException

ROLES = ("filer", "officer", "custodian", "upstream", "administrator")


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    scope: Mapping[str, str] = field(default_factory=dict)

    def has(self, role: str) -> bool:
        return role in self.roles


def _scope(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {name.strip(): value.strip() for name, value in pairs}


async def principal(
    x_clearance_subject: str | None = Header(default=None),
    x_clearance_roles: str | None = Header(default=None),
    x_clearance_scope: str | None = Header(default=None),
) -> Principal:
    """The caller's identity, or 401."""
    if not x_clearance_subject or not x_clearance_roles:
        raise HTTPException(status_code=401, detail="no identity: sign in first")
    roles = frozenset(role.strip() for role in x_clearance_roles.split(",") if role.strip())
    return Principal(x_clearance_subject, roles, _scope(x_clearance_scope or ""))


def requires(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the caller's principal when it holds one of `roles`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def guard(
        x_clearance_subject: str | None = Header(default=None),
        x_clearance_roles: str | None = Header(default=None),
        x_clearance_scope: str | None = Header(default=None),
    ) -> Principal:
        caller = await principal(x_clearance_subject, x_clearance_roles, x_clearance_scope)
        if not caller.roles & set(roles):
            raise HTTPException(status_code=403, detail=f"needs the role {' or '.join(roles)}")
        return caller

    return guard
