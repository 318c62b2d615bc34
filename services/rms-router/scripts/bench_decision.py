"""Time one RMS decision (rules, lanes, group) per BE, under the shipped rule set.

    uv run python services/rms-router/scripts/bench_decision.py

Prints the median of 7 rounds of N decisions, in microseconds per decision, for the
example BE (5 items) and for 1- and 20-item BEs; and the time to read (validate and
compile) the rule set.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from clearance_domain import PolicyRef
from rms_router.domain.decision import decide
from rms_router.domain.rule_set import parse_rule_set
from rms_router.testing import DEFAULT_RULE_SET, bill_of_entry, certificate, facts


def per_call_us(job: Callable[[], object], calls: int) -> float:
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(calls):
            job()
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


def main() -> None:
    rule_set = parse_rule_set(DEFAULT_RULE_SET["body"])
    ref = PolicyRef("rms-rule-set", 1)
    cases = {
        "example BE, 5 items, AEO T2 (facilitated)": facts(aeo=certificate("T2")),
        "1 item, no AEO certificate (random lane)": facts(
            bill_of_entry([("85258090", 10.0)]), aeo=None
        ),
        "20 items, food and gold (PGA NOC, examination)": facts(
            bill_of_entry([("09041120", 5.0)] * 10 + [("71081300", 9.0)] * 10), aeo=None
        ),
    }
    for name, risk in cases.items():
        print(
            f"{per_call_us(lambda risk=risk: decide(risk, rule_set, ref), 2_000):8.1f} us  {name}"
        )
    body = DEFAULT_RULE_SET["body"]
    print(f"{per_call_us(lambda: parse_rule_set(body), 50):8.1f} us  read the rule set")


if __name__ == "__main__":
    main()
