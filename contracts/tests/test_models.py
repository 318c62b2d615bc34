"""models.py is what the generator makes of the schemas today (no drift)."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, NotRequired

import clearance_contracts as contracts
import pytest
from clearance_contracts import models

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).resolve().parent.parent
GENERATOR = CONTRACTS / "scripts" / "generate_models.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_models", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(120)
def test_committed_models_are_what_the_schemas_generate() -> None:
    generated: str = _generator().generate()
    committed = (CONTRACTS / "src" / "clearance_contracts" / "models.py").read_text()
    if generated != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "models.py (committed)",
                "models.py (generated)",
            )
        )
        pytest.fail(
            "models.py drifted from the schemas; run "
            f"`uv run python contracts/scripts/generate_models.py`:\n{diff}"
        )


def _keys(model: Any) -> tuple[set[str], set[str]]:
    """(required, optional) keys of a TypedDict.

    models.py postpones annotations, so `__required_keys__` cannot see NotRequired on 3.11:
    resolve the hints instead.
    """
    hints = typing.get_type_hints(model, include_extras=True)
    optional = {key for key, hint in hints.items() if typing.get_origin(hint) is NotRequired}
    return set(hints) - optional, optional


@pytest.mark.parametrize("schema_name", [*contracts.EVENT_TYPES, *contracts.HTTP_SCHEMAS])
def test_each_model_has_the_keys_of_its_schema(schema_name: str) -> None:
    model = getattr(models, _generator().model_name(schema_name))
    document = contracts.dereferenced_schema(schema_name)
    if "allOf" in document:  # a base object narrowed by rules (the strict filing schema)
        document = document["allOf"][0]
    required, optional = _keys(model)
    assert required == set(document["required"])
    assert required | optional == set(document["properties"])


def test_event_data_is_the_union_of_every_event_model() -> None:
    members = typing.get_args(models.EventData)
    names = {_generator().model_name(event_type) for event_type in contracts.EVENT_TYPES}
    assert {getattr(member, "__name__", None) for member in members} == names - {
        "BillOfEntryFiled"
    } | {"BillOfEntry"}
