"""Parsing cost of an ICES 1.5 CACHI01 file of 20 items (issue 9): files read, checked
against the spec's tables and mapped to the canonical BE per second, on one core.

    python3 -m uv run --frozen python services/be-intake/scripts/bench_ices_parse.py
"""

from __future__ import annotations

import copy
import time

from be_intake.adapters.ices import flatfile, mapping
from be_intake.adapters.ices.samples import cachi01, example_be, with_ices_fields


def main() -> None:
    be = example_be()
    invoice = be["invoices"][0]
    items = [copy.deepcopy(invoice["items"][k % 5]) | {"item_sl_no": k + 1} for k in range(20)]
    invoice["items"] = items
    raw = cachi01(with_ices_fields(be)).encode("ascii")
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < 5.0:
        message = flatfile.read(raw)
        assert isinstance(message, flatfile.Message)
        parsed = mapping.fresh(message)
        assert isinstance(parsed, mapping.Parsed)
        runs += 1
    elapsed = time.perf_counter() - started
    each = elapsed / runs * 1e3
    print(f"{len(raw)} bytes, 20 items: {runs / elapsed:.0f} files/s ({each:.2f} ms each)")


if __name__ == "__main__":
    main()
