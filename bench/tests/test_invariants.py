"""The fault suite's invariant checker on synthetic records: each breach is reported, by its
BE key, and a clean day or a resend of one event (same id) is not a breach."""

from __future__ import annotations

from typing import Any

from clearance_bench.faults import format_table
from clearance_bench.invariants import INVARIANTS, Record, check
from clearance_contracts import (
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_REJECTED,
    DUTY_DEMAND_RAISED,
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
)

A, B, C = "INNSA1/1000001/2021-02-01", "INNSA1/1000002/2021-02-01", "INDEL4/1000003/2021-02-01"
GATEPASS_TOPIC = f"{E_GATEPASS_ISSUED}.INNSA1NSI1"


def ref(key: str, version: int = 1) -> dict[str, Any]:
    port, be_no, be_date = key.split("/")
    return {"port_code": port, "be_no": be_no, "be_date": be_date, "version": version}


def cleared(key: str, n: int = 1, event: str | None = None) -> list[Record]:
    """OOC-GP-1: the OOC and its gatepass on the custodian's topic."""
    return [
        Record(
            OUT_OF_CHARGE_ISSUED,
            key,
            event or f"ooc-{key}-{n}",
            {"bill_of_entry_ref": ref(key), "ooc_no": f"OOC{n}{key[-14:-11]}"},
        ),
        Record(
            GATEPASS_TOPIC,
            key,
            event or f"gp-{key}-{n}",
            {"bill_of_entry_ref": ref(key), "gatepass_no": f"GP{n}{key[-14:-11]}"},
        ),
    ]


def held(key: str) -> Record:
    return Record(OUT_OF_CHARGE_HELD, key, f"held-{key}", {"bill_of_entry_ref": ref(key)})


def rejected(key: str) -> Record:
    return Record(BILL_OF_ENTRY_REJECTED, key, f"rej-{key}", {"bill_of_entry_ref": ref(key)})


def clean_day() -> list[Record]:
    return [*cleared(A), held(B), rejected(C)]


def broken(verdict: Any) -> dict[str, list[str]]:
    return {name: keys for name, keys in verdict.violations.items() if keys}


def test_a_clean_day_holds_every_invariant() -> None:
    verdict = check([A, B, C], [C], clean_day())
    assert verdict.holds
    assert broken(verdict) == {}
    assert verdict.terminal_kinds == {"cleared": 1, "held": 1, "rejected": 1}
    assert verdict.gatepasses == 1


def test_a_lost_be_is_reported() -> None:
    verdict = check([A, B, C], [C], [*cleared(A), rejected(C)])
    assert broken(verdict) == {"lost": [B]}


def test_a_resend_of_one_event_is_not_a_second_effect() -> None:
    """At-least-once: a relay killed between send and commit resends the same event id."""
    records = [*clean_day(), *cleared(A, event=None)]  # the very same two records again
    verdict = check([A, B, C], [C], records)
    assert verdict.holds
    assert verdict.resent == 2


def test_a_second_gatepass_is_reported() -> None:
    """OOC-GP-1: one gatepass per BE; a second `gatepass_no` is a second release."""
    second = Record(
        GATEPASS_TOPIC, A, "gp-other", {"bill_of_entry_ref": ref(A), "gatepass_no": "GP9"}
    )
    verdict = check([A, B, C], [C], [*clean_day(), second])
    assert broken(verdict) == {"duplicate_gatepass": [A]}


def test_one_gatepass_under_two_event_ids_is_reported() -> None:
    """Custodians drop a resend by its event id: the same gatepass under a new id is not."""
    again = Record(
        GATEPASS_TOPIC, A, "gp-new-id", {"bill_of_entry_ref": ref(A), "gatepass_no": "GP1NSA"}
    )
    first = cleared(A)[1]
    verdict = check([A], [], [cleared(A)[0], first, again])
    assert verdict.violations["duplicate_gatepass"] == [A]


def test_a_second_ooc_is_reported_as_a_second_ooc_and_two_terminals() -> None:
    verdict = check([A, B, C], [C], [*clean_day(), *cleared(A, n=2)])
    assert broken(verdict) == {
        "several_terminals": [A],
        "duplicate_ooc": [A],
        "duplicate_gatepass": [A],
    }


def test_held_and_rejected_is_reported() -> None:
    verdict = check([A, B, C], [C], [*clean_day(), held(C)])
    assert broken(verdict) == {"several_terminals": [C]}


def test_a_second_rejection_is_reported() -> None:
    again = Record(BILL_OF_ENTRY_REJECTED, C, "rej-again", {"bill_of_entry_ref": ref(C)})
    verdict = check([A, B, C], [C], [*clean_day(), again])
    assert broken(verdict) == {"several_terminals": [C]}


def test_a_hold_announced_again_or_lifted_by_an_ooc_is_not_a_breach() -> None:
    """ooc-issuer announces a held case again when its reasons change (a payment recorded
    after the first hold); an OOC may lift a hold."""
    again = Record(OUT_OF_CHARGE_HELD, B, "held-again", {"bill_of_entry_ref": ref(B)})
    verdict = check([A, B, C], [C], [*clean_day(), again, held(A)])
    assert verdict.holds
    assert verdict.hold_updates == 1
    assert verdict.holds_lifted == 1


def test_an_ooc_on_an_invalidated_be_is_reported() -> None:
    """INTAKE-PRIOR-1: nothing may be released on an invalidated BE."""
    invalidated = Record(BILL_OF_ENTRY_INVALIDATED, A, "inv-A", {"bill_of_entry_ref": ref(A)})
    verdict = check([A, B, C], [C], [*clean_day(), invalidated])
    assert broken(verdict) == {"several_terminals": [A]}


def test_a_second_duty_demand_is_reported() -> None:
    """SEAL-ACK-1: the one-month timer fires once, one demand per BE version."""
    demands = [
        Record(DUTY_DEMAND_RAISED, B, f"demand-{n}", {"bill_of_entry_ref": ref(B)}) for n in (1, 2)
    ]
    verdict = check([A, B, C], [C], [*clean_day(), demands[0]])
    assert verdict.holds
    assert verdict.duty_demands == 1
    verdict = check([A, B, C], [C], [*clean_day(), *demands])
    assert broken(verdict) == {"duplicate_duty_demand": [B]}


def test_an_unexplained_dead_letter_is_reported_an_invalid_filings_is_not() -> None:
    dlq = f"{BILL_OF_ENTRY_FILED}.dlq"
    explained = Record(dlq, C, "dl-1")
    unexplained = Record("clearance.rms-decision.made.v1.dlq", A, "dl-2")
    verdict = check([A, B, C], [C], [*clean_day(), explained])
    assert verdict.holds
    assert verdict.dead_letters == 1
    verdict = check([A, B, C], [C], [*clean_day(), explained, unexplained])
    assert broken(verdict) == {"unexplained_dead_letters": [A]}


def test_the_table_names_what_broke() -> None:
    verdict = check([A, B, C], [C], [*cleared(A), rejected(C)])
    row = {
        "scenario": "kill-ooc-issuer",
        "count": 3,
        "terminal": 2,
        "fault_s": 1.0,
        "recovery_s": None,
        "total_s": 9.0,
        "invariants": verdict.to_json(),
    }
    table = format_table([row], markdown=True)
    assert "lost 1" in table
    assert "not drained" in table
    assert set(verdict.to_json()["violation_counts"]) == set(INVARIANTS)
