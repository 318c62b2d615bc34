"""Time validate_event per event (a benchmark: run and record it, never assert on it).

    uv run python contracts/scripts/bench_validation.py [--number 20000]

Prints the median of 7 runs, in microseconds per call, for the example events: the default
filed BE has 5 items on one invoice, 8 supporting documents, 1 container.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import timeit

import clearance_contracts as contracts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="calls per run")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {args.number} calls x 7")
    for event_type in contracts.EVENT_TYPES:
        data = contracts.example(event_type)
        contracts.validate_event(event_type, data)  # compile outside the timing
        runs = timeit.repeat(
            "validate_event(event_type, data)",
            globals={
                "validate_event": contracts.validate_event,
                "event_type": event_type,
                "data": data,
            },
            number=args.number,
            repeat=7,
        )
        per_call_us = statistics.median(runs) / args.number * 1e6
        size = len(json.dumps(data))
        print(f"{event_type:45} {per_call_us:8.1f} us/event  ({size} bytes of JSON)")
    first = timeit.timeit(
        "validation._validator.cache_clear(); validation._registry.cache_clear(); "
        "validation._loaded.cache_clear(); contracts.validate_event(t, d)",
        globals={
            "validation": contracts.validation,
            "contracts": contracts,
            "t": contracts.BILL_OF_ENTRY_FILED,
            "d": contracts.example(contracts.BILL_OF_ENTRY_FILED),
        },
        number=20,
    )
    print(f"{'first call (load + compile, filed.v1)':45} {first / 20 * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
