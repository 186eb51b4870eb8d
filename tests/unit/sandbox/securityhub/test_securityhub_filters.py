"""GetFindings filters, sorting and paging with Security Hub's documented semantics (in-process simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hubsync_sandbox.securityhub import Caller, SecurityHubSimulator
from hubsync_sandbox.securityhub.errors import ServiceError
from tests.fixtures.securityhub import (
    ADMIN,
    AGGREGATION_REGION,
    LINKED_REGION,
    OTHER_MEMBER,
    FakeClock,
    SecurityHubSandbox,
    control_finding,
    identifier,
    make_finding,
    new_simulator,
)

CALLER = Caller(ADMIN, AGGREGATION_REGION)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(clock: FakeClock) -> Iterator[SecurityHubSimulator]:
    sim = new_simulator(clock=clock)
    yield sim
    sim.events.stop()


def load(sim: SecurityHubSimulator, *findings: dict[str, Any]) -> None:
    result = sim.batch_import_findings(CALLER, {"Findings": list(findings)})
    assert result["FailedCount"] == 0, result["FailedFindings"]


def titles(sim: SecurityHubSimulator, filters: dict[str, Any] | None = None, **request: Any) -> list[str]:
    """Titles of every matching finding, following NextToken to the end."""
    request = {"Filters": filters or {}, **request}
    seen: list[str] = []
    while True:
        page = sim.get_findings(CALLER, request)
        seen += [finding["Title"] for finding in page["Findings"]]
        if "NextToken" not in page:
            return seen
        request["NextToken"] = page["NextToken"]


def refused(sim: SecurityHubSimulator, filters: dict[str, Any] | None = None, **request: Any) -> str:
    with pytest.raises(ServiceError) as raised:
        sim.get_findings(CALLER, {"Filters": filters or {}, **request})
    assert raised.value.code == "InvalidInputException"
    return raised.value.message


def s(value: str, comparison: str = "EQUALS") -> dict[str, str]:
    return {"Value": value, "Comparison": comparison}


def m(key: str, value: str, comparison: str = "EQUALS") -> dict[str, str]:
    return {"Key": key, "Value": value, "Comparison": comparison}


# -- string filters ---------------------------------------------------------------------------------
def test_string_comparisons_are_exact_and_case_sensitive(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="CloudFront distribution open"), make_finding(Title="cloudfront lowercase"),
         make_finding(Title="S3 bucket public"))
    assert titles(hub, {"Title": [s("S3 bucket public")]}) == ["S3 bucket public"]
    assert titles(hub, {"Title": [s("CloudFront", "PREFIX")]}) == ["CloudFront distribution open"]
    assert titles(hub, {"Title": [s("bucket", "CONTAINS")]}) == ["S3 bucket public"]
    assert titles(hub, {"Title": [s("S3 bucket", "NOT_EQUALS")]}) == [
        "CloudFront distribution open", "cloudfront lowercase", "S3 bucket public"
    ]
    assert titles(hub, {"Title": [s("cloud", "PREFIX_NOT_EQUALS")]}) == ["CloudFront distribution open",
                                                                          "S3 bucket public"]
    assert titles(hub, {"Title": [s("open", "NOT_CONTAINS")]}) == ["cloudfront lowercase", "S3 bucket public"]


def test_positive_filters_on_one_field_are_ored(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="CloudFront open"), make_finding(Title="CloudWatch off"), make_finding(Title="IAM"))
    assert titles(hub, {"Title": [s("CloudFront", "CONTAINS"), s("CloudWatch", "CONTAINS")]}) == [
        "CloudFront open", "CloudWatch off"
    ]
    assert titles(hub, {"Title": [s("IAM"), s("Cloud", "PREFIX")]}) == ["CloudFront open", "CloudWatch off", "IAM"]


def test_negative_filters_on_one_field_are_anded(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="CloudFront open"), make_finding(Title="CloudWatch off"), make_finding(Title="IAM"))
    negatives = [s("CloudFront", "NOT_CONTAINS"), s("CloudWatch", "NOT_CONTAINS")]
    assert titles(hub, {"Title": negatives}) == ["IAM"]


def test_prefix_filters_apply_before_exclusions(hub: SecurityHubSimulator) -> None:
    """The API reference's own example: ResourceType PREFIX AwsIam / AwsEc2, minus two exact types."""
    types = ["AwsIamRole", "AwsIamPolicy", "AwsEc2Instance", "AwsEc2NetworkInterface", "AwsS3Bucket"]
    load(hub, *[make_finding(Title=t, Resources=[{"Type": t, "Id": f"r-{t}"}]) for t in types])
    filters = {"ResourceType": [s("AwsIam", "PREFIX"), s("AwsEc2", "PREFIX"), s("AwsIamPolicy", "NOT_EQUALS"),
                                s("AwsEc2NetworkInterface", "NOT_EQUALS")]}
    assert titles(hub, filters) == ["AwsIamRole", "AwsEc2Instance"]
    filters = {"ResourceType": [s("Aws", "PREFIX"), s("AwsEc2", "PREFIX_NOT_EQUALS")]}
    assert titles(hub, filters) == ["AwsIamRole", "AwsIamPolicy", "AwsS3Bucket"]


