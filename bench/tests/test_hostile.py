"""The hostile input's generator and accounting, without servers: the same seed gives the
same records; every mutation kind and every topic an outside party writes is covered; the
structural mutations are refused by the consumer's own checks while rule-breaking ones are
valid-shaped (so be-intake rejects them citing INTAKE-IEC-1, INTAKE-BE-2, INTAKE-AMEND-1);
and every synthetic outcome is classified, a record nobody accounts for as lost."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import orjson
import pytest
from clearance_bench import faults_cli, hostile
from clearance_bench.faults import SERVICES
from clearance_bench.invariants import Record
from clearance_contracts import (
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    GATE_OUT_REPORTED,
    ContractViolation,
    event_key,
    topics,
    validate_event,
)
from clearance_local.kafka_acl import derive_acls, may_write, parties
from clearance_local.stack import Stack
from clearance_runtime.envelope import MalformedEvent, from_kafka

pytestmark = pytest.mark.unit

#: Enough records that every (kind, topic) pair is drawn once, then the weighted draw.
COUNT = 400


def _records(seed: int = 42, first: int = 5000, count: int = COUNT) -> list[hostile.HostileRecord]:
    return list(hostile.generate(count, seed, first))


def test_the_same_seed_gives_the_same_records_and_another_seed_others() -> None:
    one, two = _records(), _records()
    assert [r.digest() for r in one] == [r.digest() for r in two]
    assert [(r.id, r.kind, r.variant, r.event_id) for r in one] == [
        (r.id, r.kind, r.variant, r.event_id) for r in two
    ]
    other = _records(seed=43)
    assert [r.digest() for r in one] != [r.digest() for r in other]
    assert len(one) == COUNT
    assert len({r.id for r in one}) == COUNT


def test_the_topics_are_those_the_acls_let_an_outside_party_write() -> None:
    """The same derivation as the Kafka ACLs: an external party may WRITE the topic."""
    specs = topics()
    acls = derive_acls(specs)
    _, external = parties(specs)
    writable = {
        spec.name
        for spec in specs
        if not spec.dead_letter and any(may_write(acls, p, spec.name) for p in external)
    }
    assert {spec.name for spec in hostile.external_topics()} == writable
    assert {BILL_OF_ENTRY_FILED, GATE_OUT_REPORTED, "reader.rfid-seal.scanned.v1"} <= writable


def test_every_mutation_kind_on_every_topic_it_applies_to() -> None:
    records = _records()
    pairs = {(r.kind, r.topic) for r in records}
    generator = hostile.Generator()
    assert set(generator.pairs) <= pairs
    assert {r.kind for r in records} == set(hostile.KINDS)
    assert {r.topic for r in records} == {s.name for s in hostile.external_topics()}
    for spec in hostile.external_topics():  # every structural kind on every topic
        for kind in ("wrong_type", "missing_required", "bad_encoding", "key_mismatch"):
            assert (kind, spec.name) in pairs
    assert {(r.kind, r.topic) for r in records if r.kind == "rule_breaking"} == {
        ("rule_breaking", BILL_OF_ENTRY_FILED),
        ("rule_breaking", BILL_OF_ENTRY_AMENDMENT_FILED),
    }


def test_each_record_is_labelled_and_carries_its_hostile_id() -> None:
    for record in _records():
        headers = dict(record.headers)
        assert headers[hostile.HOSTILE_ID] == record.id.encode()
        assert record.kind in hostile.KINDS
        assert record.variant


def _refused_by_consumer(record: hostile.HostileRecord) -> bool:
    """The consumer's own checks (envelope, contract, key and subject) refuse it."""
    try:
        event = from_kafka(list(record.headers), record.value or None)
        if event.type != record.topic:
            return True
        validate_event(event.type, event.data)
        expected = event_key(event.type, event.data)
    except (MalformedEvent, ContractViolation, KeyError, ValueError):
        return True
    key = record.key.decode("utf-8", "replace") if record.key is not None else None
    return key != expected or event.subject != expected


