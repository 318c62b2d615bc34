"""Generated secrets of a local stack: created once, kept under `.data/<profile>/secrets/`.

No secret lives in the repository. Whatever the local stack needs (Kafka and PostgreSQL
passwords, Keycloak's admin password, a signing key, an HMAC key) is generated the first
time it is asked for, written owner-only (folder 0700, files 0600) and read back by every
later `up`, so the stack keeps working across restarts and `reset` forgets them all.

    from clearance_local.secrets import Secrets
    secrets = Secrets(config.data_dir / "secrets")
    password = secrets.password("kafka-be-intake")            # url-safe text
    hmac_key = secrets.token_hex("custodian-push-hmac", 32)    # 64 hex characters
    pem_path = secrets.file("e-ooc-signing-key.pem", make_pem)  # any bytes, made once

A service gets a secret through its settings (an environment variable set by
`ServiceProcess.env`), or the path of a secret file; production supplies the same settings
from its own secret store.

The e-OOC signing keys: ooc-issuer signs the QR token of every e-OOC (OOC-EOOC-1) with
an EC P-256 key from its settings. Each local profile gets its own key set, generated once
under `.data/<profile>/secrets/` and passed to the service in its environment
(`CLEARANCE_EOOC_SIGNING_KEYS`). Rotating it: add a key with a new `kid` to the file, make
it `active_kid`, restart ooc-issuer; old keys keep verifying.
"""

from __future__ import annotations

import json
import os
import secrets as random
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec


class Secrets:
    """Named secrets in one owner-only folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _ensure_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)

    def file(self, name: str, generate: Callable[[], bytes]) -> Path:
        """The path of secret `name`, written from `generate()` the first time (0600)."""
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad secret name {name!r}")
        self._ensure_folder()
        path = self.folder / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(generate())
        os.chmod(path, 0o600)
        return path

    def text(self, name: str, generate: Callable[[], str]) -> str:
        return self.file(name, lambda: generate().encode()).read_text().strip()

    def password(self, name: str, nbytes: int = 24) -> str:
        """A random url-safe password (no quoting needed in JAAS, DSNs or shells)."""
        return self.text(name, lambda: random.token_urlsafe(nbytes).replace("-", "x"))

    def token_hex(self, name: str, nbytes: int = 32) -> str:
        """A random key as hex, e.g. an HMAC secret."""
        return self.text(name, lambda: random.token_hex(nbytes))


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