@pytest.mark.parametrize(
    ("comparisons", "message"),
    [
        (["CONTAINS", "NOT_CONTAINS"], "CONTAINS filters can only be combined with other CONTAINS filters"),
        (["CONTAINS", "EQUALS"], "CONTAINS filters can only be combined with other CONTAINS filters"),
        (["NOT_CONTAINS", "NOT_EQUALS"], "NOT_CONTAINS filters can only be combined with other NOT_CONTAINS"),
        (["EQUALS", "NOT_EQUALS"], "EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS"),
        (["EQUALS", "PREFIX_NOT_EQUALS"], "EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS"),
        (["CONTAINS_WORD"], "CONTAINS_WORD works only with the V2 APIs"),
    ],
)
def test_forbidden_combinations_are_errors(hub: SecurityHubSimulator, comparisons: list[str], message: str) -> None:
    assert message in refused(hub, {"Title": [s("x", comparison) for comparison in comparisons]})


def test_allowed_mixtures_are_not_errors(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="abc"), make_finding(Title="abd"), make_finding(Title="xyz"))
    assert titles(hub, {"Title": [s("xyz"), s("ab", "PREFIX")]}) == ["abc", "abd", "xyz"]
    assert titles(hub, {"Title": [s("ab", "PREFIX"), s("abd", "NOT_EQUALS")]}) == ["abc"]


def test_different_fields_are_anded(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="a", Severity={"Label": "HIGH"}), make_finding(Title="b", Severity={"Label": "LOW"}),
         make_finding(Title="c", Severity={"Label": "HIGH"}, RecordState="ARCHIVED"))
    assert titles(hub, {"SeverityLabel": [s("HIGH")], "RecordState": [s("ACTIVE")]}) == ["a"]


def test_active_and_archived_findings_are_returned_unless_filtered(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="live"), make_finding(Title="gone", RecordState="ARCHIVED"))
    assert titles(hub) == ["live", "gone"]
    assert titles(hub, {"RecordState": [s("ARCHIVED")]}) == ["gone"]


def test_multi_valued_fields_match_any_value_and_exclude_on_any_value(hub: SecurityHubSimulator) -> None:
    two_resources = [{"Type": "AwsS3Bucket", "Id": "bucket-a"}, {"Type": "AwsIamRole", "Id": "role-b"}]
    load(hub, make_finding(Title="both", Resources=two_resources),
         make_finding(Title="bucket only", Resources=[{"Type": "AwsS3Bucket", "Id": "bucket-c"}]),
         make_finding(Title="typed", Types=["Effects/Data Exposure", "TTPs/Discovery"]))
    assert titles(hub, {"ResourceId": [s("role-b")]}) == ["both"]
    assert titles(hub, {"ResourceType": [s("AwsIamRole", "NOT_EQUALS")]}) == ["bucket only", "typed"]
    assert titles(hub, {"Type": [s("TTPs/Discovery")]}) == ["typed"]


