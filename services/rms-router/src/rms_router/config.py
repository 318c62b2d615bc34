"""Settings of rms-router (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "rms-router"
    db_schema: str = "rms_router"
    http_port: int = 8003

    # RMS-QUEUE-1: how long an officer holds a claimed BE before it returns to its
    # place in the queue (no source gives a figure: half an hour, configurable).
    claim_ttl_s: float = 1800.0
    # Claims expire in half an hour: the timer worker need not look every second (the
    # runtime's default). A moved clock (tests) wakes it at once.
    timer_poll_interval_s: float = 5.0
