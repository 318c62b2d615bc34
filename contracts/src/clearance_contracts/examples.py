"""Valid example data for every event type, for tests, fixtures and documentation.

`examples/<event type>.json` is the default example; `examples/<variant>/<event type>.json`
are further ones (e.g. `warehousing`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clearance_contracts import _resources
from clearance_contracts.names import EVENT_TYPES

DEFAULT_VARIANT = "default"


def example(event_type: str, variant: str = DEFAULT_VARIANT) -> dict[str, Any]:
    """A fresh copy of the example data of `event_type` (KeyError if there is none)."""
    if variant not in example_variants(event_type):
        raise KeyError(f"no {variant!r} example of {event_type!r}")
    parts = (
        ("examples", f"{event_type}.json")
        if variant == DEFAULT_VARIANT
        else ("examples", variant, f"{event_type}.json")
    )
    data: dict[str, Any] = _resources.load_json(*parts)
    return data


def example_variants(event_type: str) -> tuple[str, ...]:
    """The variants that exist for `event_type`, `default` first."""
    return _variants().get(event_type, ())


@cache
def _variants() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for name in _resources.json_files("examples"):
        found.setdefault(name, []).append(DEFAULT_VARIANT)
    folder = _resources.root().joinpath("examples")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            for name in _resources.json_files("examples", entry.name):
                found.setdefault(name, []).append(entry.name)
    return {name: tuple(variants) for name, variants in found.items() if name in EVENT_TYPES}
