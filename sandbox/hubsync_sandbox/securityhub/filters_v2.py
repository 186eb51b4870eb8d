"""GetFindingsV2 filters on OCSF findings: composite filters of typed filters, their operators and limits.

Field names are the enums of botocore's model (an unknown one is a ValidationException, as Security Hub answers).
A field path walks through lists (`resources.uid` is every resource's uid); a string filter matches when any value
at the path does. On one field, positive string comparisons are ORed and negative ones ANDed; values are
case-sensitive. Every request value is checked before use: a filter is hostile input like any other.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import botocore.session

from hubsync_sandbox.securityhub.errors import ServiceError

Predicate = Callable[[Mapping[str, Any]], bool]

MAX_COMPOSITES = 10
MAX_PER_TYPE = 20
MAX_DEPTH = 3
OPERATORS = ("AND", "OR")
POSITIVE = ("EQUALS", "PREFIX", "CONTAINS", "CONTAINS_WORD")
NEGATIVE = ("NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS")
MAP_COMPARISONS = ("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS")
NUMBER_BOUNDS = ("Eq", "Gt", "Gte", "Lt", "Lte")
FILTER_SHAPES = {"StringFilters": "OcsfStringField", "NumberFilters": "OcsfNumberField",
                 "DateFilters": "OcsfDateField", "BooleanFilters": "OcsfBooleanField", "MapFilters": "OcsfMapField",
                 "IpFilters": "OcsfIpField"}


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


@cache
def field_names(filter_type: str) -> frozenset[str]:
    """The FieldName enum botocore's model gives a filter type."""
    model = botocore.session.get_session().get_service_model("securityhub")
    return frozenset(model.shape_for(FILTER_SHAPES[filter_type]).enum)


def values_at(finding: Any, path: str) -> list[Any]:
    """Every value at a dotted path, descending into lists on the way."""
    return list(_walk(finding, path.split(".")))


def _walk(node: Any, parts: list[str]) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, parts)
        return
    if not parts:
        yield node
        return
    if isinstance(node, Mapping) and parts[0] in node:
        yield from _walk(node[parts[0]], parts[1:])


def compile_filters(filters: Any, now: datetime) -> Predicate:
    """A predicate for an `OcsfFindingFilters` value; ValidationException naming the first problem."""
    if filters is None:
        return lambda finding: True
    if not isinstance(filters, dict) or set(filters) - {"CompositeFilters", "CompositeOperator"}:
        raise validation("Filters takes CompositeFilters and CompositeOperator")
    composites = filters.get("CompositeFilters", [])
    operator = _operator(filters.get("CompositeOperator"), "CompositeOperator")
    return _combine(_composites(composites, now, depth=1), operator)


def _composites(composites: Any, now: datetime, depth: int) -> list[Predicate]:
    if depth > MAX_DEPTH:
        raise validation(f"NestedCompositeFilters can be nested at most {MAX_DEPTH} layers deep")
    if not isinstance(composites, list) or len(composites) > MAX_COMPOSITES:
        raise validation(f"CompositeFilters must list at most {MAX_COMPOSITES} composite filters")
    return [_composite(composite, now, depth) for composite in composites]


def _composite(composite: Any, now: datetime, depth: int) -> Predicate:
    allowed = {*FILTER_SHAPES, "NestedCompositeFilters", "Operator"}
    if not isinstance(composite, dict) or set(composite) - allowed:
        raise validation(f"a composite filter takes only {', '.join(sorted(allowed))}")
    predicates: list[Predicate] = []
    for filter_type in FILTER_SHAPES:
        items = composite.get(filter_type, [])
        if not isinstance(items, list) or len(items) > MAX_PER_TYPE:
            raise validation(f"{filter_type} must list at most {MAX_PER_TYPE} filters")
        checked = [_field_filter(item, filter_type) for item in items]
        if filter_type == "StringFilters":
            predicates.extend(_string_predicates(checked))
        else:
            predicates.extend(_typed_predicate(filter_type, name, body, now) for name, body in checked)
    nested = composite.get("NestedCompositeFilters")
    if nested is not None:
        predicates.extend(_composites(nested, now, depth + 1))
    return _combine(predicates, _operator(composite.get("Operator"), "Operator"))


