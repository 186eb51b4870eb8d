"""GetFindings' `Filters` and `SortCriteria`, compiled into a predicate and a sort order over ASFF findings.

Combination rules, from the StringFilter and MapFilter documentation in the API reference:
- On one field, EQUALS / PREFIX / CONTAINS filters are ORed, NOT_EQUALS / PREFIX_NOT_EQUALS / NOT_CONTAINS
  filters are ANDed, and a finding must pass both groups (so PREFIX filters apply first, then the exclusions).
- CONTAINS combines only with CONTAINS, NOT_CONTAINS only with NOT_CONTAINS, and EQUALS never with NOT_EQUALS
  or PREFIX_NOT_EQUALS: such a request is an error. CONTAINS_WORD belongs to the V2 APIs and is refused here.
- Different fields are ANDed. At most 10 fields per request and 20 filters per field.
- Values are case-sensitive.
Fields that hold several values (Types, every resource's Id, ...) match a positive filter when any value does,
and a negative filter when none does; a finding without the field fails positive filters and passes negative
ones. Number, date and boolean filters on one field are ORed, each filter's own conditions ANDed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hubsync_sandbox.securityhub import asff
from hubsync_sandbox.securityhub.errors import invalid_input

Finding = Mapping[str, Any]
Extract = Callable[[Finding], list[Any]]
Get = Callable[[Finding], Any]
Predicate = Callable[[Finding], bool]

MAX_FIELDS = 10
MAX_FILTERS_PER_FIELD = 20


def _getter(steps: tuple[str, ...]) -> Get:
    """The value at a path of object keys, or None."""
    if len(steps) == 1:
        key = steps[0]
        return lambda finding: finding.get(key)

    def get(finding: Finding) -> Any:
        value: Any = finding
        for step in steps:
            value = value.get(step) if type(value) is dict else None
            if value is None:
                return None
        return value

    return get


def _fanned(steps: tuple[str, ...]) -> Extract:
    """Every value at a path where a "*" step fans out over a list."""

    def extract(finding: Finding) -> list[Any]:
        values: list[Any] = [finding]
        for step in steps:
            following: list[Any] = []
            for value in values:
                if step == "*":
                    following.extend(value if type(value) is list else ())
                elif type(value) is dict and value.get(step) is not None:
                    following.append(value[step])
            values = following
        return values

    return extract


@dataclass(frozen=True)
class Field:
    kind: str  # "string", "date", "number", "map" or "boolean"
    extract: Extract  # every value at the attribute's path
    get: Get | None = None  # the single value (or None), for paths that cross no list


def _field(kind: str, *steps: str) -> Field:
    if "*" in steps:
        return Field(kind, _fanned(steps))
    get = _getter(steps)

    def extract(finding: Finding) -> list[Any]:
        value = get(finding)
        return [] if value is None else [value]

    return Field(kind, extract, get)


def _string(*steps: str) -> Field:
    return _field("string", *steps)


def _date(*steps: str) -> Field:
    return _field("date", *steps)


def _number(*steps: str) -> Field:
    return _field("number", *steps)


def _map(*steps: str) -> Field:
    return _field("map", *steps)


# Filter keys of AwsSecurityFindingFilters the simulator supports, each with the ASFF path it reads.
FIELDS: dict[str, Field] = {
    "Id": _string("Id"),
    "ProductArn": _string("ProductArn"),
    "ProductName": _string("ProductName"),
    "CompanyName": _string("CompanyName"),
    "AwsAccountId": _string("AwsAccountId"),
    "AwsAccountName": _string("AwsAccountName"),
    "Region": _string("Region"),
    "GeneratorId": _string("GeneratorId"),
    "Type": _string("Types", "*"),
    "SeverityLabel": _string("Severity", "Label"),
    "SeverityNormalized": _number("Severity", "Normalized"),
    "SeverityProduct": _number("Severity", "Product"),
    "Confidence": _number("Confidence"),
    "Criticality": _number("Criticality"),
    "Title": _string("Title"),
    "Description": _string("Description"),
    "RecommendationText": _string("Remediation", "Recommendation", "Text"),
    "SourceUrl": _string("SourceUrl"),
    "ComplianceStatus": _string("Compliance", "Status"),
    "ComplianceSecurityControlId": _string("Compliance", "SecurityControlId"),
    "ComplianceAssociatedStandardsId": _string("Compliance", "AssociatedStandards", "*", "StandardsId"),
    "VerificationState": _string("VerificationState"),
    "WorkflowStatus": _string("Workflow", "Status"),
    "RecordState": _string("RecordState"),
    "RelatedFindingsProductArn": _string("RelatedFindings", "*", "ProductArn"),
    "RelatedFindingsId": _string("RelatedFindings", "*", "Id"),
    "NoteText": _string("Note", "Text"),
    "NoteUpdatedBy": _string("Note", "UpdatedBy"),
    "NoteUpdatedAt": _date("Note", "UpdatedAt"),
    "CreatedAt": _date("CreatedAt"),
    "UpdatedAt": _date("UpdatedAt"),
    "FirstObservedAt": _date("FirstObservedAt"),
    "LastObservedAt": _date("LastObservedAt"),
    "ResourceId": _string("Resources", "*", "Id"),
    "ResourceType": _string("Resources", "*", "Type"),
    "ResourcePartition": _string("Resources", "*", "Partition"),
    "ResourceRegion": _string("Resources", "*", "Region"),
    "ResourceTags": _map("Resources", "*", "Tags"),
    "ResourceDetailsOther": _map("Resources", "*", "Details", "Other"),
    "ProductFields": _map("ProductFields"),
    "UserDefinedFields": _map("UserDefinedFields"),
    "FindingProviderFieldsSeverityLabel": _string("FindingProviderFields", "Severity", "Label"),
    "FindingProviderFieldsSeverityOriginal": _string("FindingProviderFields", "Severity", "Original"),
    "FindingProviderFieldsTypes": _string("FindingProviderFields", "Types", "*"),
    "FindingProviderFieldsConfidence": _number("FindingProviderFields", "Confidence"),
    "FindingProviderFieldsCriticality": _number("FindingProviderFields", "Criticality"),
    "Sample": Field("boolean", lambda finding: [finding.get("Sample", False)]),
}

# Each comparison's test in its positive form; a negative comparison passes when its test matches no value.
_TESTS: dict[str, Callable[[str, str], bool]] = {
    "EQUALS": lambda value, wanted: value == wanted,
    "PREFIX": lambda value, wanted: value.startswith(wanted),
    "CONTAINS": lambda value, wanted: wanted in value,
    "NOT_EQUALS": lambda value, wanted: value == wanted,
    "PREFIX_NOT_EQUALS": lambda value, wanted: value.startswith(wanted),
    "NOT_CONTAINS": lambda value, wanted: wanted in value,
}
NEGATIVE = frozenset({"NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"})
STRING_COMPARISONS = frozenset(_TESTS)
MAP_COMPARISONS = frozenset({"EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"})


# -- filters ----------------------------------------------------------------------------------------
def compile_filters(filters: Any, now: datetime) -> Predicate:
    """One predicate for the whole `Filters` object; raises InvalidInputException for what Security Hub refuses."""
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise invalid_input("Filters must be an object")
    used = {key: value for key, value in filters.items() if value}
    if len(used) > MAX_FIELDS:
        raise invalid_input(f"Filters may use at most {MAX_FIELDS} finding attributes; got {len(used)}")
    predicates = [_compile_field(key, value, now) for key, value in used.items()]
    if len(predicates) == 1:
        return predicates[0]

    def matches(finding: Finding) -> bool:
        for predicate in predicates:  # noqa: SIM110 -- a third faster than all() over a generator, on every finding
            if not predicate(finding):
                return False
        return True

    return matches


def _compile_field(key: str, filters: Any, now: datetime) -> Predicate:
    field = FIELDS.get(key)
    if field is None:
        raise invalid_input(f"Filter key {key!r} is not supported by the Security Hub simulator")
    if not isinstance(filters, list) or not all(isinstance(item, dict) for item in filters):
        raise invalid_input(f"Filters.{key} must be a list of filter objects")
    if len(filters) > MAX_FILTERS_PER_FIELD:
        raise invalid_input(f"Filters.{key} has {len(filters)} values; at most {MAX_FILTERS_PER_FIELD} are allowed")
    if field.kind in ("string", "map"):
        return _compile_comparisons(key, field, filters)
    tests = [_SCALAR_COMPILERS[field.kind](key, item, now) for item in filters]
    extract = field.extract

    def any_test(finding: Finding) -> bool:
        values = extract(finding)
        return any(test(value) for test in tests for value in values)

    return any_test


def _compile_comparisons(key: str, field: Field, filters: list[dict[str, Any]]) -> Predicate:
    is_map = field.kind == "map"
    allowed = MAP_COMPARISONS if is_map else STRING_COMPARISONS
    comparisons = set()
    positives: list[Callable[[Any], bool]] = []
    negatives: list[Callable[[Any], bool]] = []
    for item in filters:
        comparison, wanted = item.get("Comparison"), item.get("Value")
        if comparison == "CONTAINS_WORD":
            raise invalid_input(f"Filters.{key}: CONTAINS_WORD works only with the V2 APIs")
        if comparison not in allowed:
            raise invalid_input(f"Filters.{key}: Comparison must be one of {', '.join(sorted(allowed))}")
        if not isinstance(wanted, str) or not wanted.strip():
            raise invalid_input(f"Filters.{key}: Value must be a non-empty string")
        comparisons.add(comparison)
        test = _TESTS[comparison]
        if is_map:
            map_key = item.get("Key")
            if not isinstance(map_key, str) or not map_key.strip():
                raise invalid_input(f"Filters.{key}: Key must be a non-empty string")
            check = _map_test(test, map_key, wanted)
        else:
            check = _string_test(test, wanted)
        (negatives if comparison in NEGATIVE else positives).append(check)
    _check_combination(key, comparisons)
    get = field.get
    if get is not None and not is_map:
        if comparisons == {"EQUALS"}:  # the common case, made cheap: a set lookup
            values = {item["Value"] for item in filters}

            def equals_any(finding: Finding) -> bool:
                value = get(finding)
                return type(value) is str and value in values

            return equals_any

        def matches_one(finding: Finding) -> bool:
            value = get(finding)
            if positives and not any(check(value) for check in positives):
                return False
            return not any(check(value) for check in negatives)

        return matches_one
    extract = field.extract

    def matches(finding: Finding) -> bool:
        values = extract(finding)
        if positives and not any(check(value) for check in positives for value in values):
            return False
        return not any(check(value) for check in negatives for value in values)

    return matches


def _string_test(test: Callable[[str, str], bool], wanted: str) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and test(value, wanted)


def _map_test(test: Callable[[str, str], bool], map_key: str, wanted: str) -> Callable[[Any], bool]:
    def check(fields: Any) -> bool:
        value = fields.get(map_key) if type(fields) is dict else None
        return isinstance(value, str) and test(value, wanted)

    return check


def _check_combination(key: str, comparisons: set[str]) -> None:
    for only in ("CONTAINS", "NOT_CONTAINS"):
        if only in comparisons and comparisons != {only}:
            raise invalid_input(f"Filters.{key}: {only} filters can only be combined with other {only} filters")
    if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise invalid_input(f"Filters.{key}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS")


def _number_test(key: str, item: dict[str, Any], now: datetime) -> Callable[[Any], bool]:
    bounds = {name: item[name] for name in ("Gte", "Lte", "Eq", "Gt", "Lt") if name in item}
    if not bounds or any(isinstance(v, bool) or not isinstance(v, int | float) for v in bounds.values()):
        raise invalid_input(f"Filters.{key}: a number filter needs numeric Gte, Lte, Eq, Gt or Lt")
    unknown = set(item) - set(bounds)
    if unknown:
        raise invalid_input(f"Filters.{key}: unknown number filter member {sorted(unknown)[0]!r}")
    checks = {
        "Gte": lambda v, b: v >= b,
        "Lte": lambda v, b: v <= b,
        "Eq": lambda v, b: v == b,
        "Gt": lambda v, b: v > b,
        "Lt": lambda v, b: v < b,
    }

    def test(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(checks[name](value, bound) for name, bound in bounds.items())

    return test


def _date_test(key: str, item: dict[str, Any], now: datetime) -> Callable[[Any], bool]:
    if "DateRange" in item:
        if "Start" in item or "End" in item:
            raise invalid_input(f"Filters.{key}: use either Start/End or DateRange, not both")
        date_range = item["DateRange"]
        days, unit = date_range.get("Value"), date_range.get("Unit", "DAYS")
        comparison = date_range.get("Comparison", "WITHIN")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0 or unit != "DAYS":
            raise invalid_input(f"Filters.{key}: DateRange needs a non-negative Value and Unit DAYS")
        if comparison not in ("WITHIN", "OLDER_THAN"):
            raise invalid_input(f"Filters.{key}: DateRange Comparison must be WITHIN or OLDER_THAN")
        cutoff = now - timedelta(days=days)
        if comparison == "WITHIN":
            return _date_check(lambda moment: moment >= cutoff)
        return _date_check(lambda moment: moment < cutoff)
    if "Start" not in item and "End" not in item:
        raise invalid_input(f"Filters.{key}: a date filter needs Start and/or End, or a DateRange")
    start = _filter_timestamp(key, item.get("Start"))
    end = _filter_timestamp(key, item.get("End"))
    return _date_check(lambda moment: (start is None or moment >= start) and (end is None or moment <= end))


def _date_check(check: Callable[[datetime], bool]) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        try:
            return check(asff.parse_timestamp(value))
        except (ValueError, TypeError):
            return False

    return test


def _filter_timestamp(key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return asff.parse_timestamp(value)
    except (ValueError, TypeError) as exc:
        raise invalid_input(f"Filters.{key}: {exc}") from None


def _boolean_test(key: str, item: dict[str, Any], now: datetime) -> Callable[[Any], bool]:
    wanted = item.get("Value")
    if not isinstance(wanted, bool):
        raise invalid_input(f"Filters.{key}: a boolean filter needs Value true or false")
    return lambda value: value is wanted


_SCALAR_COMPILERS = {"number": _number_test, "date": _date_test, "boolean": _boolean_test}


# -- sorting ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SortCriterion:
    field: str
    descending: bool


def compile_sort(criteria: Any) -> list[SortCriterion]:
    """SortCriteria: scalar filter keys (string, date or number) with SortOrder `asc` (default) or `desc`."""
    if criteria is None:
        return []
    if not isinstance(criteria, list):
        raise invalid_input("SortCriteria must be a list")
    compiled = []
    for item in criteria:
        name = item.get("Field") if isinstance(item, dict) else None
        field = FIELDS.get(name) if isinstance(name, str) else None
        if field is None or field.kind not in ("string", "date", "number"):
            raise invalid_input(f"SortCriteria Field {name!r} is not a sortable finding attribute")
        order = item.get("SortOrder", "asc")
        if order not in ("asc", "desc"):
            raise invalid_input("SortOrder must be asc or desc")
        compiled.append(SortCriterion(name, order == "desc"))
    return compiled


def sort_values(finding: Finding, criteria: list[SortCriterion]) -> list[str | float | None]:
    """The finding's values for each criterion (first value of a list; dates as epoch seconds; None if absent)."""
    values: list[str | float | None] = []
    for criterion in criteria:
        field = FIELDS[criterion.field]
        found = field.extract(finding)
        value: str | float | None = None
        if found:
            if field.kind == "date":
                try:
                    value = asff.parse_timestamp(found[0]).timestamp()
                except (ValueError, TypeError):
                    value = None
            elif field.kind == "number":
                value = float(found[0]) if isinstance(found[0], int | float) else None
            else:
                value = found[0] if isinstance(found[0], str) else None
        values.append(value)
    return values


def compare(left: list[Any], right: list[Any], criteria: list[SortCriterion]) -> int:
    """Order two sort-value lists; absent values come last in either direction, as in Security Hub's search."""
    for a, b, criterion in zip(left, right, criteria, strict=True):
        if a == b:
            continue
        if a is None:
            return 1
        if b is None:
            return -1
        result = -1 if a < b else 1
        return -result if criterion.descending else result
    return 0
