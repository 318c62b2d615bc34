"""SQL of be-intake: registered Bills of Entry, the status view, the dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from be_intake.domain.status import STAGE_RANK, StatusChange

_INSERT_BE = text(
    "INSERT INTO bill_of_entry (port_code, be_no, be_date, version, be_type, iec, filing, "
    "filed_event_id) VALUES (:port_code, :be_no, :be_date, :version, :be_type, :iec, "
    "CAST(:filing AS jsonb), :event_id) ON CONFLICT DO NOTHING RETURNING be_no"
)
# One statement folds an event, as `next_status` in the domain says: its history
# row; the view moved (Out of Charge stays; else a newer version starts over, an
# older one changes nothing, within a version the later stage wins; a later event
# with no reasons keeps the reasons shown); and the dead letters of the event's
# producer for this BE resolved, since that producer has moved the BE on.
_NEWER = (
    "s.out_of_charge_no IS NULL AND (EXCLUDED.out_of_charge_no IS NOT NULL"
    " OR EXCLUDED.version > s.version)"
)
_KEEP = "EXCLUDED.version < s.version OR s.out_of_charge_no IS NOT NULL"
_FOLD = text(
    "WITH history AS ("
    " INSERT INTO bill_of_entry_history (port_code, be_no, be_date, version, stage, event_type,"
    " reasons, at) VALUES (:port_code, :be_no, :be_date, :version, :stage, :event_type,"
    " CAST(:reasons AS jsonb), :at)),"
    " resolved AS (UPDATE dead_letter SET resolved_at = :at WHERE port_code = :port_code"
    " AND be_no = :be_no AND be_date = :be_date AND consumer = :producer"
    " AND resolved_at IS NULL)"
    " INSERT INTO bill_of_entry_status AS s (port_code, be_no, be_date, version, stage,"
    " stage_rank, reasons, out_of_charge_no, gatepass_no, updated_at)"
    " VALUES (:port_code, :be_no, :be_date, :version, :stage, :rank, CAST(:reasons AS jsonb),"
    " :ooc_no, :gatepass_no, :at)"
    " ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET"
    f" stage = CASE WHEN {_NEWER} THEN EXCLUDED.stage WHEN {_KEEP} THEN s.stage"
    " WHEN EXCLUDED.stage_rank >= s.stage_rank THEN EXCLUDED.stage ELSE s.stage END,"
    f" stage_rank = CASE WHEN {_NEWER} THEN EXCLUDED.stage_rank WHEN {_KEEP} THEN s.stage_rank"
    " ELSE greatest(EXCLUDED.stage_rank, s.stage_rank) END,"
    f" reasons = CASE WHEN {_NEWER} THEN EXCLUDED.reasons WHEN {_KEEP} THEN s.reasons"
    " WHEN EXCLUDED.stage_rank < s.stage_rank"
    " OR (EXCLUDED.stage = s.stage AND jsonb_array_length(EXCLUDED.reasons) = 0)"
    " THEN s.reasons ELSE EXCLUDED.reasons END,"
    " version = greatest(EXCLUDED.version, s.version),"
    " out_of_charge_no = coalesce(s.out_of_charge_no, EXCLUDED.out_of_charge_no),"
    " gatepass_no = coalesce(s.gatepass_no, EXCLUDED.gatepass_no),"
    " updated_at = EXCLUDED.updated_at"
)
# A BE known only by a dead letter (its filing could not be read) gets a view too.
_DEAD_LETTER = text(
    "WITH letter AS (INSERT INTO dead_letter (port_code, be_no, be_date, consumer, event_type, "
    "reason, dlq_topic, dlq_partition, dlq_offset, dead_lettered_at) VALUES (:port_code, "
    ":be_no, :be_date, :consumer, :event_type, :reason, :topic, :partition, :offset, :at) "
    "ON CONFLICT DO NOTHING) "
    "INSERT INTO bill_of_entry_status (port_code, be_no, be_date, version, stage, stage_rank, "
    "updated_at) VALUES (:port_code, :be_no, :be_date, 1, 'filed', 0, :at) ON CONFLICT DO NOTHING"
)


def _key(identity: Identity) -> dict[str, Any]:
    port_code, be_no, be_date = identity
    return {"port_code": port_code, "be_no": be_no, "be_date": be_date}


class SqlIntake:
    """be-intake's repositories on PostgreSQL; writes are deferred to one statement each."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def add_bill_of_entry(
        self, ref: BillOfEntryRef, filing: dict[str, Any], event_id: str
    ) -> bool:
        """Register the BE; False if a BE of this identity is already registered."""
        result = await self.uow.session.execute(
            _INSERT_BE,
            {
                **_key(ref.identity),
                "version": ref.version,
                "be_type": filing["be_type"],
                "iec": filing["iec"],
                "filing": orjson.dumps(filing).decode(),
                "event_id": event_id,
            },
        )
        return result.first() is not None

    def record_status(
        self, identity: Identity, event_type: str, producer: str, change: StatusChange
    ) -> None:
        """Fold one event into the status view and its history (at commit, batched)."""
        self.uow.defer(
            _FOLD,
            {
                **_key(identity),
                "version": change.version,
                "stage": change.stage,
                "rank": STAGE_RANK[change.stage],
                "event_type": event_type,
                "producer": producer,
                "reasons": orjson.dumps(change.reasons).decode(),
                "ooc_no": change.out_of_charge_no,
                "gatepass_no": change.gatepass_no,
                "at": self.uow.clock.now(),
            },
        )

    def record_dead_letter(
        self, identity: Identity, *, consumer: str, event_type: str, reason: str, record: Any
    ) -> None:
        """A service gave up on an event about this BE: the BE is stuck until it moves on."""
        at = datetime.fromtimestamp(record.timestamp / 1000, tz=self.uow.clock.now().tzinfo)
        self.uow.defer(
            _DEAD_LETTER,
            {
                **_key(identity),
                "consumer": consumer,
                "event_type": event_type,
                "reason": reason,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "at": at,
            },
        )