def test_structural_mutations_break_the_envelope_the_contract_or_the_key() -> None:
    """wrong types, missing fields, huge strings, deep nesting, bad encodings and key/body
    mismatches must be dead-lettered: each fails one of the consumer's checks."""
    structural = {"wrong_type", "missing_required", "huge_string", "deep_nesting"}
    structural |= {"bad_encoding", "key_mismatch"}
    records = [
        r
        for r in _records(count=1500)
        if r.kind in structural and not r.variant.startswith("nul_in_string")
    ]
    assert {r.kind for r in records} == structural
    assert [r.id for r in records if not _refused_by_consumer(r)] == []


def test_rule_breaking_and_forged_records_are_valid_shaped() -> None:
    """These pass the contract and the key checks: what becomes of them is the services'
    decision (INTAKE-* rejection with the rule id; a forged ce_source is not authentication)."""
    records = _records(count=1500)
    shaped = [
        r
        for r in records
        if r.kind in ("rule_breaking", "reordered_versions")
        or (r.kind == "forged_source" and r.variant.startswith("ce_source="))
        or (r.kind == "duplicate_id" and r.variant in ("original", "same_content"))
    ]
    assert shaped
    assert [r.id for r in shaped if _refused_by_consumer(r)] == []
    rules = Counter(r.variant for r in records if r.kind == "rule_breaking")
    assert set(rules) == {"INTAKE-IEC-1", "INTAKE-BE-2", "INTAKE-AMEND-1"}


def test_nul_bytes_in_key_header_and_strings_unless_left_out() -> None:
    """PostgreSQL's text and jsonb refuse NUL: the key, a header (ce_type) and a string of
    the body carry one; `nul_bytes=False` leaves them out (FAULTS.md says why)."""
    variants = {r.variant.split(":")[0] for r in _records(count=3000) if r.kind == "bad_encoding"}
    assert set(hostile.NUL_VARIANTS) <= variants
    without = list(hostile.generate(3000, 42, 5000, nul_bytes=False))
    assert not [r for r in without if r.variant.split(":")[0] in hostile.NUL_VARIANTS]
    for record in _records(count=3000):
        if record.variant == "nul_in_key":
            assert record.key is not None
            assert record.key.endswith(b"\x00")
        elif record.variant == "nul_in_header":
            assert dict(record.headers)["ce_type"].endswith(b"\x00")
        elif record.variant.startswith("nul_in_string"):
            assert b"\\u0000" in (record.value or b"")


def test_huge_records_stay_under_the_brokers_limit() -> None:
    sizes = [len(r.value or b"") for r in _records(count=3000) if r.kind == "huge_string"]
    assert max(sizes) <= hostile.MAX_VALUE
    assert max(sizes) > 900_000


def test_duplicates_share_the_id_redelivery_same_content_reuse_other_content() -> None:
    records = _records()
    by_id = {r.id: r for r in records}
    copies = [r for r in records if r.variant == "same_content"]
    assert copies
    for copy in copies:
        original = by_id[copy.copy_of or ""]
        assert (copy.event_id, copy.value, copy.key) == (
            original.event_id,
            original.value,
            original.key,
        )
    reused = [r for r in records if r.variant == "other_content"]
    originals = {r.event_id: r for r in records if r.variant == "original"}
    for record in reused:
        assert record.event_id in originals
        assert record.value != originals[record.event_id].value
        assert record.key == originals[record.event_id].key  # one partition: order kept


def test_hostile_bes_take_numbers_from_the_reserved_range() -> None:
    for record in _records(first=9_000_000):
        if record.kind in ("rule_breaking", "reordered_versions", "forged_source"):
            body = orjson.loads(record.value or b"{}")
            be = body.get("bill_of_entry", body.get("bill_of_entry_ref", body))
            if "be_no" in be:
                assert 9_000_000 <= int(be["be_no"]) < 9_000_000 + 2 * COUNT


# -- accounting --------------------------------------------------------------------------

