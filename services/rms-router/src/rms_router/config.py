"""Settings of rms-router (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "rms-router"
    db_schema: str = "rms_router"
    http_port: int = 8003
