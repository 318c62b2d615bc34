"""Bearer tokens, roles and scopes (access), and bad input refused as problem details (web).

Tokens here are signed with keys made in the test and published through an in-memory
JWKS; the real issuer (Keycloak) is exercised by tests/e2e/test_security.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

import jwt
import pytest
from clearance_runtime.access import (
    AuthConfig,
    Principal,
    TokenVerifier,
    requires,
)
from clearance_runtime.web import (
    BodyLimit,
    MediaTypeCheck,
    PageSize,
    document_problems,
    install_problem_handlers,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

pytestmark = pytest.mark.unit

ISSUER = "https://issuer.test/realms/clearance"


class Issuer:
    """A signing key (or several, for rotation) and the JWKS that publishes them."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        self.rotate()

    def rotate(self) -> str:
        kid = f"k{len(self.keys) + 1}"
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    async def jwks(self, url: str) -> Mapping[str, Any]:
        self.fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def token(self, kid: str | None = None, **claims: Any) -> str:
        kid = kid or list(self.keys)[-1]
        now = int(time.time())
        body = {"iss": ISSUER, "aud": "clearance", "sub": "u-1", "iat": now, "exp": now + 300}
        body |= claims
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def _app(issuer: Issuer, max_body: int = 1000) -> FastAPI:
    app = FastAPI()
    config = AuthConfig(issuer=ISSUER, audience="clearance", jwks_url="https://issuer.test/jwks")
    app.state.token_verifier = TokenVerifier(config, fetch=issuer.jwks)
    install_problem_handlers(app)
    app.add_middleware(MediaTypeCheck)
    app.add_middleware(BodyLimit, max_bytes=max_body)

    @app.get("/bills-of-entry/{port_code}")
    async def officer_route(
        port_code: str,
        who: Annotated[Principal, Depends(requires("officer", location="port_code"))],
    ) -> dict[str, Any]:
        return {"subject": who.subject, "functions": sorted(who.values("functions"))}

    @app.post("/upload", responses={409: {"description": "uploaded already"}})
    async def upload(
        request: Request, _: Annotated[Principal, Depends(requires("upstream"))]
    ) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.get("/page")
    async def page(limit: PageSize = 10) -> dict[str, int]:
        return {"limit": limit}

    document_problems(app)
    return app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_of_the_role_and_scope_passes(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    token = issuer.token(roles=["officer"], location=["INNSA1"], functions=["ooc", "assessment"])
    answer = client.get("/bills-of-entry/INNSA1", headers=_bearer(token))
    assert answer.status_code == 200
    assert answer.json() == {"subject": "u-1", "functions": ["assessment", "ooc"]}


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iss": "https://other.test/realms/x"}, "issuer"),
        ({"aud": "someone-else"}, "Audience"),
    ],
)
def test_expired_foreign_or_misaddressed_tokens_are_401(
    issuer: Issuer, claims: dict[str, Any], detail: str
) -> None:
    client = TestClient(_app(issuer))
    token = issuer.token(roles=["officer"], location="INNSA1", **claims)
    answer = client.get("/bills-of-entry/INNSA1", headers=_bearer(token))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert detail in answer.json()["detail"]


def test_no_token_a_forged_signature_or_alg_none_is_401(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    assert client.get("/bills-of-entry/INNSA1").status_code == 401
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "iss": ISSUER,
            "aud": "clearance",
            "sub": "x",
            "iat": 0,
            "exp": 2**31,
            "roles": ["officer"],
        },
        forger,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    assert client.get("/bills-of-entry/INNSA1", headers=_bearer(forged)).status_code == 401
    unsigned = jwt.encode({"roles": ["officer"], "sub": "x"}, None, algorithm="none")
    assert client.get("/bills-of-entry/INNSA1", headers=_bearer(unsigned)).status_code == 401