def test_a_missing_field_fails_positive_filters_and_passes_negative_ones(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="guardduty"), control_finding(Title="passed", status="PASSED"),
         control_finding(Title="failed", status="FAILED"))
    assert titles(hub, {"ComplianceStatus": [s("PASSED", "NOT_EQUALS")]}) == ["guardduty", "failed"]
    assert titles(hub, {"ComplianceStatus": [s("FAILED")]}) == ["failed"]


def test_the_filter_keys_a_sync_needs_read_the_right_attributes(hub: SecurityHubSimulator) -> None:
    control = control_finding(Title="control", control_id="Lambda.1",
                              Compliance={"Status": "FAILED", "SecurityControlId": "Lambda.1",
                                          "AssociatedStandards": [{"StandardsId": "standards/nist/v/5"}]})
    elsewhere = make_finding(Title="elsewhere", AwsAccountId=OTHER_MEMBER, Severity={"Label": "LOW"},
                             Resources=[{"Type": "Other", "Id": "x", "Region": LINKED_REGION}])
    load(hub, control)
    hub.batch_import_findings(Caller(ADMIN, LINKED_REGION), {"Findings": [elsewhere]})
    hub.batch_update_findings(CALLER, {"FindingIdentifiers": [identifier(control)], "Workflow": {"Status": "NOTIFIED"},
                                       "Note": {"Text": "ticket SEC-1", "UpdatedBy": "hubsync"},
                                       "VerificationState": "TRUE_POSITIVE"})
    expectations = {
        "Id": control["Id"], "ProductArn": control["ProductArn"], "ProductName": "Security Hub CSPM",
        "CompanyName": "AWS", "AwsAccountId": control["AwsAccountId"], "Region": AGGREGATION_REGION,
        "GeneratorId": "security-control/Lambda.1", "SeverityLabel": "HIGH",
        "ComplianceSecurityControlId": "Lambda.1", "ComplianceAssociatedStandardsId": "standards/nist/v/5",
        "WorkflowStatus": "NOTIFIED", "VerificationState": "TRUE_POSITIVE", "NoteText": "ticket SEC-1",
        "NoteUpdatedBy": "hubsync", "ResourceRegion": AGGREGATION_REGION,
        "Type": "Software and Configuration Checks/Industry and Regulatory Standards",
    }
    for key, value in expectations.items():
        assert titles(hub, {key: [s(value)]}) == ["control"], key


def test_an_unsupported_filter_key_is_refused_by_name(hub: SecurityHubSimulator) -> None:
    assert "'Keyword'" in refused(hub, {"Keyword": [{"Value": "x"}]})
    assert "'NoSuchKey'" in refused(hub, {"NoSuchKey": [s("x")]})


def test_request_size_limits(hub: SecurityHubSimulator) -> None:
    eleven = {key: [s("x")] for key in ["Id", "Title", "Region", "GeneratorId", "AwsAccountId", "ProductArn",
                                         "SeverityLabel", "RecordState", "WorkflowStatus", "NoteText", "Type"]}
    assert "at most 10 finding attributes" in refused(hub, eleven)
    assert "at most 20" in refused(hub, {"Title": [s(str(n)) for n in range(21)]})


def test_malformed_filters_are_refused(hub: SecurityHubSimulator) -> None:
    assert "Comparison" in refused(hub, {"Title": [{"Value": "x"}]})
    assert "Value" in refused(hub, {"Title": [{"Comparison": "EQUALS"}]})
    assert "Key" in refused(hub, {"UserDefinedFields": [{"Value": "x", "Comparison": "EQUALS"}]})


