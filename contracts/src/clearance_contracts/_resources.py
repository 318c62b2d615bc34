"""Reading the package's data files (schemas, examples, AsyncAPI document) as JSON/YAML."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

PACKAGE = "clearance_contracts"


def root() -> Traversable:
    return resources.files(PACKAGE)


def load_json(*parts: str) -> Any:
    """The JSON file at `parts` under the package, parsed."""
    return json.loads(root().joinpath(*parts).read_text(encoding="utf-8"))


def load_yaml(*parts: str) -> Any:
    """The YAML file at `parts` under the package, parsed with the safe loader."""
    return yaml.safe_load(root().joinpath(*parts).read_text(encoding="utf-8"))


def json_files(*parts: str) -> list[str]:
    """Names (without `.json`) of the JSON files directly in the folder at `parts`."""
    folder = root().joinpath(*parts)
    if not folder.is_dir():
        return []
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".json")
    )
