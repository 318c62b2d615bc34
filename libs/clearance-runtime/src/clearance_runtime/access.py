"""Who may call an HTTP route: one dependency every service declares per route.

`requires("officer")` gives the route the caller's `Principal` (subject, roles, scope
such as the officer's customs location or the filer's IEC) or answers 401 (no valid
token) / 403 (not one of the roles). The caller proves who it is with an OpenID Connect
bearer token (`Authorization: Bearer <JWT>`), checked here, in one place, against the
issuer's published keys (JWKS): signature, issuer, audience, expiry. The local stack's
issuer is Keycloak (`deploy/local/keycloak/realm.json`); production points the same
settings (`CLEARANCE_AUTH_*`) at any OIDC issuer.

Scope (what part of the world a role reaches) travels as token claims:

| role | claims | what it limits |
|---|---|---|
| filer | `cb_code`, `iec` | the BEs it files and sees: those of its CB code or IEC |
| officer | `location`, `groups`, `functions` | its location(s), assessment groups, functions |
| custodian | `custodian` | its own custodian code: its gatepasses, deliveries |
| upstream, administrator | - | not scoped |

The claim names are the vocabulary the services used before tokens (`location=INNSA1;
groups=5C`, `custodian=INNSA1CFS2`, `cb_code=...;iec=...`), so `Principal.scope` reads as it
did: `caller.scope.get("location")`. Only a verified token sets them; request headers
(`X-Clearance-*`, the stand-in of old) grant nothing.

A route states the scope it needs with the same dependency, naming the request
parameter that carries it: `requires("officer", location="port_code")` lets only an
officer of the BE's port through (403 otherwise); a route that learns the facts later
(a BE's IEC after reading it) calls `caller.check(cb_code=..., iec=...)`, which answers
404 to a filer of another BE (never confirming that the BE exists) and 403 to an officer
of another location.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

log = logging.getLogger(__name__)

ROLES = ("filer", "officer", "custodian", "upstream", "administrator")

#: The scope claims each role carries (token claim names == `Principal.scope` keys).
ROLE_SCOPES: Mapping[str, tuple[str, ...]] = {
    "filer": ("cb_code", "iec"),
    "officer": ("location", "groups", "functions"),
    "custodian": ("custodian",),
    "upstream": (),
    "administrator": (),
}
SCOPE_CLAIMS = tuple(dict.fromkeys(claim for claims in ROLE_SCOPES.values() for claim in claims))
#: What an officer may be bound to do (the `functions` claim).
OFFICER_FUNCTIONS = ("assessment", "examination", "ooc", "bond")
#: The facts a route may check a caller against, and the scope claim each is compared with.
_FACT_CLAIMS = {
    "cb_code": "cb_code",
    "iec": "iec",
    "location": "location",
    "group": "groups",
    "function": "functions",
    "custodian": "custodian",
}
NOT_FOUND = "no Bill of Entry with this identity"


class Unauthenticated(HTTPException):
    """401: no token, or one that does not verify; the detail says which."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": 'Bearer realm="clearance"'})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: `subject` (the token's subject, recorded as the officer's identity in
    every decision), `roles`, and `scope` (claim name -> value; several values are
    comma-separated, e.g. `functions: "assessment,examination"`)."""

    subject: str
    roles: frozenset[str]
    scope: Mapping[str, str] = field(default_factory=dict)

    def has(self, role: str) -> bool:
        return role in self.roles

    def values(self, claim: str) -> frozenset[str]:
        """The values of one scope claim (empty when the token has none)."""
        return frozenset(v.strip() for v in self.scope.get(claim, "").split(",") if v.strip())

    def permits(self, **facts: str | None) -> bool:
        """Whether one of the caller's roles reaches these facts.

        `facts`: any of `cb_code`, `iec`, `location`, `group`, `function`, `custodian` (None or
        absent: not a fact of this request). A filer reaches a BE of its CB code or of its
        IEC; an officer, a location it is bound to and a function it holds; a custodian, its
        own code; upstream and administrator are not scoped.
        """
        unknown = set(facts) - set(_FACT_CLAIMS)
        if unknown:
            raise ValueError(f"unknown scope facts {sorted(unknown)}")
        given = {name: value for name, value in facts.items() if value is not None}
        return any(self._role_permits(role, given) for role in self.roles & set(ROLES))

    def _role_permits(self, role: str, facts: Mapping[str, str]) -> bool:
        claims = ROLE_SCOPES[role]
        relevant = {n: v for n, v in facts.items() if _FACT_CLAIMS[n] in claims}
        if not relevant:
            return True
        if role == "filer":
            # Either identity of the filing suffices: its customs broker or its importer.
            return any(value in self.values(_FACT_CLAIMS[n]) for n, value in relevant.items())
        return all(value in self.values(_FACT_CLAIMS[n]) for n, value in relevant.items())

    def check(self, **facts: str | None) -> None:
        """`permits(**facts)` or raise: 404 to a filer (a BE of someone else does not exist
        for it), 403 to anyone else, naming the scope that is missing."""
        if self.permits(**facts):
            return
        if self.has("filer") and not self.roles & {"officer", "custodian"}:
            raise HTTPException(404, NOT_FOUND)
        named = ", ".join(f"{n}={v}" for n, v in facts.items() if v is not None)
        raise HTTPException(403, f"your scope does not reach {named}")


@dataclass(frozen=True)
class AuthConfig:
    """Which issuer's tokens a service accepts, and how to read them."""

    issuer: str
    audience: str
    jwks_url: str = ""
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    leeway_s: float = 30.0
    roles_claim: str = "roles"
    subject_claim: str = "sub"
    jwks_ttl_s: float = 600.0
    jwks_min_refresh_s: float = 30.0