# -- map filters ------------------------------------------------------------------------------------
def test_map_filters_on_user_defined_fields(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="linked", UserDefinedFields={"jiraIssue": "SEC-12", "team": "payments"}),
         make_finding(Title="other ticket", UserDefinedFields={"jiraIssue": "SEC-7"}),
         make_finding(Title="unlinked"))
    assert titles(hub, {"UserDefinedFields": [m("jiraIssue", "SEC-12")]}) == ["linked"]
    assert titles(hub, {"UserDefinedFields": [m("jiraIssue", "SEC-12", "NOT_EQUALS")]}) == ["other ticket", "unlinked"]
    assert titles(hub, {"UserDefinedFields": [m("jiraIssue", "SEC-", "CONTAINS")]}) == ["linked", "other ticket"]
    assert titles(hub, {"UserDefinedFields": [m("jiraIssue", "12", "NOT_CONTAINS"),
                                              m("team", "pay", "NOT_CONTAINS")]}) == ["other ticket", "unlinked"]
    assert titles(hub, {"UserDefinedFields": [m("jiraIssue", "SEC-7"), m("team", "payments")]}) == [
        "linked", "other ticket"
    ]
    assert "EQUALS cannot be combined" in refused(
        hub, {"UserDefinedFields": [m("a", "1"), m("a", "2", "NOT_EQUALS")]}
    )


def test_map_filters_on_resource_tags_and_product_fields(hub: SecurityHubSimulator) -> None:
    tagged = [{"Type": "AwsS3Bucket", "Id": "b1"}, {"Type": "AwsS3Bucket", "Id": "b2", "Tags": {"Env": "prod"}}]
    load(hub, make_finding(Title="prod", Resources=tagged),
         make_finding(Title="dev", Resources=[{"Type": "Other", "Id": "x", "Tags": {"Env": "dev"}}],
                      ProductFields={"aws/inspector/inspectorScore": "9.8"}))
    assert titles(hub, {"ResourceTags": [m("Env", "prod")]}) == ["prod"]
    assert titles(hub, {"ProductFields": [m("aws/inspector/inspectorScore", "9.8")]}) == ["dev"]


# -- number, date and boolean filters ---------------------------------------------------------------
def test_number_filters(hub: SecurityHubSimulator) -> None:
    load(hub, *[make_finding(Title=label, Severity={"Label": label}) for label in ("LOW", "MEDIUM", "CRITICAL")],
         make_finding(Title="confident", Severity={"Label": "INFORMATIONAL"}, Confidence=80))
    assert titles(hub, {"SeverityNormalized": [{"Gte": 40, "Lt": 90}]}) == ["MEDIUM"]
    assert titles(hub, {"SeverityNormalized": [{"Eq": 1}, {"Gt": 89}]}) == ["LOW", "CRITICAL"]
    assert titles(hub, {"Confidence": [{"Lte": 100}]}) == ["confident"]
    assert "number filter" in refused(hub, {"Confidence": [{}]})


def test_date_filters(hub: SecurityHubSimulator, clock: FakeClock) -> None:
    load(hub, make_finding(Title="may", UpdatedAt="2025-05-01T00:00:00Z"),
         make_finding(Title="yesterday", UpdatedAt="2025-05-31T12:00:00.000Z"),
         make_finding(Title="offset", UpdatedAt="2025-06-01T13:30:00+02:00"))
    window = {"Start": "2025-05-01T00:00:00Z", "End": "2025-05-31T12:00:00Z"}
    assert titles(hub, {"UpdatedAt": [window]}) == ["may", "yesterday"]
    assert titles(hub, {"UpdatedAt": [{"DateRange": {"Value": 7, "Unit": "DAYS"}}]}) == ["yesterday", "offset"]
    older = {"DateRange": {"Value": 7, "Unit": "DAYS", "Comparison": "OLDER_THAN"}}
    assert titles(hub, {"UpdatedAt": [older]}) == ["may"]
    clock.advance(10 * 86400)
    assert titles(hub, {"UpdatedAt": [{"DateRange": {"Value": 7, "Unit": "DAYS"}}]}) == []
    assert "timestamp" in refused(hub, {"UpdatedAt": [{"Start": "last week"}]})


def test_boolean_filter_on_sample(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="sample", Sample=True), make_finding(Title="real"))
    assert titles(hub, {"Sample": [{"Value": False}]}) == ["real"]
    assert titles(hub, {"Sample": [{"Value": True}]}) == ["sample"]


