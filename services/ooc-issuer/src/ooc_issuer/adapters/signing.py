"""The e-OOC's signed QR token (OOC-EOOC-1): a compact JWS (ES256) over the document's
claims, in the manner of the signed QR code of India's GST e-invoices, verifiable by anyone
with the published JWKS.

Keys come from settings, never from the repository: a JSON object
`{"active_kid": "...", "keys": [<EC P-256 private JWK with "kid">, ...]}`. The active key
signs; every key listed verifies, so a key is rotated by adding a new one, making it
active, and removing the old one once no document signed with it needs verifying.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"
TOKEN_TYPE = "e-ooc+jwt"


class InvalidDocument(Exception):
    """A token that is not an authentic e-OOC (bad signature, unknown key, altered)."""


class SigningKeysError(ValueError):
    """The configured signing keys are missing or malformed."""


def new_signing_key(kid: str) -> dict[str, Any]:
    """A fresh EC P-256 private JWK (for the local stack and tests; never committed)."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def new_key_set(kid: str) -> dict[str, Any]:
    return {"active_kid": kid, "keys": [new_signing_key(kid)]}


@dataclass(frozen=True)
class _Key:
    kid: str
    private: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, Any]


class DocumentSigner:
    """Signs with the active key; verifies with any configured key, chosen by `kid`."""

    def __init__(self, key_set: Mapping[str, Any]) -> None:
        keys = key_set.get("keys")
        active = key_set.get("active_kid")
        if not isinstance(keys, list) or not keys or not isinstance(active, str):
            raise SigningKeysError("signing keys need `active_kid` and a non-empty `keys` list")
        self._keys: dict[str, _Key] = {}
        for jwk in keys:
            kid = jwk.get("kid") if isinstance(jwk, dict) else None
            if not isinstance(kid, str) or "d" not in jwk:
                raise SigningKeysError("each signing key is a private EC JWK with a `kid`")
            private = ECAlgorithm.from_jwk(json.dumps(jwk))
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise SigningKeysError(f"key {kid} is not an EC private key")
            public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
            self._keys[kid] = _Key(
                kid, private, {**public, "kid": kid, "alg": ALGORITHM, "use": "sig"}
            )
        if active not in self._keys:
            raise SigningKeysError(f"the active key {active!r} is not among the keys")
        self._active = self._keys[active]

    @classmethod
    def from_json(cls, text: str) -> DocumentSigner:
        try:
            return cls(json.loads(text))
        except json.JSONDecodeError as error:
            raise SigningKeysError(f"signing keys are not JSON: {error}") from None

    @property
    def key_id(self) -> str:
        return self._active.kid

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(
            dict(claims),
            self._active.private,
            algorithm=ALGORITHM,
            headers={"kid": self._active.kid, "typ": TOKEN_TYPE},
        )

    def jwks(self) -> dict[str, Any]:
        """The public keys, for anyone to verify e-OOC tokens (RFC 7517 JWK Set)."""
        return {"keys": [key.public_jwk for key in self._keys.values()]}

    def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        """(key id, claims) of an authentic token; InvalidDocument otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None or header.get("alg") != ALGORITHM:
                raise InvalidDocument(f"signed with an unknown key {header.get('kid')!r}")
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private.public_key(),
                algorithms=[ALGORITHM],
                options={"require": ["iss", "ooc_no", "be_no"]},
                issuer="ooc-issuer",
            )
        except jwt.PyJWTError as error:
            raise InvalidDocument(str(error)) from None
        return key.kid, claims
