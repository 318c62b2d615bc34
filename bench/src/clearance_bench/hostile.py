"""Hostile input at volume (issue 17): seeded, mutated records on every topic an outside
party writes, published beside the benchmark's day, then every record accounted for.

**Which topics.** Those the AsyncAPI catalogue lets an external party send on
(`clearance_contracts.topics()`: a producer listed among the channel's external parties,
the same derivation as the Kafka ACLs of `clearance_local.kafka_acl`): the ICEGATE-style
upstream (filings, amendments, IGM arrivals), the e-payment gateway, the AEO directory,
NABL laboratories, RFID seal vendors and readers, and the custodians (gate-out).

**What is generated** (`generate`, deterministic per seed). Each record starts from the
contract's example (`clearance_contracts.example`) given identities of its own (a BE
number from a reserved range, its own seal, certificate and IGM numbers, job number), so
no hostile record touches the day's good BEs, then one mutation, its kind on the record:

- `wrong_type`: a field (top-level or nested) given a value of another JSON type;
- `missing_required`: a required field removed;
- `huge_string`: a string field of 64 KiB, 256 KiB or 1 MB (the record just under the
  broker's 1 MiB);
- `deep_nesting`: a field replaced by arrays nested 64, 2,000 or 100,000 deep;
- `bad_encoding`: invalid UTF-8 in the body, a header or the key; bytes that are not
  JSON; a JSON array; truncated JSON; UTF-16; an empty body; a NUL byte in the key, a
  header or a string of the body (PostgreSQL's text and jsonb refuse NUL: `nul_bytes=False`
  leaves these out, see FAULTS.md);
- `duplicate_id`: a valid record, the same record again (a redelivery: dropped), then its
  id with other content (dead-lettered);
- `reordered_versions`: events about one fresh BE in the wrong order: the amendment, the
  gate-outs and laboratory reports of later versions before earlier ones, the filing last;
- `key_mismatch`: the Kafka key (another BE's, none, garbage), or `ce_subject`, not the
  identity in the body;
- `forged_source`: `ce_source` of a service of the platform or of a stranger (nothing
  authenticates by it: the SASL principal does), or `ce_type` of another event;
- `rule_breaking`: a valid-shaped filing or amendment that breaks an intake rule
  (INTAKE-IEC-1, INTAKE-BE-2, INTAKE-AMEND-1): rejected with the rule's id, never
  dead-lettered.

Every record carries the header `hostile_id` (dead letters keep their headers) and, where
the mutation leaves it, a `ce_id` of its own.

**How a record is accounted for** (`account`), per consumer of its topic: dead-lettered
(a record on `<topic>.dlq` with its `hostile_id`, that consumer and a `dlq_reason`),
rejected (be-intake's submission of its event id rejected, with rule ids), accepted (the
consumer's inbox holds its event id; for be-intake, its submission registered or pending),
duplicate (a copy of an earlier record's id and content, dropped by the inbox), refused
(the broker would not take it), or **lost** (none of these).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from aiokafka import AIOKafkaProducer
from clearance_contracts import (
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    GATE_OUT_REPORTED,
    SAMPLE_TEST_REPORTED,
    TopicSpec,
    dereferenced_schema,
    event_key,
    example,
    topics,
)
from clearance_local.process import read_pid
from clearance_local.stack import Stack
from clearance_runtime.kafka import client_options

from clearance_bench import invariants
from clearance_bench.faults import SERVICES, Scenario
from clearance_bench.load import Log
from clearance_bench.numbering import reserve_be_numbers

NAME = "hostile-input"
DEFAULT_COUNT = 100_000
HOSTILE_ID = "hostile_id"
#: The largest record: a value of 10^6 bytes stays under the broker's and the producers'
#: 1 MiB limits with its headers, also as a dead letter (reason and origin added).
MAX_VALUE = 1_000_000

KINDS = (
    "wrong_type",
    "missing_required",
    "huge_string",
    "deep_nesting",
    "bad_encoding",
    "duplicate_id",
    "reordered_versions",
    "key_mismatch",
    "forged_source",
    "rule_breaking",
)
#: Relative frequency of each kind once every (kind, topic) pair has been drawn once.
#: Huge strings are few: at 100,000 records their 1 % is about 200 MB through the broker.
WEIGHTS = {
    "wrong_type": 14,
    "missing_required": 14,
    "huge_string": 1,
    "deep_nesting": 4,
    "bad_encoding": 12,
    "duplicate_id": 10,
    "reordered_versions": 8,
    "key_mismatch": 12,
    "forged_source": 10,
    "rule_breaking": 15,
}
#: Topics a kind applies to (None: every external topic).
RULE_TOPICS = (BILL_OF_ENTRY_FILED, BILL_OF_ENTRY_AMENDMENT_FILED)
OUTCOMES = (
    "accepted",
    "rejected",
    "duplicate",
    "dead_lettered",
    "refused",
    "rejected_without_rule",
    "dead_lettered_without_reason",
    "lost",
)
#: What each kind should come to (reported as `unexpected` otherwise, not a failure, except
#: for `rule_breaking`: a rule-breaking event must be rejected citing the rule).
EXPECTED: Mapping[str, frozenset[str]] = {
    "wrong_type": frozenset({"dead_lettered"}),
    "missing_required": frozenset({"dead_lettered"}),
    "huge_string": frozenset({"dead_lettered", "refused"}),
    "deep_nesting": frozenset({"dead_lettered"}),
    "bad_encoding": frozenset({"dead_lettered"}),
    "key_mismatch": frozenset({"dead_lettered"}),
    "reordered_versions": frozenset({"accepted", "rejected"}),
    "forged_source": frozenset({"accepted", "rejected"}),
    "rule_breaking": frozenset({"rejected"}),
}
#: NUL bytes, which PostgreSQL's text and jsonb refuse (a key, a header, a body string).
NUL_VARIANTS = ("nul_in_key", "nul_in_header", "nul_in_string")
FORGED_SOURCES = (
    "/clearance/be-intake",
    "/clearance/ooc-issuer",
    "/icegate/e-payment",
    "https://attacker.example/icegate",
)


def external_topics(specs: Iterable[TopicSpec] | None = None) -> list[TopicSpec]:
    """The main topics an outside party may write (as the ACLs derive them), by name."""
    chosen = [
        spec
        for spec in (topics() if specs is None else specs)
        if not spec.dead_letter and any(p in spec.external_parties for p in spec.producers)
    ]
    return sorted(chosen, key=lambda spec: spec.name)


@dataclass(frozen=True)
class HostileRecord:
    """One record to publish, with what it is: its id, mutation kind and variant."""

    id: str
    kind: str
    variant: str
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    event_id: str | None  # the ce_id it carries (None: none, or not UTF-8)
    copy_of: str | None = None  # a redelivery: same id and content as this record

    @property
    def sent(self) -> Sent:
        return Sent(
            id=self.id,
            kind=self.kind,
            variant=self.variant,
            topic=self.topic,
            key=(self.key or b"").decode("utf-8", "replace"),
            event_id=self.event_id,
            copy_of=self.copy_of,
        )

    def digest(self) -> str:
        """What was published, for comparing runs (determinism per seed)."""
        h = hashlib.blake2b(digest_size=16)
        for part in (self.topic.encode(), self.key or b"-", self.value or b"-"):
            h.update(len(part).to_bytes(8, "big") + part)
        for name, raw in self.headers:
            h.update(name.encode() + b"=" + raw + b";")
        return h.hexdigest()


@dataclass(frozen=True)
class Sent:
    """What the accounting keeps of a record once published (never its body)."""

    id: str
    kind: str
    variant: str
    topic: str
    key: str
    event_id: str | None
    copy_of: str | None = None


# -- generation --------------------------------------------------------------------------


def _required_paths(node: Mapping[str, Any], data: Any, prefix: tuple[Any, ...]) -> list[Any]:
    """Paths (tuples of keys/indexes) of required fields present in `data`, from the
    dereferenced schema `node`."""
    paths: list[Any] = []
    if not isinstance(data, dict):
        return paths
    props = node.get("properties", {})
    for name in node.get("required", ()):
        if name in data:
            paths.append((*prefix, name))
    for name, value in data.items():
        sub = props.get(name)
        if not isinstance(sub, dict):
            continue
        if isinstance(value, dict):
            paths += _required_paths(sub, value, (*prefix, name))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            items = sub.get("items")
            if isinstance(items, dict):
                paths += _required_paths(items, value[0], (*prefix, name, 0))
    return paths


def _leaves(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value (objects and arrays included), depth first."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for name, value in data.items():
            paths.append((*prefix, name))
            paths += _leaves(value, (*prefix, name))
    elif isinstance(data, list):
        for index, value in enumerate(data[:2]):
            paths.append((*prefix, index))
            paths += _leaves(value, (*prefix, index))
    return paths


def _get(data: Any, path: Sequence[Any]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Sequence[Any], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _delete(data: Any, path: Sequence[Any]) -> None:
    del _get(data, path[:-1])[path[-1]]


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return 4017
    if isinstance(value, int | float):
        return "12,34,567.00"
    if isinstance(value, list):
        return {"items": value[:1]}
    if isinstance(value, dict):
        return [value]
    return {"null": "not allowed"}


def _pointer(path: Sequence[Any]) -> str:
    return "/" + "/".join(str(p) for p in path)


class Generator:
    """Hostile records from `seed`; `first_be_no` starts the range of fresh BE numbers."""

    def __init__(
        self,
        seed: int = 42,
        first_be_no: int = 0,
        specs: Iterable[TopicSpec] | None = None,
        *,
        nul_bytes: bool = True,
    ) -> None:
        self.rng = random.Random(seed)
        self.nul_bytes = nul_bytes
        self.next_be_no = first_be_no
        self.serial = 0
        self.specs = external_topics(specs)
        self.by_name = {spec.name: spec for spec in self.specs}
        self.examples = {spec.name: example(spec.type) for spec in self.specs}
        self.schemas = {spec.name: dereferenced_schema(spec.type) for spec in self.specs}
        self.pairs = [
            (kind, spec.name) for kind in KINDS for spec in self.specs if self._applies(kind, spec)
        ]

    # identities and envelopes

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _be_no(self) -> str:
        number = self.next_be_no % 10**7
        self.next_be_no += 1
        return f"{number:07d}"

    def _fresh(self, topic: str, be_no: str | None = None) -> dict[str, Any]:
        """The topic's example with identities of its own (BE, seal, certificate, IGM)."""
        data = copy.deepcopy(self.examples[topic])
        be_no = be_no or self._be_no()
        serial = int(be_no)

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for name in list(node):
                    if name == "be_no" and isinstance(node[name], str):
                        node[name] = be_no
                    elif name == "user_job_no" and isinstance(node[name], str):
                        node[name] = str(serial % 10**7 or 1)
                    elif name == "seal_no" and isinstance(node[name], str):
                        node[name] = f"HSTL{serial % 10**8:08d}"
                    elif name == "igm_no" and isinstance(node[name], str):
                        node[name] = f"{serial % 10**7:07d}"
                    elif name == "certificate_no" and isinstance(node[name], str):
                        node[name] = f"INHSTIL{serial % 10**7:07d}"
                    else:
                        walk(node[name])
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(data)
        return data

    def _record(
        self,
        kind: str,
        variant: str,
        topic: str,
        data: Mapping[str, Any] | None,
        *,
        value: bytes | None = None,
        key: bytes | str | None = "",
        headers: Mapping[str, bytes | None] | None = None,
        event_id: str | None = None,
        copy_of: str | None = None,
    ) -> HostileRecord:
        """A record of `data` (or of raw `value`) with the envelope its topic expects;
        `key=""` means the body's own key, `headers` override (None removes) envelope
        headers."""
        self.serial += 1
        record_id = f"h{self.serial:07d}"
        spec = self.by_name[topic]
        if data is not None and value is None:
            value = orjson.dumps(data)
        subject = ""
        if data is not None:
            with contextlib.suppress(KeyError, ValueError, TypeError):
                subject = event_key(spec.type, data)
        ce_id = event_id or self._uuid()
        envelope: dict[str, bytes | None] = {
            "ce_specversion": b"1.0",
            "ce_id": ce_id.encode(),
            "ce_type": spec.type.encode(),
            "ce_source": f"/{spec.producers[0]}/hostile".encode(),
            "ce_subject": subject.encode(),
            "content-type": b"application/json",
            HOSTILE_ID: record_id.encode(),
        }
        envelope.update(headers or {})
        pairs = tuple((name, raw) for name, raw in envelope.items() if raw is not None)
        raw_id = envelope.get("ce_id")
        sent_id: str | None = None
        if raw_id is not None:
            with contextlib.suppress(UnicodeDecodeError):
                sent_id = raw_id.decode()
        return HostileRecord(
            id=record_id,
            kind=kind,
            variant=variant,
            topic=topic,
            key=subject.encode()
            if key == ""
            else key
            if not isinstance(key, str)
            else key.encode(),
            value=value,
            headers=pairs,
            event_id=sent_id,
            copy_of=copy_of,
        )

    # the mutations

    def _applies(self, kind: str, spec: TopicSpec) -> bool:
        if kind == "rule_breaking":
            return spec.name in RULE_TOPICS
        if kind == "reordered_versions":
            return spec.name in (
                BILL_OF_ENTRY_AMENDMENT_FILED,
                GATE_OUT_REPORTED,
                SAMPLE_TEST_REPORTED,
            )
        return True

    def records(self, count: int) -> Iterator[HostileRecord]:
        """`count` records: every (kind, topic) pair once first, then drawn by `WEIGHTS`."""
        made = 0
        index = 0
        kinds = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in kinds]
        while made < count:
            if index < len(self.pairs):
                kind, topic = self.pairs[index]
            else:
                kind = self.rng.choices(kinds, weights)[0]
                options = [s.name for s in self.specs if self._applies(kind, s)]
                topic = self.rng.choice(options)
            index += 1
            for record in getattr(self, f"_{kind}")(topic):
                if made >= count:
                    return
                made += 1
                yield record

    def _wrong_type(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        path = self.rng.choice(_leaves(data))
        _set(data, path, _wrong_type(_get(data, path)))
        return [self._record("wrong_type", _pointer(path), topic, data)]

    def _missing_required(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        path = self.rng.choice(_required_paths(self.schemas[topic], data, ()))
        _delete(data, path)
        return [self._record("missing_required", _pointer(path), topic, data)]

    def _huge_string(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        strings = [p for p in _leaves(data) if isinstance(_get(data, p), str)]
        path = self.rng.choice(strings)
        size = self.rng.choices((65_536, 262_144, MAX_VALUE), (6, 3, 1))[0]
        room = size - len(orjson.dumps(data)) - 64 if size == MAX_VALUE else size
        _set(data, path, "A" * self.rng.randrange(1, 10) + "x" * room)
        return [self._record("huge_string", f"{_pointer(path)}:{size}", topic, data)]

    def _deep_nesting(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        path = self.rng.choice(_leaves(data))
        depth = self.rng.choice((64, 2_000, 100_000))
        marker = "__hostile_deep__"
        _set(data, path, marker)
        value = orjson.dumps(data).replace(
            orjson.dumps(marker), b"[" * depth + b"1" + b"]" * depth, 1
        )
        return [self._record("deep_nesting", f"{_pointer(path)}:{depth}", topic, data, value=value)]

    def _bad_encoding(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        body = orjson.dumps(data)
        variants: tuple[str, ...] = (
            "invalid_utf8_body",
            "not_json",
            "json_array",
            "truncated_json",
            "utf16_body",
            "empty_body",
            "invalid_utf8_header",
            "invalid_utf8_key",
        )
        if self.nul_bytes:
            variants += NUL_VARIANTS
        variant = self.rng.choice(variants)
        value: bytes | None = body
        key: bytes | str | None = ""
        headers: dict[str, bytes | None] = {}
        if variant == "invalid_utf8_body":
            cut = body.index(b'":"') + 3
            value = body[:cut] + b"\xff\xfe\xc3\x28" + body[cut:]
        elif variant == "not_json":
            value = self.rng.randbytes(self.rng.randrange(1, 512))
        elif variant == "json_array":
            value = b"[" + body + b"]"
        elif variant == "truncated_json":
            value = body[: self.rng.randrange(1, len(body))]
        elif variant == "utf16_body":
            value = body.decode().encode("utf-16")
        elif variant == "empty_body":
            value = b""
        elif variant == "invalid_utf8_header":
            headers["ce_type"] = self.by_name[topic].type.encode() + b"\xff\xfe"
        elif variant == "nul_in_header":
            headers["ce_type"] = self.by_name[topic].type.encode() + b"\x00"
        elif variant == "nul_in_string":
            strings = [p for p in _leaves(data) if isinstance(_get(data, p), str)]
            path = self.rng.choice(strings)
            text = _get(data, path)
            _set(data, path, text[: len(text) // 2] + "\x00" + text[len(text) // 2 :])
            value = orjson.dumps(data)
            variant = f"nul_in_string:{_pointer(path)}"
        elif variant == "nul_in_key":
            key = event_key(self.by_name[topic].type, data).encode() + b"\x00"
        else:
            key = b"\xff\xfe" + event_key(self.by_name[topic].type, data).encode()
        return [
            self._record(
                "bad_encoding", variant, topic, data, value=value, key=key, headers=headers
            )
        ]

    def _duplicate_id(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        original = self._record("duplicate_id", "original", topic, data)
        again = self._record(
            "duplicate_id", "same_content", topic, data, event_id=original.event_id,
            copy_of=original.id,
        )  # fmt: skip
        # Other content under the same key (one partition: the copy comes after the
        # original): a timestamp one minute on, else free text, never the identity.
        other = copy.deepcopy(data)
        key = event_key(self.by_name[topic].type, data)
        strings = [p for p in _leaves(other) if isinstance(_get(other, p), str)]
        stamps = [p for p in strings if str(p[-1]).endswith("_at")]
        texts = [p for p in strings if " " in _get(other, p)]
        path = self.rng.choice(stamps or texts or strings)
        stamp = _get(other, path)
        _set(other, path, stamp[:-1] + ("1" if stamp[-1:] != "1" else "2"))
        if event_key(self.by_name[topic].type, other) != key:  # identity touched: reword
            _set(other, path, stamp)
            other["__hostile__"] = "other content"
        reused = self._record(
            "duplicate_id", "other_content", topic, other, event_id=original.event_id
        )
        return [original, again, reused]

    def _reordered_versions(self, topic: str) -> list[HostileRecord]:
        """A fresh BE's later events before its earlier ones; the filing last."""
        be_no = self._be_no()
        later: list[HostileRecord] = []
        if topic == BILL_OF_ENTRY_AMENDMENT_FILED:
            amended = self._fresh(topic, be_no)
            amended["bill_of_entry"]["importer_address"] += " (amended)"
            later.append(self._record("reordered_versions", "amendment_first", topic, amended))
        else:
            for version in (3, 2, 1):
                data = self._fresh(topic, be_no)
                data["bill_of_entry_ref"]["version"] = version
                later.append(self._record("reordered_versions", f"version_{version}", topic, data))
        filing = self._fresh(BILL_OF_ENTRY_FILED, be_no)
        last = self._record("reordered_versions", "filing_last", BILL_OF_ENTRY_FILED, filing)
        return [*later, last]

    def _key_mismatch(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        other = event_key(self.by_name[topic].type, self._fresh(topic))
        variant = self.rng.choice(("other_key", "no_key", "garbage_key", "other_subject"))
        key: bytes | str | None = ""
        headers: dict[str, bytes | None] = {}
        if variant == "other_key":
            key = other.encode()
        elif variant == "no_key":
            key = None
        elif variant == "garbage_key":
            key = b"../../etc/passwd;DROP TABLE inbox"
        else:
            headers["ce_subject"] = other.encode()
        return [self._record("key_mismatch", variant, topic, data, key=key, headers=headers)]

    def _forged_source(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        if self.rng.random() < 0.2:
            others = [s.type for s in self.specs if s.name != topic]
            forged = self.rng.choice(others)
            return [
                self._record(
                    "forged_source", "ce_type", topic, data, headers={"ce_type": forged.encode()}
                )
            ]
        source = self.rng.choice(FORGED_SOURCES)
        return [
            self._record(
                "forged_source", f"ce_source={source}", topic, data,
                headers={"ce_source": source.encode()},
            )
        ]  # fmt: skip

    def _rule_breaking(self, topic: str) -> list[HostileRecord]:
        data = self._fresh(topic)
        be = data if topic == BILL_OF_ENTRY_FILED else data["bill_of_entry"]
        rule = self.rng.choice(
            ("INTAKE-IEC-1", "INTAKE-BE-2")
            + (("INTAKE-AMEND-1",) if topic == BILL_OF_ENTRY_AMENDMENT_FILED else ())
        )
        if rule == "INTAKE-IEC-1":  # schema-valid, not an IEC (the workload's broken forms)
            iec = be["iec"]
            be["iec"] = self.rng.choice((iec[:9], iec.lower(), f"{iec[:5]}-{iec[5:]}", f"{iec}7"))
        elif rule == "INTAKE-BE-2":  # a warehousing BE without its warehouse code
            be["be_type"] = "W"
            be["warehouse_code"] = None
        # INTAKE-AMEND-1: the fresh BE was never filed, so there is nothing to amend
        return [self._record("rule_breaking", rule, topic, data)]


def generate(
    count: int, seed: int = 42, first_be_no: int = 0, *, nul_bytes: bool = True
) -> Iterator[HostileRecord]:
    """`count` hostile records, the same for the same seed and first BE number."""
    return Generator(seed, first_be_no, nul_bytes=nul_bytes).records(count)


# -- accounting (pure) --------------------------------------------------------------------


@dataclass
class Observed:
    """What the platform did with the records, as read back after the drain."""

    #: (hostile id, consumer) -> (dlq_reason_kind, dlq_reason)
    dead_letters: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: consumer -> event ids in its inbox (claimed: handled once)
    inbox: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: be-intake's submissions by event id -> (outcome, rule ids of its reasons)
    submissions: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: hostile id -> why the broker refused it
    refused: dict[str, str] = field(default_factory=dict)


def consumer_outcome(record: Sent, consumer: str, seen: Observed) -> str:
    """What `consumer` did with `record` (see the module's docstring); "lost" if nothing."""
    if record.id in seen.refused:
        return "refused"
    dead = seen.dead_letters.get((record.id, consumer))
    if dead is not None:
        return "dead_lettered" if dead[1].strip() else "dead_lettered_without_reason"
    if record.event_id is None:
        return "lost"
    known = record.event_id in seen.inbox.get(consumer, ())
    submission = seen.submissions.get(record.event_id) if consumer == "be-intake" else None
    if record.copy_of is not None:
        return "duplicate" if known or submission else "lost"
    if submission is not None:
        outcome, rules = submission
        if outcome == "rejected":
            return "rejected" if rules else "rejected_without_rule"
        return "duplicate" if outcome == "duplicate" else "accepted"
    return "accepted" if known else "lost"


def record_outcome(outcomes: Iterable[str]) -> str:
    """One outcome per record over its consumers: theirs if they agree, else joined."""
    distinct = sorted(set(outcomes))
    if "lost" in distinct:
        return "lost"
    return "+".join(distinct) if distinct else "lost"


@dataclass
class Accounting:
    count: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    by_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    dead_letter_kinds: dict[str, int] = field(default_factory=dict)
    rules_cited: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    unreasoned: list[str] = field(default_factory=list)
    rule_breaking_not_rejected: list[str] = field(default_factory=list)
    handler_failures: list[str] = field(default_factory=list)
    unexpected: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)  # unexpected, by kind

    def violations(self) -> dict[str, list[str]]:
        return {
            "hostile_lost": self.lost,
            "hostile_unreasoned": self.unreasoned,
            "rule_breaking_not_rejected": self.rule_breaking_not_rejected,
            "handler_failures": self.handler_failures,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "by_kind": self.by_kind,
            "by_topic": self.by_topic,
            "dead_letter_kinds": self.dead_letter_kinds,
            "rules_cited": self.rules_cited,
            "unexpected": self.unexpected,
            "unexpected_examples": self.examples,
            **{name: ids[:50] for name, ids in self.violations().items()},
        }


def classify(
    sent: Iterable[Sent], consumers: Mapping[str, Sequence[str]], seen: Observed
) -> Accounting:
    """Every record's outcome per its topic's `consumers`, counted by kind and topic."""
    acc = Accounting()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_topic: dict[str, Counter[str]] = defaultdict(Counter)
    dlq_kinds: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    for record in sent:
        acc.count += 1
        per = {c: consumer_outcome(record, c, seen) for c in consumers.get(record.topic, ())}
        outcome = record_outcome(per.values())
        by_kind[record.kind][outcome] += 1
        by_topic[record.topic][outcome] += 1
        for consumer, result in per.items():
            if result.startswith("dead_lettered"):
                kind, _ = seen.dead_letters[(record.id, consumer)]
                dlq_kinds[kind] += 1
                if kind == "handler_error":
                    acc.handler_failures.append(f"{record.id} {consumer} {record.topic}")
            if result in ("rejected_without_rule", "dead_lettered_without_reason"):
                acc.unreasoned.append(record.id)
        if outcome == "lost":
            acc.lost.append(record.id)
        if outcome == "rejected" and record.event_id in seen.submissions:
            rules.update(seen.submissions[record.event_id][1])
        if record.kind == "rule_breaking" and outcome != "rejected":
            acc.rule_breaking_not_rejected.append(record.id)
        expected = _expected(record)
        if outcome != "lost" and not set(outcome.split("+")) <= expected:
            label = f"{record.kind}:{outcome}"
            unexpected[label] += 1
            examples = acc.examples.setdefault(label, [])
            if len(examples) < 5:
                examples.append(f"{record.id} {record.topic} {record.variant}")
    acc.by_kind = {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())}
    acc.by_topic = {k: dict(sorted(v.items())) for k, v in sorted(by_topic.items())}
    acc.dead_letter_kinds = dict(sorted(dlq_kinds.items()))
    acc.rules_cited = dict(sorted(rules.items()))
    acc.unexpected = dict(sorted(unexpected.items()))
    return acc


def _expected(record: Sent) -> frozenset[str]:
    if record.kind == "duplicate_id":
        return {
            "original": frozenset({"accepted", "rejected"}),
            "same_content": frozenset({"duplicate"}),
        }.get(record.variant, frozenset({"dead_lettered"}))
    if record.kind == "key_mismatch" and record.variant == "no_key":  # compacted: refused
        return frozenset({"dead_lettered", "refused"})
    if record.kind == "forged_source" and record.variant == "ce_type":
        return frozenset({"dead_lettered"})
    if record.kind == "bad_encoding" and record.variant.startswith("nul_in_string"):
        return frozenset({"dead_lettered", "rejected"})
    return EXPECTED[record.kind]


def observed_dead_letters(records: Iterable[invariants.Record]) -> dict[tuple[str, str], Any]:
    """(hostile id, consumer) -> (reason kind, reason) of every dead letter of a hostile record."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for record in records:
        hostile_id = record.headers.get(HOSTILE_ID)
        if record.topic.endswith(".dlq") and hostile_id:
            consumer = record.headers.get("dlq_consumer", "")
            reason = (
                record.headers.get("dlq_reason_kind", ""),
                record.headers.get("dlq_reason", ""),
            )
            found[(hostile_id, consumer)] = reason
    return found


def format_outcomes(accounting: Mapping[str, Any]) -> str:
    """Counts by mutation kind and outcome as a Markdown table."""
    by_kind: Mapping[str, Mapping[str, int]] = accounting["by_kind"]
    outcomes = sorted({o for counts in by_kind.values() for o in counts})
    lines = [
        "| kind | " + " | ".join(outcomes) + " | total |",
        "|---|" + "---|" * (len(outcomes) + 1),
    ]
    totals: Counter[str] = Counter()
    for kind, counts in by_kind.items():
        totals.update(counts)
        cells = [f"{counts.get(o, 0):,}" for o in outcomes]
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {sum(counts.values()):,} |")
    cells = [f"{totals.get(o, 0):,}" for o in outcomes]
    lines.append("| **all** | " + " | ".join(cells) + f" | {sum(totals.values()):,} |")
    return "\n".join(lines)


FIGURES_BEGIN = "<!-- hostile-figures:begin -->"
FIGURES_END = "<!-- hostile-figures:end -->"


def figures(result: Mapping[str, Any], generated: str, note: str = "") -> str:
    """The hostile input's figures of one scenario result (results.json) for FAULTS.md."""
    verdict = result["invariants"]
    report = verdict["input"]
    health = report.get("health", {})
    counts = verdict.get("violation_counts", {})
    broken = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"
    nul = "with" if report.get("nul_bytes", True) else "without"
    lines = [
        f"Generated {generated} by `bin/clearance faults --summary`"
        + (f"; {note}" if note else "")
        + ".",
        "",
        f"{report['count']:,} hostile records (seed {report.get('seed')}, {nul} NUL bytes) "
        f"beside {result['count']:,} good BEs: {result['terminal']:,} good BEs terminal; "
        f"published in {report.get('publish_s', 0)} s, {report.get('refused', 0)} refused by "
        f"the broker ({report.get('refused_why') or 'none'}); drained "
        f"{result['recovery_s']} s after the last hostile record "
        f"({result['total_s']} s from the first filing). Violations: {broken}.",
        "",
        format_outcomes(report),
        "",
        f"Health, sampled {health.get('samples', 0)} times: crashes "
        f"{health.get('crashes') or 'none'}, /healthz 5xx {health.get('http_5xx') or 'none'}, "
        f"unanswered {health.get('healthz_unanswered') or 'none'}; Tracebacks logged "
        f"{health.get('log_tracebacks') or 'none'}. Dead letters by reason kind: "
        f"{report.get('dead_letter_kinds') or 'none'}. Rules cited in rejections: "
        f"{report.get('rules_cited') or 'none'}. Outcomes other than expected: "
        f"{report.get('unexpected') or 'none'}.",
    ]
    return "\n".join(lines)


# -- the services' health during the run ---------------------------------------------------


@dataclass
class Health:
    samples: int = 0
    crashes: dict[str, str] = field(default_factory=dict)  # service -> what happened
    http_5xx: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)
    log_tracebacks: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "crashes": self.crashes,
            "http_5xx": self.http_5xx,
            "healthz_unanswered": self.unanswered,
            "log_tracebacks": self.log_tracebacks,
        }


class HealthSampler:
    """Every `interval` s, per service: its pid (the one at start, still running) and
    `GET /healthz` (a 5xx, or no answer within `timeout` s, is counted)."""

    def __init__(self, stack: Stack, interval: float = 1.0, timeout: float = 10.0) -> None:
        self.services = {name: stack.services[name] for name in SERVICES}
        self.interval, self.timeout = interval, timeout
        self.health = Health()
        self.pids = {name: read_pid(svc.pid_path) for name, svc in self.services.items()}
        self.log_offsets = {
            name: svc.log_path.stat().st_size if svc.log_path.exists() else 0
            for name, svc in self.services.items()
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile-health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                self.sample(client)
                self._stop.wait(self.interval)

    def sample(self, client: httpx.Client) -> None:
        h = self.health
        h.samples += 1
        for name, svc in self.services.items():
            pid, first = read_pid(svc.pid_path), self.pids[name]
            if first is None or pid != first or not psutil.pid_exists(first):
                h.crashes.setdefault(name, f"pid {first} -> {pid}")
            try:
                status = client.get(f"{svc.url}/healthz").status_code
            except httpx.HTTPError:
                h.unanswered[name] = h.unanswered.get(name, 0) + 1
                continue
            if status >= 500:
                h.http_5xx[name] = h.http_5xx.get(name, 0) + 1

    def stop(self) -> Health:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        for name, svc in self.services.items():  # what the services logged meanwhile
            with contextlib.suppress(OSError), svc.log_path.open("rb") as handle:
                handle.seek(self.log_offsets[name])
                text = handle.read()
                self.health.log_tracebacks[name] = text.count(b"Traceback")
        return self.health


# -- the scenario --------------------------------------------------------------------------


class HostileInput:
    """The fault suite's `hostile-input` scenario: its strike publishes the records (from
    the start of the day); `account` reads back what became of each one."""

    def __init__(
        self, count: int = DEFAULT_COUNT, seed: int = 42, *, nul_bytes: bool = True
    ) -> None:
        self.count, self.seed, self.nul_bytes = count, seed, nul_bytes
        self.sent: list[Sent] = []
        self.refused: dict[str, str] = {}
        self.sampler: HealthSampler | None = None
        self.publish_s = 0.0

    def scenario(self) -> Scenario:
        return Scenario(
            NAME,
            f"{self.count:,} hostile records on every topic outside parties write",
            self.strike,
            strike_at=0.0,
            input=self,
        )

    def strike(self, stack: Stack, log: Log) -> None:
        """Publish every record (blocking: run in the suite's strike thread)."""
        self.sampler = HealthSampler(stack)
        self.sampler.start()
        be_date = date.fromisoformat(example(BILL_OF_ENTRY_FILED)["be_date"])
        first = reserve_be_numbers(
            stack.config.data_dir / "bench-be-numbers.json", be_date, 2 * self.count
        )
        log(f"  hostile: publishing {self.count:,} records (seed {self.seed})")
        begun = time.monotonic()
        asyncio.run(
            self._publish(
                stack.endpoints.kafka_bootstrap,
                generate(self.count, self.seed, first, nul_bytes=self.nul_bytes),
                log,
            )
        )
        self.publish_s = time.monotonic() - begun
        log(
            f"  hostile: {len(self.sent):,} published in {self.publish_s:.1f}s, "
            f"{len(self.refused)} refused"
        )

    async def _publish(self, bootstrap: str, records: Iterable[HostileRecord], log: Log) -> None:
        # Not idempotent: after the broker refuses one record (a keyless one on a compacted
        # topic), an idempotent producer fails every later send to that partition
        # (OutOfOrderSequenceNumber: 110 records of the second 2,000-record run). An outside
        # party's producer owes the platform no idempotence either.
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="bench-hostile",
            acks="all",
            enable_idempotence=False,
            linger_ms=2,
            max_batch_size=256 * 1024,
            request_timeout_ms=30000,
            **client_options(),
        )
        await producer.start()
        pending: list[tuple[str, asyncio.Future[Any]]] = []

        async def settle() -> None:
            for record_id, future in pending:
                try:
                    await future
                except Exception as error:  # the broker refused it: accounted as refused
                    self.refused[record_id] = f"{type(error).__name__}: {error}"
            pending.clear()

        compacted = {spec.name for spec in external_topics() if spec.compacted}
        try:
            for record in records:
                self.sent.append(record.sent)
                if record.key is None and record.topic in compacted:
                    # A compacted topic refuses a record without a key, and with it the
                    # whole batch: such a record goes alone, so only it is refused.
                    await settle()
                    try:
                        await (
                            await producer.send(
                                record.topic,
                                value=record.value,
                                key=None,
                                headers=list(record.headers),
                            )
                        )
                    except Exception as error:
                        self.refused[record.id] = f"{type(error).__name__}: {error}"
                    continue
                try:
                    future = await producer.send(
                        record.topic,
                        value=record.value,
                        key=record.key,
                        headers=list(record.headers),
                    )
                except Exception as error:  # too large for the producer, say
                    self.refused[record.id] = f"{type(error).__name__}: {error}"
                    continue
                pending.append((record.id, future))
                if len(pending) >= 2000:
                    await settle()
                    if len(self.sent) % 20000 < 2000:
                        log(f"  hostile: {len(self.sent):,} sent")
            await settle()
        finally:
            await producer.stop()

    def explained_keys(self) -> list[str]:
        return sorted({record.key for record in self.sent})

    async def account(
        self, stack: Stack, records: Sequence[invariants.Record]
    ) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """What became of each record; the services' health over the run."""
        health = self.sampler.stop() if self.sampler else Health()
        seen = Observed(dead_letters=observed_dead_letters(records), refused=dict(self.refused))
        ids = sorted({r.event_id for r in self.sent if r.event_id is not None})
        conn = await asyncpg.connect(stack.postgres.admin_dsn, timeout=10)
        try:
            for service in SERVICES:
                schema_name = service.replace("-", "_")
                rows = await conn.fetch(
                    f"SELECT consumer, event_id FROM {schema_name}.inbox "
                    "WHERE event_id = ANY($1::text[])",
                    ids,
                )
                for row in rows:
                    seen.inbox[str(row["consumer"])].add(str(row["event_id"]))
            rows = await conn.fetch(
                "SELECT event_id, outcome, reasons FROM be_intake.submission "
                "WHERE event_id = ANY($1::text[]) ORDER BY id",
                ids,
            )
            for row in rows:
                reasons = row["reasons"]
                reasons = orjson.loads(reasons) if isinstance(reasons, str | bytes) else reasons
                rules = tuple(str(r["rule_id"]) for r in reasons or () if r.get("rule_id"))
                seen.submissions.setdefault(str(row["event_id"]), (str(row["outcome"]), rules))
        finally:
            await conn.close()
        consumers = {spec.name: spec.consumers for spec in external_topics()}
        accounting = classify(self.sent, consumers, seen)
        violations = accounting.violations() | {
            "crashes": sorted(f"{name}: {what}" for name, what in health.crashes.items()),
            "http_5xx": sorted(f"{name}: {n}" for name, n in health.http_5xx.items()),
            "healthz_unanswered": sorted(f"{name}: {n}" for name, n in health.unanswered.items()),
        }
        report = accounting.to_json() | {
            "seed": self.seed,
            "nul_bytes": self.nul_bytes,
            "published": len(self.sent),
            "refused": len(self.refused),
            "refused_why": dict(Counter(why.split(":")[0] for why in self.refused.values())),
            "publish_s": round(self.publish_s, 1),
            "health": health.to_json(),
        }
        return violations, report


def scenario(count: int = DEFAULT_COUNT, seed: int = 42, *, nul_bytes: bool = True) -> Scenario:
    return HostileInput(count, seed, nul_bytes=nul_bytes).scenario()
