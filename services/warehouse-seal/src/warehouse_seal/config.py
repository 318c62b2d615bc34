"""Settings of warehouse-seal (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "warehouse-seal"
    db_schema: str = "warehouse_seal"
    http_port: int = 8004
    # JSON, and the RFID vendors' sales files (POST .../sales as text/csv).
    http_media_types: tuple[str, ...] = ("application/json", "text/csv")