# -- sorting and paging -----------------------------------------------------------------------------
def test_sort_criteria_with_absent_values_last(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="b", Confidence=50), make_finding(Title="a", Confidence=50),
         make_finding(Title="c"), make_finding(Title="d", Confidence=90))
    by_confidence = [{"Field": "Confidence", "SortOrder": "desc"}, {"Field": "Title", "SortOrder": "asc"}]
    assert titles(hub, SortCriteria=by_confidence) == ["d", "a", "b", "c"]
    assert titles(hub, SortCriteria=[{"Field": "Confidence"}]) == ["b", "a", "d", "c"]  # ties in import order
    assert titles(hub, SortCriteria=[{"Field": "Title", "SortOrder": "desc"}], MaxResults=1) == ["d", "c", "b", "a"]
    assert "not a sortable" in refused(hub, SortCriteria=[{"Field": "UserDefinedFields"}])


def test_sorting_by_dates_compares_instants_not_text(hub: SecurityHubSimulator) -> None:
    load(hub, make_finding(Title="earlier", UpdatedAt="2025-05-01T10:00:00+02:00"),
         make_finding(Title="later", UpdatedAt="2025-05-01T09:00:00Z"))
    assert titles(hub, SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}]) == ["earlier", "later"]


def test_max_results_bounds(hub: SecurityHubSimulator) -> None:
    assert "MaxResults" in refused(hub, MaxResults=0)
    assert "MaxResults" in refused(hub, MaxResults=101)


def test_pages_cover_every_finding_once(hub: SecurityHubSimulator) -> None:
    load(hub, *[make_finding(Title=f"t{n:02}") for n in range(25)])
    assert titles(hub, MaxResults=7) == [f"t{n:02}" for n in range(25)]
    by_title = [{"Field": "Title", "SortOrder": "desc"}]
    assert titles(hub, MaxResults=4, SortCriteria=by_title) == [f"t{n:02}" for n in reversed(range(25))]


def test_paging_survives_updates_to_what_was_already_returned(hub: SecurityHubSimulator) -> None:
    """The sync pattern: page through NEW findings, marking each page NOTIFIED before asking for the next."""
    findings = [make_finding(Title=f"t{n}") for n in range(6)]
    load(hub, *findings)
    request: dict[str, Any] = {"Filters": {"WorkflowStatus": [s("NEW")]}, "MaxResults": 2}
    seen = []
    while True:
        page = hub.get_findings(CALLER, request)
        seen += [finding["Title"] for finding in page["Findings"]]
        hub.batch_update_findings(CALLER, {"FindingIdentifiers": [identifier(f) for f in page["Findings"]],
                                           "Workflow": {"Status": "NOTIFIED"}})
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert seen == [f"t{n}" for n in range(6)]


def test_bad_tokens_are_refused(hub: SecurityHubSimulator) -> None:
    load(hub, *[make_finding() for _ in range(3)])
    token = hub.get_findings(CALLER, {"MaxResults": 1})["NextToken"]
    assert "NextToken" in refused(hub, NextToken="not-a-token")
    assert "NextToken does not belong" in refused(hub, {"Title": [s("x")]}, NextToken=token)
    assert "NextToken" in refused(hub, NextToken=token + "x")


def test_filters_through_boto3(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    client.batch_import_findings(Findings=[make_finding(Title="keep", Severity={"Label": "CRITICAL"}),
                                           make_finding(Title="drop", Severity={"Label": "LOW"})])
    pages = client.get_paginator("get_findings").paginate(
        Filters={"SeverityLabel": [s("CRITICAL"), s("HIGH")]}, PaginationConfig={"PageSize": 1}
    )
    assert [f["Title"] for page in pages for f in page["Findings"]] == ["keep"]
    with pytest.raises(client.exceptions.InvalidInputException, match="CONTAINS"):
        client.get_findings(Filters={"Title": [s("a", "CONTAINS"), s("b", "NOT_CONTAINS")]})