FILED, GATE = BILL_OF_ENTRY_FILED, GATE_OUT_REPORTED
CONSUMERS = {FILED: ("be-intake",), GATE: ("ooc-issuer", "be-intake")}


def _sent(rid: str, kind: str, topic: str = FILED, **more: str) -> hostile.Sent:
    return hostile.Sent(
        id=rid,
        kind=kind,
        variant=more.get("variant", "v"),
        topic=topic,
        key=f"INNSA1/{rid}/2025-03-20",
        event_id=more.get("event_id", f"e-{rid}"),
        copy_of=more.get("copy_of"),
    )


def test_synthetic_outcomes_are_classified_and_an_unaccounted_record_is_lost() -> None:
    sent = [
        _sent("h1", "wrong_type"),  # dead-lettered with a reason
        _sent("h2", "rule_breaking", variant="INTAKE-IEC-1"),  # rejected citing the rule
        _sent("h3", "forged_source"),  # accepted: be-intake registered it
        _sent("h4", "duplicate_id", variant="original"),
        _sent("h5", "duplicate_id", variant="same_content", event_id="e-h4", copy_of="h4"),
        _sent("h6", "reordered_versions", GATE),  # both consumers hold it in their inbox
        _sent("h7", "key_mismatch"),  # nobody has it: lost
        _sent("h8", "huge_string"),  # the broker refused it
        _sent("h9", "rule_breaking", variant="INTAKE-BE-2"),  # rejected without a rule id
        _sent("h10", "reordered_versions", GATE),  # one consumer of two: lost
        _sent("h11", "wrong_type"),  # dead-lettered without a reason
        _sent("h12", "missing_required", GATE),  # a handler failed on it
        _sent("h13", "rule_breaking", variant="INTAKE-BE-2"),  # dead-lettered: wrong
    ]
    seen = hostile.Observed(
        dead_letters={
            ("h1", "be-intake"): ("contract", "contract: 'x' is not of type 'integer'"),
            ("h11", "be-intake"): ("malformed", " "),
            ("h12", "ooc-issuer"): ("handler_error", "handler failed after 5 attempts"),
            ("h12", "be-intake"): ("contract", "contract: 'gatepass_no' is required"),
            ("h13", "be-intake"): ("contract", "contract: bad"),
        },
        submissions={
            "e-h2": ("rejected", ("INTAKE-IEC-1",)),
            "e-h3": ("registered", ()),
            "e-h4": ("registered", ()),
            "e-h9": ("rejected", ()),
        },
        refused={"h8": "MessageSizeTooLargeError"},
    )
    seen.inbox["be-intake"] |= {"e-h2", "e-h3", "e-h4", "e-h6", "e-h9", "e-h10"}
    seen.inbox["ooc-issuer"] |= {"e-h6"}
    got = {r.id: [hostile.consumer_outcome(r, c, seen) for c in CONSUMERS[r.topic]] for r in sent}
    assert got == {
        "h1": ["dead_lettered"],
        "h2": ["rejected"],
        "h3": ["accepted"],
        "h4": ["accepted"],
        "h5": ["duplicate"],
        "h6": ["accepted", "accepted"],
        "h7": ["lost"],
        "h8": ["refused"],
        "h9": ["rejected_without_rule"],
        "h10": ["lost", "accepted"],
        "h11": ["dead_lettered_without_reason"],
        "h12": ["dead_lettered", "dead_lettered"],
        "h13": ["dead_lettered"],
    }
    acc = hostile.classify(sent, CONSUMERS, seen)
    assert acc.count == 13
    assert acc.lost == ["h7", "h10"]
    assert acc.unreasoned == ["h9", "h11"]
    assert acc.rule_breaking_not_rejected == ["h9", "h13"]
    assert acc.handler_failures == [f"h12 ooc-issuer {GATE}"]
    assert acc.by_kind["wrong_type"] == {"dead_lettered": 1, "dead_lettered_without_reason": 1}
    assert acc.by_kind["reordered_versions"] == {"accepted": 1, "lost": 1}
    assert acc.by_kind["duplicate_id"] == {"accepted": 1, "duplicate": 1}
    assert acc.rules_cited == {"INTAKE-IEC-1": 1}
    assert acc.dead_letter_kinds == {"contract": 3, "handler_error": 1, "malformed": 1}
    assert acc.unexpected == {
        "rule_breaking:dead_lettered": 1,
        "rule_breaking:rejected_without_rule": 1,
        "wrong_type:dead_lettered_without_reason": 1,
    }
    violations = acc.violations()
    assert violations["hostile_lost"] == ["h7", "h10"]
    report = acc.to_json()
    assert report["by_topic"][GATE] == {"accepted": 1, "dead_lettered": 1, "lost": 1}
    table = hostile.format_outcomes(report)
    assert "| wrong_type |" in table
    assert "| **all** |" in table


