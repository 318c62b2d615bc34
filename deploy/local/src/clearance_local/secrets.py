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
"""

from __future__ import annotations

import os
import secrets as random
from collections.abc import Callable
from pathlib import Path


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
