"""BE numbers for a run: a fresh range per run, so reruns against one stack never collide.

be-intake registers a BE identity (custom house, BE number, BE date) once; a
second filing of it is a duplicate that ends in no terminal event. The next
free number of each BE date is kept in a small JSON file beside the stack's
data (so `reset`, which deletes the database, also resets the numbering).
Without a file the first range starts at a random number.
"""

from __future__ import annotations

import fcntl
import json
import random
from datetime import date
from pathlib import Path

from clearance_bench.workload import BE_NUMBER_SPACE


def reserve_be_numbers(state_path: Path, be_date: date, count: int) -> int:
    """Reserve `count` consecutive BE numbers of `be_date`; return the first (may wrap at 10^7)."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    with state_path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        state: dict[str, int] = json.loads(text) if text.strip() else {}
        key = be_date.isoformat()
        first = state.get(key)
        if first is None:
            first = random.SystemRandom().randrange(BE_NUMBER_SPACE // 2)
        state[key] = (first + count) % BE_NUMBER_SPACE
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(state, indent=2))
        return first
