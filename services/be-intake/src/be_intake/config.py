"""Settings of be-intake (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "be-intake"
    db_schema: str = "be_intake"
    http_port: int = 8001
