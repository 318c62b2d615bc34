"""Settings of ooc-issuer (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "ooc-issuer"
    db_schema: str = "ooc_issuer"
    http_port: int = 8005
