"""Settings of be-intake (environment `CLEARANCE_*`)."""

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "be-intake"
    db_schema: str = "be_intake"
    http_port: int = 8001
    # JSON, and the ICES 1.5 flat files brokers upload (POST /ices/messages, text/plain).
    http_media_types: tuple[str, ...] = ("application/json", "text/plain")
    # A BE neither out of charge, held nor rejected this long after be-intake first saw it
    # counts in the gauge clearance_bills_of_entry_not_terminal (alert BillsOfEntryNotTerminal).
    not_terminal_after_s: float = 1800.0
    # ICES 1.5 flat files dropped here (`<name>.be`, `<name>.beamd`) are answered beside them
    # with `<name>.ack` / `.nak`, `<name>.beamd.ack` / `.nak` (issue 9); empty: no inbox.
    ices_inbox_dir: str = ""
    ices_inbox_every_s: float = 2.0
