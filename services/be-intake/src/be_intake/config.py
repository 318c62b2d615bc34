"""Settings of be-intake (environment `CLEARANCE_*`)."""

from typing import Literal

from clearance_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "be-intake"
    db_schema: str = "be_intake"
    http_port: int = 8001
    # One transaction per fetch: be-intake folds every owner's topic and each batch writes
    # one statement per table, so larger batches cost less; three concurrent transactions
    # took 6.1-6.5 ms of its CPU per BE against 5.4 in the 10,000-BE burst (issue 18).
    consumer_transaction: Literal["partition", "fetch"] = "fetch"
    # JSON, and the ICES 1.5 flat files brokers upload (POST /ices/messages, text/plain).
    http_media_types: tuple[str, ...] = ("application/json", "text/plain")
    # A BE neither out of charge, held nor rejected this long after be-intake first saw it
    # counts in the gauge clearance_bills_of_entry_not_terminal (alert BillsOfEntryNotTerminal).
    not_terminal_after_s: float = 1800.0
    # ICES 1.5 flat files dropped here (`<name>.be`, `<name>.beamd`) are answered beside them
    # with `<name>.ack` / `.nak`, `<name>.beamd.ack` / `.nak` (issue 9); empty: no inbox.
    ices_inbox_dir: str = ""
    ices_inbox_every_s: float = 2.0
