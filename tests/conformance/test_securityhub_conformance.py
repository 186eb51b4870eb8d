"""The Security Hub simulator answers as botocore's model says, and the checker that guards that can fail."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError
from flask import Flask, Response

from hubsync_sandbox.httpserver import BackgroundServer
from tests.conformance.botocore_shapes import CheckedApp, ShapeChecker
from tests.fixtures.securityhub import MEMBER, SecurityHubSandbox, control_finding, identifier, make_finding

FINDING = {
    "SchemaVersion": "2018-10-08",
    "Id": "f-1",
    "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
    "GeneratorId": "g",
    "AwsAccountId": "111111111111",
    "CreatedAt": "2025-01-01T00:00:00Z",
    "UpdatedAt": "2025-01-01T00:00:00Z",
    "Title": "t",
    "Description": "d",
    "Resources": [{"Type": "Other", "Id": "r"}],
    "Severity": {"Label": "HIGH"},
}


@pytest.fixture(scope="module")
def checker() -> ShapeChecker:
    return ShapeChecker("securityhub")


def check(checker: ShapeChecker, body: object, status: int = 200, method: str = "POST", path: str = "/findings",
          headers: dict[str, str] | None = None) -> str | None:
    return checker.check(method, path, status, headers or {}, json.dumps(body).encode())


def test_a_conforming_page_passes(checker: ShapeChecker) -> None:
    assert check(checker, {"Findings": [FINDING], "NextToken": "abc"}) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"Findings": [{**FINDING, "Severity": {"Label": "SEVERE"}}]},
         "GetFindings 200: Findings[0].Severity.Label 'SEVERE' not in enum"),
        ({"NextToken": "x"}, "GetFindings 200: Findings is required but missing"),
        ({"Findings": [], "Total": 3}, "GetFindings 200: Total is not a member of GetFindingsResponse"),
        ({"Findings": [{k: v for k, v in FINDING.items() if k != "Title"}]},
         "GetFindings 200: Findings[0].Title is required but missing"),
        ({"Findings": [{**FINDING, "Confidence": "high"}]}, "GetFindings 200: Findings[0].Confidence is a string, "
         "not an integer"),
        ({"Findings": [{**FINDING, "Title": "  "}]},
         "GetFindings 200: Findings[0].Title '  ' does not match pattern '.*\\\\S.*'"),
        ({"Findings": {}}, "GetFindings 200: Findings is an object, not a list"),
    ],
)
def test_the_checker_names_the_first_mismatch(checker: ShapeChecker, body: object, problem: str) -> None:
    assert check(checker, body) == problem


def test_ranges_and_timestamps_are_checked(checker: ShapeChecker) -> None:
    finding = {**FINDING, "FindingProviderFields": {"Confidence": 101}}
    assert check(checker, {"Findings": [finding]}) == (
        "GetFindings 200: Findings[0].FindingProviderFields.Confidence 101 is above the maximum 100"
    )
    administrator = {"Administrator": {"AccountId": "1", "InvitedAt": "yesterday"}}
    assert check(checker, administrator, method="GET", path="/administrator") == (
        "GetAdministratorAccount 200: Administrator.InvitedAt 'yesterday' is not an ISO 8601 timestamp"
    )


def test_errors_must_be_declared_with_their_status(checker: ShapeChecker) -> None:
    header = {"x-amzn-ErrorType": "InvalidInputException"}
    assert check(checker, {"Code": "InvalidInputException", "Message": "bad"}, 400, headers=header) is None
    assert check(checker, {"Message": "bad"}, 409, headers=header) == (
        "GetFindings 409: InvalidInputException with status 409, the model says 400"
    )
    conflict = {"x-amzn-ErrorType": "ResourceConflictException"}
    assert check(checker, {"Message": "dup"}, 409, headers=conflict) == (
        "GetFindings 409: error 'ResourceConflictException' is not declared by the operation"
    )
    assert check(checker, {"Message": "x", "Extra": 1}, 400, headers=header) == (
        "GetFindings 400: Extra is not a member of InvalidInputException"
    )
    assert check(checker, {"message": "no code"}, 400) == (
        "GetFindings 400: error without a code (x-amzn-ErrorType header, or Code/__type in the body)"
    )
    throttled = {"x-amzn-ErrorType": "TooManyRequestsException"}
    assert check(checker, {"Message": "Rate exceeded"}, 429, headers=throttled) is None


def test_ocsf_findings_are_free_json_but_the_v2_envelopes_are_checked(checker: ShapeChecker) -> None:
    ocsf = {"class_uid": 2003, "metadata": {"uid": "a" * 64}, "resources": [{"uid": 1}], "anything": None}
    assert check(checker, {"Findings": [ocsf], "NextToken": "n"}, path="/findingsv2") is None
    assert check(checker, {"Findings": "many"}, path="/findingsv2") == (
        "GetFindingsV2 200: Findings is a string, not a list"
    )
    unprocessed = {"MetadataUid": "u", "ErrorCode": "FindingNotFound", "ErrorMessage": "gone"}
    assert check(checker, {"ProcessedFindings": [], "UnprocessedFindings": [unprocessed]}, method="PATCH",
                 path="/findingsv2/batchupdatev2") == (
        "BatchUpdateFindingsV2 200: UnprocessedFindings[0].ErrorCode 'FindingNotFound' not in enum"
    )
    assert check(checker, {"ProcessedFindings": []}, method="PATCH", path="/findingsv2/batchupdatev2") == (
        "BatchUpdateFindingsV2 200: UnprocessedFindings is required but missing"
    )
    invalid = {"x-amzn-ErrorType": "InvalidInputException"}
    assert check(checker, {"Message": "bad"}, 400, path="/findingsv2", headers=invalid) == (
        "GetFindingsV2 400: error 'InvalidInputException' is not declared by the operation"
    )


def test_the_wsgi_wrapper_records_what_a_broken_app_answers(checker: ShapeChecker) -> None:
    broken = Flask("broken")

    @broken.post("/findings")
    def findings() -> Response:
        return Response(json.dumps({"Findings": [{**FINDING, "RecordState": "DELETED"}]}), mimetype="application/json")

    checked = CheckedApp(broken, checker)
    server = BackgroundServer(checked).start()
    try:
        assert requests.post(f"{server.url}/findings", json={}, timeout=5).status_code == 200
    finally:
        server.stop()
    assert checked.mismatches == ["GetFindings 200: Findings[0].RecordState 'DELETED' not in enum"]


def test_every_operation_and_error_of_the_simulator_conforms(securityhub: SecurityHubSandbox) -> None:
    """A tour of what the simulator serves, successes and errors; the fixture checks every response."""
    admin = securityhub.client()
    member = securityhub.client(account_id=MEMBER)
    findings = [make_finding(), control_finding(), make_finding(Note={"Text": "n", "UpdatedBy": "p",
                                                                       "UpdatedAt": "2025-05-01T00:00:00Z"})]
    imported = admin.batch_import_findings(Findings=findings)
    assert imported["SuccessCount"] == 3
    failed = admin.batch_import_findings(Findings=[make_finding(Severity={"Original": "9"})])
    assert failed["FailedFindings"][0]["ErrorCode"] == "InvalidInput"
    admin.batch_update_findings(
        FindingIdentifiers=[identifier(findings[0]), {"Id": "nope", "ProductArn": findings[0]["ProductArn"]}],
        Note={"Text": "hello", "UpdatedBy": "tester"},
        Workflow={"Status": "NOTIFIED"},
        Severity={"Label": "LOW"},
        UserDefinedFields={"jiraIssue": "SEC-1"},
        VerificationState="TRUE_POSITIVE",
        Confidence=80,
        Criticality=50,
        Types=["Effects/Data Exposure"],
        RelatedFindings=[identifier(findings[1])],
    )
    page = admin.get_findings(MaxResults=2, SortCriteria=[{"Field": "Title", "SortOrder": "desc"}])
    admin.get_findings(NextToken=page["NextToken"], SortCriteria=[{"Field": "Title", "SortOrder": "desc"}])
    arn = admin.create_action_target(Name="Send to Jira", Description="Escalate", Id="SendToJira")["ActionTargetArn"]
    admin.describe_action_targets()
    admin.describe_action_targets(ActionTargetArns=[arn], MaxResults=1)
    admin.delete_action_target(ActionTargetArn=arn)
    admin.get_administrator_account()
    member.get_administrator_account()
    admin.describe_hub()
    admin.describe_security_hub_v2()
    admin.batch_import_findings(Findings=[control_finding("EC2.2", status="PASSED")])
    assert securityhub.sim.add_ocsf_twins() == 2  # the control findings' (a custom integration's have none)
    v2_page = admin.get_findings_v2(MaxResults=1, SortCriteria=[{"Field": "severity_id", "SortOrder": "desc"}])
    admin.get_findings_v2(NextToken=v2_page["NextToken"], MaxResults=1,
                          SortCriteria=[{"Field": "severity_id", "SortOrder": "desc"}])
    uid = v2_page["Findings"][0]["metadata"]["uid"]
    admin.batch_update_findings_v2(MetadataUids=[uid, "0" * 64], StatusId=2, SeverityId=3, Comment="SEC-1")
    securityhub.control("POST", "/_sandbox/unprocessed-v2", json={"share": 1, "count": 1})
    admin.batch_update_findings_v2(FindingIdentifiers=[{
        "CloudAccountUid": MEMBER, "FindingInfoUid": findings[1]["Id"],
        "MetadataProductUid": findings[1]["ProductArn"].replace("::product/", "::productv2/")}], StatusId=1)
    securityhub.sim.throttle.configure(True)
    for _ in range(7):
        try:
            admin.get_findings_v2(MaxResults=1)
        except admin.exceptions.ThrottlingException:
            break
    else:
        pytest.fail("GetFindingsV2 was never throttled")
    securityhub.sim.throttle.configure(False)
    errors = [
        lambda: admin.get_findings_v2(NextToken="garbage"),
        lambda: admin.get_findings_v2(Filters={"CompositeFilters": [{"StringFilters": [
            {"FieldName": "Title", "Filter": {"Value": "x", "Comparison": "EQUALS"}}]}]}),
        lambda: member.get_findings_v2(Scopes={"AwsOrganizations": [{"OrganizationId": "o-1"}]}),
        lambda: securityhub.client(region="ap-south-1").get_findings_v2(),
        lambda: securityhub.client(region="ap-south-1").describe_security_hub_v2(),
        lambda: admin.batch_update_findings_v2(MetadataUids=[uid], StatusId=6),
        lambda: admin.get_findings(NextToken="garbage"),
        lambda: admin.get_findings(Filters={"Keyword": [{"Value": "x"}]}),
        lambda: admin.create_action_target(Name="n", Description="d", Id="not alphanumeric!"),
        lambda: admin.delete_action_target(ActionTargetArn=arn),
        lambda: admin.describe_action_targets(ActionTargetArns=[arn]),
        lambda: admin.get_finding_history(FindingIdentifier=identifier(findings[0])),
        lambda: securityhub.client(region="ap-south-1").get_findings(),
    ]
    for call in errors:
        with pytest.raises(ClientError):
            call()
    securityhub.control("POST", "/_sandbox/hubv2", json={"enabled": False})
    with pytest.raises(admin.exceptions.ResourceNotFoundException):
        admin.describe_security_hub_v2()
    with pytest.raises(admin.exceptions.AccessDeniedException):
        admin.get_findings_v2()
    admin.create_action_target(Name="again", Description="d", Id="Again")
    with pytest.raises(admin.exceptions.ResourceConflictException):
        admin.create_action_target(Name="again", Description="d", Id="Again")
    assert securityhub.mismatches == []
