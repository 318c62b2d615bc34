"""The condition language of the RMS rule set: JSON predicates, compiled, never evaluated as code.

A condition is a JSON object with exactly one operator:

- combinators: `{"all": [c, ...]}` (true for an empty list), `{"any": [c, ...]}`
  (false for an empty list), `{"not": c}`;
- quantifiers over the BE's items: `{"any_item": c}`, `{"all_items": c}`; only
  inside them may a condition read `item.*` fields;
- a comparison of one field of the facts (`FIELDS`, `ITEM_FIELDS`) with a
  literal: `{"field": "value.assessable_inr", "ge": 20000000}`, with one of
  `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `between` ([low, high], inclusive), `in`,
  `not_in` (lists of literals), `starts_with` (a prefix or a list of them),
  `contains` (a list field holds the literal), `empty` (a list field is, or is
  not, empty), `exists` (the field has a value).

Conditions are checked when a rule set is read (unknown field, operator or a
literal of the wrong type -> `ValueError`, so an administrator's upload is
refused with the reason) and compiled to closures: reading a rule set never
runs anything it contains. A field without a value (null) satisfies no
comparison except `eq: null`, `ne`, `not_in` and `exists: false`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

# The kinds of value a field holds.
STR, INT, NUMBER, BOOL, LIST = "string", "integer", "number", "boolean", "list"

#: Fields of the BE and its context a condition may read, and their kinds.
FIELDS: Mapping[str, str] = {
    "be.port_code": STR,  # custom house (ICES <TABLE>BE field 2)
    "be.type": STR,  # H, W, X, ... (ICES BE Type)
    "be.mode_of_transport": STR,  # S, A, L
    "be.first_check": BOOL,  # the importer asked for First Check (RMS-2)
    "be.prior_be": BOOL,  # filed before arrival (INTAKE-PRIOR-1)
    "be.version": INT,  # 1 as registered, +1 per amendment
    "be.customs_broker_code": STR,
    "be.country_of_origin": STR,
    "be.country_of_consignment": STR,
    "be.port_of_shipment": STR,
    "be.transshipped": BOOL,  # consigned from a country other than the origin
    "be.containerised": BOOL,
    "be.item_count": INT,
    "value.assessable_inr": NUMBER,  # assessable value declared, rupees
    "value.duty_inr": NUMBER,  # duty self-assessed, rupees (INTAKE-SA-1)
    "importer.iec": STR,
    # AEO standing from the certificate on the registered BE (never the filing's claim):
    # T1, T2, T3, LO; "none" (no certificate valid on the BE date); "unreported"
    # (the registered BE carried no AEO information).
    "importer.aeo_status": STR,
    # The importer's record, from the officers' results (rms-router's own events):
    "importer.examinations": INT,  # examinations (and scans) completed
    "importer.discrepancies": INT,  # of which found a discrepancy
    "importer.reassessments": INT,  # assessments that changed the self-assessed duty
    "importer.refused_nocs": INT,  # partner agency NOCs refused
    "bis.verdict": STR,  # passed, failed, conditional, not_applicable
    "bis.sampling": BOOL,  # bis-verifier asks for samples (BIS-QCO-3)
    "amendment.number": INT,  # 0 for the filing
    "amendment.assessment_invalidated": BOOL,
    "amendment.after_out_of_charge": BOOL,
    "seal.tampered_at_export": BOOL,  # SEAL-TAMPER-1 alert from warehouse-seal
}

#: Fields of one item, readable inside `any_item` / `all_items`.
ITEM_FIELDS: Mapping[str, str] = {
    "item.sl_no": INT,
    "item.cth": STR,  # 8-digit tariff item
    "item.chapter": STR,  # its first 2 digits
    "item.heading": STR,  # its first 4 digits
    "item.country_of_origin": STR,
    "item.value": NUMBER,  # quantity x unit price, invoice currency
    "item.partner_agencies": LIST,  # agencies whose NOC the tariff line needs (rule-set table)
}

Facts = Mapping[str, Any]
Predicate = Callable[[Facts, Facts | None], bool]

_COMBINATORS = ("all", "any", "not", "any_item", "all_items")
_COMPARISONS = (
    "eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in",
    "starts_with", "contains", "empty", "exists",
)  # fmt: skip
_ORDERED = (INT, NUMBER, STR)


def compile_condition(data: Any) -> Predicate:
    """Check a condition and compile it to a predicate over (facts, item facts)."""
    return _compile(data, "$", in_item=False)


def compile_item_condition(data: Any, path: str = "$") -> Predicate:
    """Check and compile the condition inside an `any_item` / `all_items`: it is
    given each item's facts (to name the items a rule matched)."""
    return _compile(data, path, in_item=True)