class JwksCache:
    """The issuer's signing keys by key id, fetched once and kept.

    A token signed with a key id not yet known makes the cache fetch the key set again
    (the issuer rotated its keys), at most once every `min_refresh_s` so that tokens with
    made-up key ids cannot turn the service into a JWKS downloader; the whole set is also
    refetched after `ttl_s`, so a withdrawn key stops being accepted.
    """

    def __init__(
        self,
        url: str | Callable[[], Awaitable[str]],
        *,
        ttl_s: float = 600.0,
        min_refresh_s: float = 30.0,
        fetch: Callable[[str], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._fetch = fetch or _http_json
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        if kid is None:
            raise Unauthenticated("the token names no signing key (kid)")
        now = time.monotonic()
        if kid in self._keys and now - self._fetched_at < self._ttl_s:
            return self._keys[kid]
        async with self._lock:
            stale = time.monotonic() - self._fetched_at
            if (kid not in self._keys and stale >= self._min_refresh_s) or stale >= self._ttl_s:
                await self._refresh()
        if kid not in self._keys:
            raise Unauthenticated("the token is signed with a key the issuer does not publish")
        return self._keys[kid]

    async def _refresh(self) -> None:
        url = self._url if isinstance(self._url, str) else await self._url()
        try:
            document = await self._fetch(url)
        except (httpx.HTTPError, ValueError) as error:
            log.warning("cannot fetch the issuer's keys from %s: %r", url, error)
            raise Unauthenticated("the issuer's keys cannot be fetched now") from error
        keys: dict[str, jwt.PyJWK] = {}
        for data in document.get("keys", []):
            if data.get("use", "sig") != "sig" or "kid" not in data:
                continue
            try:
                keys[str(data["kid"])] = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key type this library does not verify with
        self.fetches += 1
        self._keys = keys
        self._fetched_at = time.monotonic()


async def _http_json(url: str) -> Mapping[str, Any]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        document = response.json()
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document


class TokenVerifier:
    """Checks a bearer token and turns it into a `Principal`."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        fetch: Callable[[str], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.config = config
        self._fetch = fetch or _http_json
        self.keys = JwksCache(
            config.jwks_url or self._discover_jwks_url,
            ttl_s=config.jwks_ttl_s,
            min_refresh_s=config.jwks_min_refresh_s,
            fetch=self._fetch,
        )
        self._jwks_url = config.jwks_url

    async def _discover_jwks_url(self) -> str:
        """`jwks_uri` from the issuer's OpenID configuration (RFC 8414 well-known)."""
        if not self._jwks_url:
            well_known = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            self._jwks_url = str((await self._fetch(well_known))["jwks_uri"])
        return self._jwks_url

    async def verify(self, token: str) -> Principal:
        config = self.config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the bearer token is not a JWT: {error}") from error
        if header.get("alg") not in config.algorithms:
            raise Unauthenticated(f"tokens signed with {header.get('alg')} are not accepted")
        key = await self.keys.key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(config.algorithms),
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", config.subject_claim]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid here: {error}") from error
        return principal_from_claims(claims, config)


def principal_from_claims(claims: Mapping[str, Any], config: AuthConfig) -> Principal:
    """The principal a verified token's claims describe; unknown roles are ignored."""
    roles = _claim(claims, config.roles_claim)
    listed = roles if isinstance(roles, list) else [roles] if isinstance(roles, str) else []
    scope: dict[str, str] = {}
    for name in SCOPE_CLAIMS:
        value = claims.get(name)
        if isinstance(value, list):
            value = ",".join(str(item) for item in value)
        if value not in (None, ""):
            scope[name] = str(value)
    return Principal(
        subject=str(claims[config.subject_claim]),
        roles=frozenset(str(role) for role in listed) & frozenset(ROLES),
        scope=scope,
    )


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (`realm_access.roles` for Keycloak's built-in roles claim)."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An OpenID Connect access token of the platform's issuer (Keycloak locally): "
    "`bin/clearance token --role officer --location INNSA1` prints one.",
)


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's identity from its bearer token, or 401."""
    if credentials is None:
        raise Unauthenticated("no bearer token: sign in first (Authorization: Bearer <token>)")
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise Unauthenticated("this service has no token issuer configured (CLEARANCE_AUTH_*)")
    return await verifier.verify(credentials.credentials)


def requires(*roles: str, **scope_params: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the caller's principal when it holds one of `roles`.

    `scope_params` binds scope facts to request parameters (path first, then query):
    `requires("officer", location="port_code")` checks the officer's `location` claim
    against the `port_code` of the path; a fact whose parameter is absent is not checked.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    if not roles:
        raise ValueError("name at least one role")
    bad_facts = set(scope_params) - set(_FACT_CLAIMS)
    if bad_facts:
        raise ValueError(f"unknown scope facts {sorted(bad_facts)}")
    wanted = frozenset(roles)

    async def guard(
        request: Request, caller: Annotated[Principal, Depends(principal)]
    ) -> Principal:
        if not caller.roles & wanted:
            raise HTTPException(403, f"needs the role {' or '.join(roles)}")
        if scope_params:
            facts = {
                fact: request.path_params.get(param, request.query_params.get(param))
                for fact, param in scope_params.items()
            }
            Principal(caller.subject, caller.roles & wanted, caller.scope).check(**facts)
        return caller

    guard.required_roles = wanted  # type: ignore[attr-defined]
    guard.scope_params = dict(scope_params)  # type: ignore[attr-defined]
    return guard


def required_roles(dependencies: Iterable[Any]) -> frozenset[str] | None:
    """The roles a route's dependencies require, if one of them is `requires(...)`: the
    denial-matrix tests read routes with it."""
    for call in dependencies:
        roles = getattr(call, "required_roles", None)
        if roles is not None:
            return frozenset(roles)
    return None


class ClientCredentials:
    """A service's own access token (OAuth 2.0 client credentials grant), for a component
    that calls the services as itself rather than for a person: the operations console's
    reads. The token endpoint comes from the issuer's OpenID configuration; the token is
    kept until shortly before it expires."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        post: Callable[[str, Mapping[str, str]], Awaitable[Mapping[str, Any]]] | None = None,
        fetch: Callable[[str], Awaitable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._post = post or _http_post_form
        self._fetch = fetch or _http_json
        self._endpoint = ""
        self._token = ""
        self._until = float("-inf")
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if time.monotonic() < self._until:
                return self._token
            if not self._endpoint:
                well_known = self.issuer + "/.well-known/openid-configuration"
                self._endpoint = str((await self._fetch(well_known))["token_endpoint"])
            answer = await self._post(
                self._endpoint,
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._secret,
                },
            )
            self._token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 60))
            self._until = time.monotonic() + max(lifetime - 30.0, lifetime / 2)
            return self._token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token()}"}


async def _http_post_form(url: str, form: Mapping[str, str]) -> Mapping[str, Any]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(url, data=dict(form))
        response.raise_for_status()
        document = response.json()
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document