def _field_filter(item: Any, filter_type: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or set(item) != {"FieldName", "Filter"} or not isinstance(item["Filter"], dict):
        raise validation(f"each of {filter_type} needs a FieldName and a Filter")
    name = item["FieldName"]
    if name not in field_names(filter_type):
        raise validation(f"{filter_type}: {str(name)[:100]!r} is not a field you can filter on")
    return name, item["Filter"]


def _operator(value: Any, name: str) -> str:
    if value is None:
        return "AND"
    if value not in OPERATORS:
        raise validation(f"{name} must be AND or OR")
    return str(value)


def _combine(predicates: list[Predicate], operator: str) -> Predicate:
    if not predicates:
        return lambda finding: True
    if operator == "OR":
        return lambda finding: any(predicate(finding) for predicate in predicates)
    return lambda finding: all(predicate(finding) for predicate in predicates)


# -- strings --------------------------------------------------------------------------------------------
def _string_predicates(checked: list[tuple[str, dict[str, Any]]]) -> list[Predicate]:
    """One predicate per field: its positive comparisons ORed, and its negative ones ANDed with them."""
    by_field: dict[str, tuple[list[Callable[[str], bool]], list[Callable[[str], bool]]]] = {}
    for name, body in checked:
        if set(body) != {"Value", "Comparison"} or not isinstance(body["Value"], str) or not body["Value"]:
            raise validation("a string filter needs a non-empty Value and a Comparison")
        comparison, value = body["Comparison"], body["Value"]
        if comparison not in (*POSITIVE, *NEGATIVE):
            raise validation(f"string Comparison must be one of {', '.join((*POSITIVE, *NEGATIVE))}")
        positive, negative = by_field.setdefault(name, ([], []))
        (positive if comparison in POSITIVE else negative).append(_string_test(comparison, value))
    return [_string_field(name, positive, negative) for name, (positive, negative) in by_field.items()]


def _string_test(comparison: str, value: str) -> Callable[[str], bool]:
    """For a negative comparison, the test a value must pass (so NOT_EQUALS x tests `!= x`)."""
    if comparison in ("EQUALS", "NOT_EQUALS"):
        test: Callable[[str], bool] = lambda text: text == value  # noqa: E731
    elif comparison in ("PREFIX", "PREFIX_NOT_EQUALS"):
        test = lambda text: text.startswith(value)  # noqa: E731
    elif comparison in ("CONTAINS", "NOT_CONTAINS"):
        test = lambda text: value in text  # noqa: E731
    else:
        word = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")
        test = lambda text: word.search(text) is not None  # noqa: E731
    return test if comparison in POSITIVE else (lambda text: not test(text))


def _string_field(
    name: str, positive: list[Callable[[str], bool]], negative: list[Callable[[str], bool]]
) -> Predicate:
    def matches(finding: Mapping[str, Any]) -> bool:
        texts = [str(value) for value in values_at(finding, name) if isinstance(value, str | int | float)]
        if positive and not any(test(text) for test in positive for text in texts):
            return False
        return all(test(text) for test in negative for text in texts)

    return matches


# -- numbers, dates, booleans, maps, IPs ------------------------------------------------------------------
def _typed_predicate(filter_type: str, name: str, body: dict[str, Any], now: datetime) -> Predicate:
    if filter_type == "NumberFilters":
        return _number(name, body)
    if filter_type == "DateFilters":
        return _date(name, body, now)
    if filter_type == "BooleanFilters":
        if set(body) != {"Value"} or not isinstance(body["Value"], bool):
            raise validation("a boolean filter needs a true or false Value")
        return lambda finding: body["Value"] in values_at(finding, name)
    if filter_type == "MapFilters":
        return _map(name, body)
    return _ip(name, body)


def _ip(name: str, body: dict[str, Any]) -> Predicate:
    try:
        network = ipaddress.ip_network(body["Cidr"], strict=False) if set(body) == {"Cidr"} else None
    except (TypeError, ValueError):
        network = None
    if network is None:
        raise validation("an IP filter needs a Cidr such as 203.0.113.0/24")

    def matches(finding: Mapping[str, Any]) -> bool:
        for value in values_at(finding, name):
            try:
                if isinstance(value, str) and ipaddress.ip_address(value) in network:
                    return True
            except ValueError:
                continue
        return False

    return matches


def _number(name: str, body: dict[str, Any]) -> Predicate:
    if not body or set(body) - set(NUMBER_BOUNDS):
        raise validation(f"a number filter takes {', '.join(NUMBER_BOUNDS)}")
    for bound in body.values():
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise validation("number filter bounds must be numbers")
    tests = {"Eq": lambda v, b: v == b, "Gt": lambda v, b: v > b, "Gte": lambda v, b: v >= b,
             "Lt": lambda v, b: v < b, "Lte": lambda v, b: v <= b}

    def matches(finding: Mapping[str, Any]) -> bool:
        numbers = [v for v in values_at(finding, name) if isinstance(v, int | float) and not isinstance(v, bool)]
        return any(all(tests[key](v, bound) for key, bound in body.items()) for v in numbers)

    return matches


def _date(name: str, body: dict[str, Any], now: datetime) -> Predicate:
    if "DateRange" in body:
        if set(body) != {"DateRange"}:
            raise validation("a date filter takes Start and End, or DateRange")
        date_range = body["DateRange"]
        if not isinstance(date_range, dict) or date_range.get("Unit") != "DAYS" or \
                date_range.get("Comparison") not in ("WITHIN", "OLDER_THAN"):
            raise validation("DateRange needs a Value, Unit DAYS and Comparison WITHIN or OLDER_THAN")
        days = date_range.get("Value")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise validation("DateRange.Value must be a whole number of days")
        cutoff = now - timedelta(days=days)
        if date_range["Comparison"] == "WITHIN":
            return _dates_between(name, cutoff, None)
        return _dates_between(name, None, cutoff, end_inclusive=False)
    if not body or set(body) - {"Start", "End"}:
        raise validation("a date filter takes Start and End, or DateRange")
    return _dates_between(name, _parse_bound(body.get("Start")), _parse_bound(body.get("End")))


def _parse_bound(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise validation(f"{str(value)[:60]!r} is not a timestamp such as 2025-12-01T00:00:00Z")
    return moment


def _dates_between(
    name: str, start: datetime | None, end: datetime | None, end_inclusive: bool = True
) -> Predicate:
    def matches(finding: Mapping[str, Any]) -> bool:
        for value in values_at(finding, name):
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                continue
            if moment is None or moment.tzinfo is None:
                continue
            before_end = end is None or moment < end or (end_inclusive and moment == end)
            if (start is None or moment >= start) and before_end:
                return True
        return False

    return matches


def _map(name: str, body: dict[str, Any]) -> Predicate:
    if set(body) != {"Key", "Value", "Comparison"} or body["Comparison"] not in MAP_COMPARISONS or \
            not all(isinstance(body[key], str) and body[key] for key in ("Key", "Value")):
        raise validation(f"a map filter needs a Key, a Value and a Comparison of {', '.join(MAP_COMPARISONS)}")
    key, wanted, comparison = body["Key"], body["Value"], body["Comparison"]
    contains = comparison in ("CONTAINS", "NOT_CONTAINS")

    def matches(finding: Mapping[str, Any]) -> bool:
        values = [value for value in _entries(values_at(finding, name), key)]
        found = any((wanted in value) if contains else value == wanted for value in values)
        return found if not comparison.startswith("NOT_") else not found

    return matches


def _entries(nodes: list[Any], key: str) -> Iterator[str]:
    """The values under `key` in a map field, held either as an object or as a list of {name, value}."""
    for node in nodes:
        if isinstance(node, Mapping):
            if node.get("name") == key and isinstance(node.get("value"), str):
                yield node["value"]
            elif isinstance(node.get(key), str):
                yield node[key]
