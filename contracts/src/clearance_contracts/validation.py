"""Validation of event data and HTTP bodies against the JSON Schemas (draft 2020-12).

Every schema of the package is registered under its `$id`, so relative `$ref`s between files
(`common.v1.json#/$defs/bill_of_entry`) resolve offline. Validators are compiled once per name.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import jsonschema_rs

from clearance_contracts import _resources
from clearance_contracts.names import BASE_URI, COMMON, EVENT_TYPES, HTTP_SCHEMAS

_MAX_MESSAGE = 300
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ContractViolation(Exception):
    """Data that does not satisfy its contract; `str()` names the schema, the path and why."""

    def __init__(self, schema_name: str, path: str, reason: str) -> None:
        self.schema_name = schema_name
        self.path = path
        self.reason = reason
        super().__init__(f"{schema_name}: {path}: {reason}" if path else f"{schema_name}: {reason}")


def _file_parts(name: str) -> tuple[str, ...]:
    """Where the schema called `name` lives under the package."""
    if name in EVENT_TYPES or name == COMMON:
        return ("schemas", f"{name}.json")
    if name in HTTP_SCHEMAS:
        return ("schemas", "http", f"{name}.json")
    raise KeyError(f"no schema called {name!r}")


@cache
def _loaded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = _resources.load_json(*_file_parts(name))
    return document


def _uri(name: str) -> str:
    return BASE_URI + "/".join(_file_parts(name)[1:])


@cache
def _registry() -> jsonschema_rs.Registry:
    names = (*EVENT_TYPES, *HTTP_SCHEMAS, COMMON)
    return jsonschema_rs.Registry([(_uri(name), _loaded(name)) for name in names])


@cache
def _validator(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        _loaded(name), registry=_registry(), validate_formats=True, offline=True
    )


def schema(name: str) -> dict[str, Any]:
    """A copy of the JSON Schema called `name`: an event type, an HTTP body or `common.v1`.

    Its `$ref`s point into `common.v1.json`; see `dereferenced_schema` for a standalone one.
    KeyError for an unknown name.
    """
    return copy.deepcopy(_loaded(name))


def dereferenced_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called `name` with every `$ref` inlined, e.g. to publish in OpenAPI.

    Standalone: no `$ref`, and no `$id`, `$schema` or `$defs` left to confuse the host document.
    """
    inlined: dict[str, Any] = jsonschema_rs.dereference(_loaded(name), registry=_registry())
    return {key: value for key, value in inlined.items() if key not in ("$id", "$schema", "$defs")}


def validate_event(event_type: str, data: object) -> None:
    """Check an event's data (the CloudEvents `data`) against the schema of its type.

    Raises ContractViolation for an unknown event type or data that breaks the schema; the
    message names the JSON path of the first error, e.g.
    `icegate.bill-of-entry.filed.v1: $.invoices[0].items[0].cth: "85258" does not match ...`.
    """
    if event_type not in EVENT_TYPES:
        raise ContractViolation(event_type, "", "unknown event type")
    _validate(event_type, data)


def validate_http(schema_name: str, data: object) -> None:
    """Check an HTTP body against one of `HTTP_SCHEMAS`, as `validate_event` does."""
    if schema_name not in HTTP_SCHEMAS:
        raise ContractViolation(schema_name, "", "unknown HTTP schema")
    _validate(schema_name, data)


def _validate(name: str, data: object) -> None:
    validator = _validator(name)
    try:
        validator.validate(data)
    except jsonschema_rs.ValidationError as error:
        path, message = _explain(error)
        raise ContractViolation(name, json_path(path), _short(message)) from None
    except (ValueError, TypeError) as error:
        # Python values with no JSON form (a datetime, a set) cannot be checked at all.
        raise ContractViolation(name, "$", _short(f"not JSON data: {error}")) from None


def json_path(parts: Sequence[str | int]) -> str:
    """`["invoices", 0, "cth"]` as `$.invoices[0].cth`."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += "[" + repr(part) + "]"
    return path


def _branch_errors(error: jsonschema_rs.ValidationError) -> list[jsonschema_rs.ValidationError]:
    kind = error.kind
    if isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.AnyOf | jsonschema_rs.ValidationErrorKind.OneOfNotValid,
    ):
        return [sub for branch in kind.context for sub in branch]
    return []


def _is_null_type(error: jsonschema_rs.ValidationError) -> bool:
    kind = error.kind
    return isinstance(kind, jsonschema_rs.ValidationErrorKind.Type) and kind.types == ["null"]


def _explain(error: jsonschema_rs.ValidationError) -> tuple[list[str | int], str]:
    """Path and message of `error`; for `anyOf` (a nullable reference), of the best branch.

    The best branch is the one whose error lies deepest in the data: the one the author of
    the data most likely meant.
    """
    subs = _branch_errors(error)
    candidates = [sub for sub in subs if not _is_null_type(sub)]
    if not candidates:
        return error.instance_path, error.message
    deepest = max(candidates, key=lambda sub: len(sub.instance_path))
    path, message = _explain(deepest)
    if len(candidates) < len(subs) and path == error.instance_path:
        message += " (nor null)"
    return path, message


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
