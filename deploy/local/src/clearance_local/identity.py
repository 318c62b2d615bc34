"""Tokens from the local stack's Keycloak, for people trying the APIs and for tests.

`IdentityProvider.token("officer", location="INNSA1")` returns an access token of a user
who holds that role and that scope. The user (`officer-innsa1`, a SAMPLE user) is made
through Keycloak's admin API the first time and given a generated password (kept in the
secrets folder); the token comes from the realm's public `clearance-cli` client with the
password grant, which exists in the local stack only. Tokens are cached until shortly
before they expire.

    bin/clearance token --role officer --location INNSA1 --functions assessment,ooc
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Mapping

import httpx

from clearance_local.keycloak import ADMIN_USER, REALM

#: The platform's roles (clearance_runtime.access.ROLES), realm roles of the local realm.
ROLES = ("filer", "officer", "custodian", "upstream", "administrator")

CLI_CLIENT = "clearance-cli"
#: Scope claims, as command-line options and user attributes (access.ROLE_SCOPES).
SCOPE_NAMES = ("cb_code", "iec", "location", "groups", "functions", "custodian")


class IdentityError(RuntimeError):
    """Keycloak refused or is unreachable; the message says what it answered."""


def username_for(role: str, scope: Mapping[str, str]) -> str:
    """A stable user name for a role and scope: `officer-innsa1-assessment-ooc`."""
    parts = [role, *(scope[name] for name in SCOPE_NAMES if scope.get(name))]
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")[:200]


class IdentityProvider:
    """SAMPLE users and their tokens in the local Keycloak's `clearance` realm."""

    def __init__(self, keycloak_url: str, admin_password: str, realm: str = REALM) -> None:
        self.url = keycloak_url.rstrip("/")
        self.realm = realm
        self._admin_password = admin_password
        self._http = httpx.Client(timeout=30.0)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._passwords: dict[str, str] = {}
        self._made: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{self.realm}"

    def token(self, role: str, *, user: str | None = None, **scope: str) -> str:
        """An access token for `role` with `scope` (claims cb_code, iec, location, groups,
        functions, custodian; several values comma-separated), of the user `user` (its
        username is the token's `preferred_username`, the subject services record) or of
        one named after role and scope."""
        unknown = set(scope) - set(SCOPE_NAMES)
        if unknown:
            raise ValueError(f"unknown scope {sorted(unknown)}; known: {SCOPE_NAMES}")
        scope = {name: value for name, value in scope.items() if value}
        name = (user or username_for(role, scope)).lower()
        wanted = (role, tuple(sorted(scope.items())))
        cache_key = f"{name}\0{wanted!r}"
        cached = self._tokens.get(cache_key)
        if cached and cached[1] > time.monotonic() + 30:
            return cached[0]
        with self._lock:
            password = self._ensure_user(name, role, scope)
            answer = self._http.post(
                f"{self.issuer}/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": CLI_CLIENT,
                    "username": name,
                    "password": password,
                },
            )
        if answer.status_code != 200:
            raise IdentityError(f"no token for {name}: {answer.status_code} {answer.text}")
        body = answer.json()
        self._tokens[cache_key] = (body["access_token"], time.monotonic() + body["expires_in"])
        return str(body["access_token"])

    def headers(self, role: str, **scope: str) -> dict[str, str]:
        """`Authorization: Bearer ...` for `role` with `scope`."""
        return {"Authorization": f"Bearer {self.token(role, **scope)}"}

    def _admin_headers(self) -> dict[str, str]:
        cached = self._tokens.get("\0admin")
        if cached and cached[1] > time.monotonic() + 10:
            return {"Authorization": f"Bearer {cached[0]}"}
        answer = self._http.post(
            f"{self.url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN_USER,
                "password": self._admin_password,
            },
        )
        if answer.status_code != 200:
            raise IdentityError(f"Keycloak admin sign-in failed: {answer.status_code}")
        body = answer.json()
        self._tokens["\0admin"] = (body["access_token"], time.monotonic() + body["expires_in"])
        return {"Authorization": f"Bearer {body['access_token']}"}

    def _ensure_user(self, name: str, role: str, scope: Mapping[str, str]) -> str:
        """Make the user when missing, give it exactly `role` and `scope` (a user named by
        a test may be asked for with another scope later), set a fresh password the first
        time; return the password."""
        wanted = (role, tuple(sorted(scope.items())))
        if self._made.get(name) == wanted:
            return self._passwords[name]
        admin = f"{self.url}/admin/realms/{self.realm}"
        headers = self._admin_headers()
        attributes = {
            claim: [v.strip() for v in value.split(",") if v.strip()]
            for claim, value in scope.items()
            if value
        }
        representation = {
            "username": name,
            "enabled": True,
            # An e-mail's local part holds 64 characters at most: a digest of the name.
            "email": f"u{hashlib.sha256(name.encode()).hexdigest()[:24]}@sample.invalid",
            "emailVerified": True,
            "firstName": "SAMPLE",
            "lastName": f"{role} made by clearance-local",
            "attributes": attributes,
        }
        found = self._find(admin, name, headers)
        if found is None:
            created = self._http.post(f"{admin}/users", headers=headers, json=representation)
            if created.status_code not in (201, 409):
                raise IdentityError(f"cannot create {name}: {created.status_code} {created.text}")
            found = self._find(admin, name, headers)
            if found is None:
                raise IdentityError(f"{name} was created but cannot be found")
        else:
            self._http.put(
                f"{admin}/users/{found}", headers=headers, json=representation
            ).raise_for_status()
        # `role` may name several, comma-separated ("filer,officer"): the user holds each.
        wanted_roles = {each.strip() for each in role.split(",") if each.strip()}
        mappings = f"{admin}/users/{found}/role-mappings/realm"
        held = [r for r in self._http.get(mappings, headers=headers).json() if r["name"] in ROLES]
        stale = [r for r in held if r["name"] not in wanted_roles]
        if stale:
            self._http.request("DELETE", mappings, headers=headers, json=stale).raise_for_status()
        for missing in sorted(wanted_roles - {r["name"] for r in held}):
            role_rep = self._http.get(f"{admin}/roles/{missing}", headers=headers)
            if role_rep.status_code != 200:
                raise IdentityError(f"no realm role {missing!r}")
            self._http.post(mappings, headers=headers, json=[role_rep.json()]).raise_for_status()
        if name not in self._passwords:
            password = secrets.token_urlsafe(18)
            self._http.put(
                f"{admin}/users/{found}/reset-password",
                headers=headers,
                json={"type": "password", "value": password, "temporary": False},
            ).raise_for_status()
            self._passwords[name] = password
        self._made[name] = wanted
        return self._passwords[name]

    def _find(self, admin: str, name: str, headers: Mapping[str, str]) -> str | None:
        found = self._http.get(
            f"{admin}/users", params={"username": name, "exact": "true"}, headers=headers
        ).json()
        return str(found[0]["id"]) if found else None