def _compile(data: Any, path: str, *, in_item: bool) -> Predicate:
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a condition is a JSON object, not {data!r}")
    if "field" in data:
        return _comparison(data, path, in_item=in_item)
    operators = [key for key in data if key in _COMBINATORS]
    if len(data) != 1 or len(operators) != 1:
        raise ValueError(
            f"{path}: a condition has one operator of {', '.join(_COMBINATORS)} or a `field`"
            f" comparison; got {sorted(data)}"
        )
    operator = operators[0]
    operand = data[operator]
    where = f"{path}.{operator}"
    if operator in ("all", "any"):
        if not isinstance(operand, list):
            raise ValueError(f"{where}: a list of conditions")
        parts = tuple(
            _compile(part, f"{where}[{n}]", in_item=in_item) for n, part in enumerate(operand)
        )
        if operator == "all":
            return lambda facts, item: all(part(facts, item) for part in parts)
        return lambda facts, item: any(part(facts, item) for part in parts)
    if operator == "not":
        inner = _compile(operand, where, in_item=in_item)
        return lambda facts, item: not inner(facts, item)
    if in_item:
        raise ValueError(f"{where}: item quantifiers do not nest")
    inner = _compile(operand, where, in_item=True)
    if operator == "any_item":
        return lambda facts, _item: any(inner(facts, one) for one in facts["items"])
    return lambda facts, _item: all(inner(facts, one) for one in facts["items"])


def _comparison(data: Mapping[str, Any], path: str, *, in_item: bool) -> Predicate:
    name = data["field"]
    kind = _kind_of(name, path, in_item=in_item)
    operators = [key for key in data if key != "field"]
    if len(operators) != 1 or operators[0] not in _COMPARISONS:
        raise ValueError(
            f"{path}: a comparison of {name!r} needs one operator of {', '.join(_COMPARISONS)};"
            f" got {operators}"
        )
    operator = operators[0]
    where = f"{path}.{operator}"
    test = _test(operator, kind, data[operator], where)
    if name.startswith("item."):
        return lambda _facts, item: test(item[name] if item is not None else None)
    return lambda facts, _item: test(facts[name])


def _kind_of(name: Any, path: str, *, in_item: bool) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{path}.field: a field name, not {name!r}")
    if name in FIELDS:
        return FIELDS[name]
    if name in ITEM_FIELDS:
        if not in_item:
            raise ValueError(f"{path}.field: {name!r} is read inside any_item / all_items only")
        return ITEM_FIELDS[name]
    raise ValueError(f"{path}.field: unknown field {name!r}")


def _test(operator: str, kind: str, operand: Any, where: str) -> Callable[[Any], bool]:
    if operator == "exists":
        wanted = _boolean(operand, where)
        return lambda value: (value is not None) == wanted
    if operator in ("eq", "ne"):
        literal = None if operand is None else _literal(operand, kind, where)
        if operator == "eq":
            return lambda value: value == literal
        return lambda value: value != literal
    if operator in ("in", "not_in"):
        if not isinstance(operand, list):
            raise ValueError(f"{where}: a list of literals")
        literals = frozenset(_literal(value, kind, where) for value in operand)
        if operator == "in":
            return lambda value: value is not None and value in literals
        return lambda value: value is None or value not in literals
    if operator in ("lt", "le", "gt", "ge"):
        bound = _ordered(operand, kind, where)
        compare = _ORDER[operator]
        return lambda value: value is not None and compare(value, bound)
    if operator == "between":
        if not isinstance(operand, list) or len(operand) != 2:
            raise ValueError(f"{where}: [low, high]")
        low, high = (_ordered(value, kind, where) for value in operand)
        if low > high:
            raise ValueError(f"{where}: low {low!r} is above high {high!r}")
        return lambda value: value is not None and low <= value <= high
    if operator == "starts_with":
        if kind != STR:
            raise ValueError(f"{where}: starts_with compares text fields")
        prefixes = tuple(operand) if isinstance(operand, list) else (operand,)
        if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
            raise ValueError(f"{where}: a prefix or a list of prefixes")
        return lambda value: value is not None and value.startswith(prefixes)
    if kind != LIST:
        raise ValueError(f"{where}: {operator} reads list fields")
    if operator == "contains":
        if not isinstance(operand, str):
            raise ValueError(f"{where}: the text the list should hold")
        return lambda value: value is not None and operand in value
    wanted = _boolean(operand, where)  # empty
    return lambda value: (not value) == wanted


def _ordered(operand: Any, kind: str, where: str) -> Any:
    if kind not in _ORDERED:
        raise ValueError(f"{where}: only numbers and text are ordered")
    return _literal(operand, kind, where)


def _literal(operand: Any, kind: str, where: str) -> Any:
    if kind == BOOL:
        return _boolean(operand, where)
    if kind in (INT, NUMBER):
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise ValueError(f"{where}: {operand!r} is not a number")
        if kind == INT and not float(operand).is_integer():
            raise ValueError(f"{where}: {operand!r} is not a whole number")
        return Decimal(str(operand)) if kind == NUMBER else int(operand)
    if not isinstance(operand, str):
        raise ValueError(f"{where}: {operand!r} is not text")
    return operand


def _boolean(operand: Any, where: str) -> bool:
    if not isinstance(operand, bool):
        raise ValueError(f"{where}: {operand!r} is not true or false")
    return operand


_ORDER: Mapping[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