def test_wrong_role_is_403_and_an_officer_of_another_location_is_403(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    filer = issuer.token(roles=["filer"], cb_code="AABCJ2231PCH001")
    answer = client.get("/bills-of-entry/INNSA1", headers=_bearer(filer))
    assert answer.status_code == 403
    assert "officer" in answer.json()["detail"]
    chennai = issuer.token(roles=["officer"], location=["INMAA1"])
    answer = client.get("/bills-of-entry/INNSA1", headers=_bearer(chennai))
    assert answer.status_code == 403
    assert "location=INNSA1" in answer.json()["detail"]


def test_keys_are_cached_by_key_id_and_a_rotated_key_is_fetched_once(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    headers = _bearer(issuer.token(roles=["officer"], location="INNSA1"))
    for _ in range(5):
        assert client.get("/bills-of-entry/INNSA1", headers=headers).status_code == 200
    assert issuer.fetches == 1
    new_kid = issuer.rotate()
    rotated = _bearer(issuer.token(new_kid, roles=["officer"], location="INNSA1"))
    verifier: TokenVerifier = client.app.state.token_verifier  # type: ignore[attr-defined]
    verifier.keys._min_refresh_s = 0  # the test does not wait the refresh interval
    assert client.get("/bills-of-entry/INNSA1", headers=rotated).status_code == 200
    assert issuer.fetches == 2
    made_up = issuer.token(roles=["officer"], location="INNSA1").replace("k2", "k9")
    verifier.keys._min_refresh_s = 3600  # unknown key ids do not refetch every time
    for _ in range(3):
        client.get("/bills-of-entry/INNSA1", headers=_bearer(made_up))
    assert issuer.fetches <= 3


def test_a_filer_sees_only_its_own_bes_and_another_filers_be_does_not_exist() -> None:
    filer = Principal("f", frozenset({"filer"}), {"cb_code": "CB1", "iec": "IEC1"})
    assert filer.permits(cb_code="CB1", iec="OTHER")
    assert filer.permits(cb_code="OTHER", iec="IEC1")
    assert not filer.permits(cb_code="CB2", iec="IEC2")
    with pytest.raises(Exception, match="no Bill of Entry") as raised:
        filer.check(cb_code="CB2", iec="IEC2")
    assert raised.value.status_code == 404  # type: ignore[attr-defined]
    admin = Principal("a", frozenset({"administrator"}))
    assert admin.permits(cb_code="CB2", location="INMAA1")


def test_a_body_over_the_limit_is_refused_before_it_is_read(issuer: Issuer) -> None:
    client = TestClient(_app(issuer, max_body=1000))
    headers = _bearer(issuer.token(roles=["upstream"])) | {"content-type": "application/json"}
    answer = client.post("/upload", content=b"x" * 1001, headers=headers)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "1000 bytes" in answer.json()["detail"]

    def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"y" * 200

    answer = client.post("/upload", content=chunks(), headers=headers)
    assert answer.status_code == 413
    assert client.post("/upload", content=b"{}", headers=headers).json() == {"read": 2}


def test_a_body_that_is_not_json_is_415_and_a_page_is_bounded(issuer: Issuer) -> None:
    client = TestClient(_app(issuer))
    headers = _bearer(issuer.token(roles=["upstream"]))
    answer = client.post("/upload", content=b"a,b", headers=headers | {"content-type": "text/csv"})
    assert answer.status_code == 415
    assert "text/csv" in answer.json()["detail"]
    answer = client.get("/page", params={"limit": 100_000})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["location"] == "query.limit"


def test_every_route_documents_its_problem_answers(issuer: Issuer) -> None:
    spec = TestClient(_app(issuer)).get("/openapi.json").json()
    answers = spec["paths"]["/upload"]["post"]["responses"]
    assert {"401", "403", "413", "415", "422"} <= set(answers)
    assert "application/problem+json" in answers["401"]["content"]
    # A status the route documents itself is answered as problem details too.
    assert "application/problem+json" in answers["409"]["content"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
