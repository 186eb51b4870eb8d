"""GetFindingsV2's filter engine on OCSF findings: each filter type, the operators, and what Security Hub refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hubsync_sandbox.securityhub.errors import ServiceError
from hubsync_sandbox.securityhub.filters_v2 import compile_filters, values_at

NOW = datetime(2025, 12, 10, tzinfo=UTC)
FINDING: dict[str, Any] = {
    "class_uid": 2003, "status_id": 1, "status": "New", "severity_id": 4, "severity": "High",
    "metadata": {"uid": "ab" * 32, "product": {"uid": "arn:aws:securityhub:eu-west-1::productv2/aws/securityhub"}},
    "cloud": {"region": "eu-west-1", "account": {"uid": "111122223333"}},
    "finding_info": {"uid": "arn:aws:securityhub:eu-west-1:111122223333:security-control/S3.8/finding/x",
                     "title": "S3 general purpose buckets should block public access",
                     "modified_time_dt": "2025-12-05T09:20:00.000Z"},
    "compliance": {"control": "S3.8", "status": "Fail", "standards": ["standards/cis", "standards/fsbp"]},
    "resources": [{"type": "AWS::S3::Bucket", "uid": "acme-logs", "tags": [{"name": "team", "value": "payments"}]},
                  {"type": "AWS::SQS::Queue", "uid": "https://sqs.eu-west-1.amazonaws.com/111122223333/q"}],
    "vulnerabilities": [{"is_fix_available": True}],
    "evidences": [{"src_endpoint": {"ip": "203.0.113.9"}}],
}


def composite(**filters: Any) -> dict[str, Any]:
    return {"CompositeFilters": [filters]}


def string(field: str, value: str, comparison: str) -> dict[str, Any]:
    return {"FieldName": field, "Filter": {"Value": value, "Comparison": comparison}}


def matches(filters: dict[str, Any] | None) -> bool:
    return compile_filters(filters, NOW)(FINDING)


def test_values_at_walks_through_lists() -> None:
    assert values_at(FINDING, "resources.type") == ["AWS::S3::Bucket", "AWS::SQS::Queue"]
    assert values_at(FINDING, "compliance.standards") == ["standards/cis", "standards/fsbp"]
    assert values_at(FINDING, "finding_info.nothing") == []


@pytest.mark.parametrize(
    ("strings", "expected"),
    [
        ([string("compliance.control", "S3.8", "EQUALS")], True),
        ([string("compliance.control", "s3.8", "EQUALS")], False),  # case-sensitive
        ([string("compliance.control", "S3", "PREFIX")], True),
        ([string("compliance.control", "EC2.2", "EQUALS"), string("compliance.control", "S3.8", "EQUALS")], True),
        ([string("compliance.control", "S3.8", "NOT_EQUALS")], False),
        ([string("compliance.control", "EC2", "PREFIX_NOT_EQUALS"),
          string("compliance.control", "IAM", "PREFIX_NOT_EQUALS")], True),
        ([string("compliance.control", "EC2", "PREFIX_NOT_EQUALS"),
          string("compliance.control", "S3", "PREFIX_NOT_EQUALS")], False),
        ([string("finding_info.title", "public", "CONTAINS")], True),
        ([string("finding_info.title", "publ", "CONTAINS_WORD")], False),
        ([string("finding_info.title", "public", "CONTAINS_WORD")], True),
        ([string("finding_info.title", "public", "NOT_CONTAINS")], False),
        ([string("resources.type", "AWS::SQS::Queue", "EQUALS")], True),  # any resource
        ([string("resources.type", "AWS::SQS::Queue", "NOT_EQUALS")], False),  # every resource
        # the positive ones on a field are ORed, then ANDed with its negative ones
        ([string("compliance.control", "S3", "PREFIX"), string("compliance.control", "S3.8", "NOT_EQUALS")], False),
        # two fields are ANDed under the default operator
        ([string("compliance.control", "S3.8", "EQUALS"), string("status", "Resolved", "EQUALS")], False),
    ],
)
def test_string_filters(strings: list[dict[str, Any]], expected: bool) -> None:
    assert matches(composite(StringFilters=strings)) is expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"NumberFilters": [{"FieldName": "severity_id", "Filter": {"Gte": 4}}]}, True),
        ({"NumberFilters": [{"FieldName": "severity_id", "Filter": {"Gt": 4}}]}, False),
        ({"NumberFilters": [{"FieldName": "status_id", "Filter": {"Eq": 1}}]}, True),
        ({"NumberFilters": [{"FieldName": "status_id", "Filter": {"Gte": 2, "Lte": 3}}]}, False),
        ({"DateFilters": [{"FieldName": "finding_info.modified_time_dt",
                           "Filter": {"Start": "2025-12-01T00:00:00Z", "End": "2025-12-06T00:00:00Z"}}]}, True),
        ({"DateFilters": [{"FieldName": "finding_info.modified_time_dt", "Filter": {"Start": "2025-12-06T00:00:00Z"}}]},
         False),
        ({"DateFilters": [{"FieldName": "finding_info.modified_time_dt",
                           "Filter": {"DateRange": {"Value": 7, "Unit": "DAYS", "Comparison": "WITHIN"}}}]}, True),
        ({"DateFilters": [{"FieldName": "finding_info.modified_time_dt",
                           "Filter": {"DateRange": {"Value": 7, "Unit": "DAYS", "Comparison": "OLDER_THAN"}}}]}, False),
        ({"DateFilters": [{"FieldName": "finding_info.created_time_dt",
                           "Filter": {"DateRange": {"Value": 7, "Unit": "DAYS", "Comparison": "WITHIN"}}}]}, False),
        ({"BooleanFilters": [{"FieldName": "vulnerabilities.is_fix_available", "Filter": {"Value": True}}]}, True),
        ({"BooleanFilters": [{"FieldName": "vulnerabilities.is_exploit_available", "Filter": {"Value": True}}]}, False),
        ({"MapFilters": [{"FieldName": "resources.tags",
                          "Filter": {"Key": "team", "Value": "payments", "Comparison": "EQUALS"}}]}, True),
        ({"MapFilters": [{"FieldName": "resources.tags",
                          "Filter": {"Key": "team", "Value": "pay", "Comparison": "CONTAINS"}}]}, True),
        ({"MapFilters": [{"FieldName": "resources.tags",
                          "Filter": {"Key": "team", "Value": "payments", "Comparison": "NOT_EQUALS"}}]}, False),
        ({"MapFilters": [{"FieldName": "resources.tags",
                          "Filter": {"Key": "owner", "Value": "payments", "Comparison": "EQUALS"}}]}, False),
        ({"IpFilters": [{"FieldName": "evidences.src_endpoint.ip", "Filter": {"Cidr": "203.0.113.0/24"}}]}, True),
        ({"IpFilters": [{"FieldName": "evidences.src_endpoint.ip", "Filter": {"Cidr": "198.51.100.0/24"}}]}, False),
    ],
)
def test_typed_filters(filters: dict[str, Any], expected: bool) -> None:
    assert matches(composite(**filters)) is expected


FAILING = string("status", "Resolved", "EQUALS")
PASSING = string("compliance.control", "S3.8", "EQUALS")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, True),
        ({"CompositeFilters": []}, True),
        ({"CompositeFilters": [{"StringFilters": [FAILING, PASSING], "Operator": "OR"}]}, True),
        ({"CompositeFilters": [{"StringFilters": [FAILING]}, {"StringFilters": [PASSING]}]}, False),
        ({"CompositeFilters": [{"StringFilters": [FAILING]}, {"StringFilters": [PASSING]}],
          "CompositeOperator": "OR"}, True),
        ({"CompositeFilters": [{"StringFilters": [FAILING], "Operator": "OR",
                                "NestedCompositeFilters": [{"StringFilters": [PASSING]}]}]}, True),
        ({"CompositeFilters": [{"StringFilters": [PASSING],
                                "NestedCompositeFilters": [{"StringFilters": [FAILING]}]}]}, False),
    ],
)
def test_operators_combine_composites(filters: dict[str, Any] | None, expected: bool) -> None:
    assert matches(filters) is expected


def nested(depth: int) -> dict[str, Any]:
    layer: dict[str, Any] = {"StringFilters": [PASSING]}
    for _ in range(depth - 1):
        layer = {"NestedCompositeFilters": [layer]}
    return {"CompositeFilters": [layer]}


@pytest.mark.parametrize(
    "filters",
    [
        composite(StringFilters=[string("Title", "x", "EQUALS")]),  # an ASFF name is no OCSF field
        composite(NumberFilters=[{"FieldName": "status", "Filter": {"Eq": 1}}]),  # a string field as a number
        composite(StringFilters=[string("status", "New", "LIKE")]),
        composite(StringFilters=[string("status", "", "EQUALS")]),
        composite(StringFilters=[string("status", "New", "EQUALS")] * 21),
        {"CompositeFilters": [{"StringFilters": [PASSING]}] * 11},
        {"CompositeFilters": [], "CompositeOperator": "XOR"},
        composite(StringFilters=[PASSING], Operator="NAND"),
        composite(NumberFilters=[{"FieldName": "severity_id", "Filter": {"Eq": "4"}}]),
        composite(NumberFilters=[{"FieldName": "severity_id", "Filter": {"Above": 4}}]),
        composite(DateFilters=[{"FieldName": "finding_info.modified_time_dt", "Filter": {"Start": "yesterday"}}]),
        composite(DateFilters=[{"FieldName": "finding_info.modified_time_dt",
                                "Filter": {"DateRange": {"Value": 7, "Unit": "WEEKS", "Comparison": "WITHIN"}}}]),
        composite(MapFilters=[{"FieldName": "resources.tags", "Filter": {"Key": "team", "Value": "x",
                                                                           "Comparison": "PREFIX"}}]),
        composite(IpFilters=[{"FieldName": "evidences.src_endpoint.ip", "Filter": {"Cidr": "not-an-ip"}}]),
        composite(Keyword=[{"Value": "x"}]),
        {"Filters": []},
        nested(4),
    ],
)
def test_what_security_hub_refuses_is_a_validation_exception(filters: dict[str, Any]) -> None:
    with pytest.raises(ServiceError) as refused:
        compile_filters(filters, NOW)
    assert refused.value.code == "ValidationException"


def test_three_layers_of_nesting_are_allowed() -> None:
    assert matches(nested(3)) is True