def test_a_clean_accounting_has_no_violation() -> None:
    sent = [_sent("h1", "bad_encoding"), _sent("h2", "rule_breaking", variant="INTAKE-BE-2")]
    seen = hostile.Observed(
        dead_letters={("h1", "be-intake"): ("malformed", "malformed: body is not JSON")},
        submissions={"e-h2": ("rejected", ("INTAKE-BE-2",))},
    )
    acc = hostile.classify(sent, CONSUMERS, seen)
    assert not any(acc.violations().values())
    assert acc.by_kind == {"bad_encoding": {"dead_lettered": 1}, "rule_breaking": {"rejected": 1}}


def test_dead_letters_are_found_by_hostile_id_and_consumer() -> None:
    records = [
        Record(
            f"{FILED}.dlq",
            "INNSA1/1/2025-03-20",
            "x",
            headers={
                hostile.HOSTILE_ID: "h1",
                "dlq_consumer": "be-intake",
                "dlq_reason_kind": "malformed",
                "dlq_reason": "malformed: body is not JSON",
            },
        ),
        Record(f"{FILED}.dlq", "INNSA1/2/2021-02-01", "y", headers={"dlq_reason": "r"}),
        Record(FILED, "INNSA1/3/2025-03-20", "z", headers={hostile.HOSTILE_ID: "h3"}),
    ]
    assert hostile.observed_dead_letters(records) == {
        ("h1", "be-intake"): ("malformed", "malformed: body is not JSON")
    }


def test_the_cli_runs_the_hostile_input_beside_good_bes_from_the_first_filing() -> None:
    args = argparse.Namespace(count=2000, good=100, seed=7)
    scenario, plan = faults_cli.scenario_and_plan(hostile.NAME, args)
    assert plan.count == 100
    assert scenario.name == hostile.NAME
    assert scenario.strike_at == 0.0
    assert isinstance(scenario.input, hostile.HostileInput)
    assert scenario.input.count == 2000
    assert hostile.NAME in faults_cli.scenario_names()
    kill, plan = faults_cli.scenario_and_plan(
        "kill-ooc-issuer", argparse.Namespace(count=None, seed=1)
    )
    assert plan.count == 10_000
    assert kill.input is None


def _fake_stack(tmp_path: Path) -> Stack:
    services = {}
    for name in SERVICES:
        pid_path = tmp_path / f"{name}.pid"
        pid_path.write_text(str(os.getpid()))
        log_path = tmp_path / f"{name}.log"
        log_path.write_text("before the run: Traceback (not counted)\n")
        services[name] = SimpleNamespace(
            pid_path=pid_path, log_path=log_path, url=f"http://{name}.invalid"
        )
    return cast(Stack, SimpleNamespace(services=services))


