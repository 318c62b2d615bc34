"""Settings of the console (environment `CLEARANCE_*`): where the services answer."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARANCE_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: Set by the provisioner at each start; /readyz answers with it.
    instance_id: str = ""
    kafka_bootstrap: str = "127.0.0.1:19092"
    be_intake_url: str = "http://127.0.0.1:8001"
    bis_verifier_url: str = "http://127.0.0.1:8002"
    rms_router_url: str = "http://127.0.0.1:8003"
    warehouse_seal_url: str = "http://127.0.0.1:8004"
    ooc_issuer_url: str = "http://127.0.0.1:8005"
    #: Kafka credentials of the console's own principal (dead letters: read, replay):
    #: CLEARANCE_KAFKA_SECURITY_PROTOCOL, ..._SASL_USERNAME, ... (clearance_runtime.kafka).
    #: Bearer tokens: the issuer whose tokens the console's callers carry (as the services).
    auth_issuer: str = ""
    auth_audience: str = "clearance"
    auth_jwks_url: str = ""
    auth_roles_claim: str = "roles"
    auth_subject_claim: str = "sub"
    #: The console reads the services as itself: a confidential client of the issuer
    #: (client credentials grant). Empty secret: no service token (reads answer 401).
    auth_client_id: str = "clearance-console"
    auth_client_secret: SecretStr = SecretStr("")
    #: The trace viewer (Zipkin); empty: no trace links.
    zipkin_url: str = ""
    log_level: str = "INFO"

    def service_urls(self) -> dict[str, str]:
        return {
            "be-intake": self.be_intake_url,
            "bis-verifier": self.bis_verifier_url,
            "rms-router": self.rms_router_url,
            "warehouse-seal": self.warehouse_seal_url,
            "ooc-issuer": self.ooc_issuer_url,
        }
