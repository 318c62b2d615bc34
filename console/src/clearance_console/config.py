"""Settings of the console (environment `CLEARANCE_*`): where the services answer."""

from __future__ import annotations

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