def test_the_health_sampler_reports_a_changed_pid_a_5xx_and_no_answer(tmp_path: Path) -> None:
    """A crash is a service whose pid changed or is gone; /healthz 5xx and silence count."""
    stack = _fake_stack(tmp_path)
    sampler = hostile.HealthSampler(stack)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rms-router.invalid":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503 if request.url.host == "bis-verifier.invalid" else 200)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        sampler.sample(client)
        assert sampler.health.crashes == {}
        (tmp_path / "ooc-issuer.pid").write_text("999999999")  # restarted, or gone
        sampler.sample(client)
    with (tmp_path / "be-intake.log").open("a") as log:
        log.write("Traceback (most recent call last):\n")
    health = sampler.stop()
    assert health.samples == 2
    assert set(health.crashes) == {"ooc-issuer"}
    assert health.http_5xx == {"bis-verifier": 2}
    assert health.unanswered == {"rms-router": 2}
    assert health.log_tracebacks["be-intake"] == 1
    assert health.log_tracebacks["ooc-issuer"] == 0


def _hostile_result() -> dict[str, Any]:
    sent = [_sent("h1", "bad_encoding"), _sent("h2", "rule_breaking", variant="INTAKE-BE-2")]
    seen = hostile.Observed(
        dead_letters={("h1", "be-intake"): ("malformed", "malformed: body is not JSON")},
        submissions={"e-h2": ("rejected", ("INTAKE-BE-2",))},
    )
    report = hostile.classify(sent, CONSUMERS, seen).to_json() | {
        "seed": 42,
        "nul_bytes": False,
        "published": 2,
        "refused": 0,
        "publish_s": 0.4,
        "health": hostile.Health(samples=9).to_json(),
    }
    violations = dict.fromkeys(
        ["lost", "several_terminals", "hostile_lost", "crashes", "http_5xx"], 0
    )
    return {
        "scenario": hostile.NAME,
        "description": "2 hostile records",
        "count": 100,
        "terminal": 100,
        "terminal_before_fault": 0,
        "fault_s": 3.0,
        "recovery_s": 20.5,
        "total_s": 41.0,
        "passed": True,
        "notes": [],
        "invariants": {"holds": True, "violation_counts": violations, "resent": 0}
        | {"input": report},
    }


def test_the_summary_keeps_earlier_scenarios_rows_and_writes_the_hostile_figures(
    tmp_path: Path,
) -> None:
    """`--summary` of a hostile-input run adds its row to the committed table (the twelve
    fault scenarios kept, with the run they came from) and fills the hostile figures."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "FAULTS.md").write_text((root / "FAULTS.md").read_text())
    before = json.loads((root / "faults-summary.json").read_text())
    before["scenarios"] = [s for s in before["scenarios"] if s["scenario"] != hostile.NAME]
    (tmp_path / "faults-summary.json").write_text(json.dumps(before))
    results = {"generated": "20261123-215500", "machine": {}, "scenarios": [_hostile_result()]}
    faults_cli.write_summary(results, tmp_path, "a small run")
    after = json.loads((tmp_path / "faults-summary.json").read_text())
    names = [s["scenario"] for s in after["scenarios"]]
    assert names == [*(s["scenario"] for s in before["scenarios"]), hostile.NAME]
    for old, new in zip(before["scenarios"], after["scenarios"], strict=False):
        assert new == old | {
            "generated": old.get("generated", before["generated"]),
            "note": old.get("note", before["note"]),
        }
    assert after["scenarios"][-1]["hostile_input"]["by_kind"] == {
        "bad_encoding": {"dead_lettered": 1},
        "rule_breaking": {"rejected": 1},
    }
    text = (tmp_path / "FAULTS.md").read_text()
    assert f"Generated {before['scenarios'][0].get('generated', before['generated'])} by" in text
    assert (
        "Generated 20261123-215500 by `bin/clearance faults --summary` (hostile-input); "
        "a small run." in text
    )
    assert "| hostile-input | 100 | 100 | 3.0 | 20.5 | 41.0 | 0 | all hold |" in text
    assert "| kill-ooc-issuer | 500 | 500 |" in text
    assert "2 hostile records (seed 42, without NUL bytes) beside 100 good BEs" in text
    assert "| rule_breaking | 0 | 1 | 1 |" in text
    again = json.loads((tmp_path / "faults-summary.json").read_text())
    faults_cli.write_summary(results, tmp_path, "a small run")  # idempotent
    assert json.loads((tmp_path / "faults-summary.json").read_text()) == again
