"""Secrets the local stack makes for itself, never committed: the e-OOC signing keys.

ooc-issuer signs the QR token of every e-OOC (OOC-EOOC-1) with an EC P-256 key from its
settings. Each local profile (`local`, `test`, `bench`) gets its own key set, generated
once under `.data/<profile>/secrets/` with owner-only permissions and passed to the
service in its environment (`CLEARANCE_EOOC_SIGNING_KEYS`). Rotating it: add a key with a
new `kid` to the file, make it `active_kid`, restart ooc-issuer; old keys keep verifying.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

SIGNING_KEYS_FILE = "e-ooc-signing-keys.json"


def _b64(number: int, length: int = 32) -> str:
    import base64

    return base64.urlsafe_b64encode(number.to_bytes(length, "big")).rstrip(b"=").decode()


def new_signing_key(kid: str) -> dict[str, str]:
    """A fresh EC P-256 private key as a JWK (RFC 7518 section 6.2)."""
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.private_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.public_numbers.x),
        "y": _b64(numbers.public_numbers.y),
        "d": _b64(numbers.private_value),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }


def signing_keys(data_dir: Path, profile: str) -> str:
    """The profile's e-OOC signing key set (JSON), made on first use, mode 0600."""
    folder = data_dir / "secrets"
    path = folder / SIGNING_KEYS_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        kid = f"e-ooc-{profile}-1"
        text = json.dumps({"active_kid": kid, "keys": [new_signing_key(kid)]}, indent=2)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    return path.read_text(encoding="utf-8")
