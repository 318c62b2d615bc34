"""Settings of ooc-issuer (environment `CLEARANCE_*`)."""

from pathlib import Path

from clearance_runtime.settings import ServiceSettings
from pydantic import SecretStr


class Settings(ServiceSettings):
    service_name: str = "ooc-issuer"
    db_schema: str = "ooc_issuer"
    http_port: int = 8005

    # OOC-EOOC-1: the keys that sign the e-OOC's QR token, never committed: a JSON object
    # {"active_kid": ..., "keys": [private EC P-256 JWKs with "kid"]} given inline, or the
    # path of a file holding it (owner-only permissions). The local stack generates them.
    eooc_signing_keys: SecretStr | None = None
    eooc_signing_keys_file: Path | None = None

    # OOC-GP-1 push delivery: a custodian whose callback failed this many times in a row is
    # marked blocked; its oldest e-Gatepass is then the one pilot tried (after the capped
    # backoff, `delivery_max_backoff_s`) before its backlog flows again, in order.
    custodian_block_after_failures: int = 5
    # How long a callback has to echo the challenge when a custodian registers it.
    custodian_challenge_timeout_s: float = 5.0

    def signing_keys_json(self) -> str:
        if self.eooc_signing_keys is not None:
            return self.eooc_signing_keys.get_secret_value()
        if self.eooc_signing_keys_file is not None:
            return self.eooc_signing_keys_file.read_text(encoding="utf-8")
        raise ValueError(
            "no e-OOC signing keys: set CLEARANCE_EOOC_SIGNING_KEYS or "
            "CLEARANCE_EOOC_SIGNING_KEYS_FILE (the local stack generates them)"
        )
