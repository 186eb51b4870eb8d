"""BatchImportFindings: validation per finding, what Security Hub fills in, and upserts keyed on (ProductArn, Id)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.securityhub import (
    LINKED_REGION,
    MEMBER,
    OTHER_MEMBER,
    SecurityHubSandbox,
    control_finding,
    identifier,
    make_finding,
)


def only_finding(client: Any, finding: dict[str, Any]) -> dict[str, Any]:
    found = client.get_findings(Filters={"Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}]})["Findings"]
    assert len(found) == 1
    return found[0]


def without(finding: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in finding.items() if key != name}


def test_security_hub_fills_in_what_it_owns(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client(region=LINKED_REGION)
    finding = make_finding(Severity={"Normalized": 75})
    result = client.batch_import_findings(Findings=[finding])
    assert (result["SuccessCount"], result["FailedCount"], result["FailedFindings"]) == (1, 0, [])
    stored = only_finding(client, finding)
    assert stored["Region"] == LINKED_REGION  # from the caller's SigV4 credential scope
    assert (stored["ProductName"], stored["CompanyName"]) == ("Default", "Personal")
    assert stored["Workflow"] == {"Status": "NEW"}
    assert stored["RecordState"] == "ACTIVE"
    assert stored["Severity"] == {"Normalized": 75, "Label": "HIGH"}
    assert stored["FindingProviderFields"]["Severity"] == {"Label": "HIGH"}
    assert stored["ProcessedAt"].endswith("Z")
    assert stored["UpdatedAt"] == finding["UpdatedAt"]


def test_aws_products_get_their_product_and_company_names(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    guardduty = make_finding(ProductArn="arn:aws:securityhub:us-east-1::product/aws/guardduty",
                             ProductName="Whatever", CompanyName="Someone")
    client.batch_import_findings(Findings=[guardduty, control_finding()])
    assert only_finding(client, guardduty)["ProductName"] == "GuardDuty"
    assert only_finding(client, guardduty)["CompanyName"] == "Amazon"
    names = client.get_findings(Filters={"ProductName": [{"Value": "Security Hub CSPM", "Comparison": "EQUALS"}]})
    assert [f["CompanyName"] for f in names["Findings"]] == ["AWS"]


def test_label_only_severity_gets_its_normalized_value(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    labels = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
    findings = [make_finding(Severity={"Label": label}) for label in labels]
    client.batch_import_findings(Findings=findings)
    assert [only_finding(client, f)["Severity"]["Normalized"] for f in findings] == list(labels.values())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda f: without(f, "Severity"), "Severity needs a Label or a Normalized value"),
        (lambda f: {**f, "Resources": []}, "Resources must list 1 to 32 resources"),
        (lambda f: {**f, "Resources": f["Resources"] * 33}, "Resources must list 1 to 32 resources"),
        (lambda f: {**f, "SchemaVersion": "2020-01-01"}, "SchemaVersion must be '2018-10-08'"),
        (lambda f: {**f, "Title": "x" * 257}, "Title is longer than 256 characters"),
        (lambda f: {**f, "AwsAccountId": "12345"}, "AwsAccountId must be 12 digits"),
        (lambda f: {**f, "ProductArn": "arn:aws:s3:::bucket"}, "ProductArn must look like"),
        (lambda f: {**f, "UpdatedAt": "yesterday"}, "UpdatedAt: 'yesterday' is not an RFC 3339 timestamp"),
        (lambda f: {**f, "Types": ["Made Up/Category"]}, "must start with one of the namespaces"),
        (lambda f: {**f, "Severity": {"Label": "SEVERE"}}, "Severity.Label 'SEVERE' is not one of"),
        (lambda f: {**f, "UserDefinedFields": {f"k{n}": "v" for n in range(51)}}, "at most 50 entries"),
    ],
)
def test_an_invalid_finding_fails_alone(securityhub: SecurityHubSandbox, change: Any, problem: str) -> None:
    client = securityhub.client()
    good, bad = make_finding(), change(make_finding())
    result = client.batch_import_findings(Findings=[good, bad])
    assert (result["SuccessCount"], result["FailedCount"]) == (1, 1)
    [failure] = result["FailedFindings"]
    assert (failure["Id"], failure["ErrorCode"]) == (bad["Id"], "InvalidInput")
    assert problem in failure["ErrorMessage"]


def test_required_attributes_missing_fail_per_finding(securityhub: SecurityHubSandbox) -> None:
    """botocore refuses these client-side, so send them without its parameter validation."""
    client = securityhub.client(parameter_validation=False)
    required = ["SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt",
                "Title", "Description", "Resources"]
    findings = [without(make_finding(), name) for name in required]
    result = client.batch_import_findings(Findings=findings)
    assert result["FailedCount"] == len(required)
    messages = [failure["ErrorMessage"] for failure in result["FailedFindings"]]
    assert messages == [f"missing required attribute {name!r}" for name in required]
    assert result["FailedFindings"][1]["Id"] == "(missing Id)"


def test_batch_size_is_1_to_100(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    with pytest.raises(client.exceptions.InvalidInputException, match="1 to 100"):
        client.batch_import_findings(Findings=[make_finding() for _ in range(101)])
    assert client.batch_import_findings(Findings=[make_finding() for _ in range(100)])["SuccessCount"] == 100


def test_reimport_replaces_provider_fields_and_keeps_customer_fields(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    finding = make_finding(Title="first", ProductFields={"rule": "1"})
    client.batch_import_findings(Findings=[finding])
    client.batch_update_findings(
        FindingIdentifiers=[identifier(finding)], Workflow={"Status": "NOTIFIED"},
        Note={"Text": "SEC-1 opened", "UpdatedBy": "hubsync"}, UserDefinedFields={"jiraIssue": "SEC-1"},
        VerificationState="TRUE_POSITIVE",
    )
    provider_attempt = {
        **finding, "Title": "second", "UpdatedAt": "2025-05-02T00:00:00.000Z", "Workflow": {"Status": "SUPPRESSED"},
        "Note": {"Text": "provider note", "UpdatedBy": "provider", "UpdatedAt": "2025-05-02T00:00:00Z"},
        "UserDefinedFields": {"jiraIssue": "HACK-1"}, "VerificationState": "FALSE_POSITIVE",
    }
    del provider_attempt["ProductFields"]
    client.batch_import_findings(Findings=[provider_attempt])
    stored = only_finding(client, finding)
    assert (stored["Title"], stored["UpdatedAt"]) == ("second", "2025-05-02T00:00:00.000Z")
    assert "ProductFields" not in stored
    assert stored["Workflow"] == {"Status": "NOTIFIED"}
    assert stored["Note"]["Text"] == "SEC-1 opened"
    assert stored["UserDefinedFields"] == {"jiraIssue": "SEC-1"}
    assert stored["VerificationState"] == "TRUE_POSITIVE"
    assert len(client.get_findings()["Findings"]) == 1


def test_a_provider_may_set_customer_fields_only_when_creating(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    finding = make_finding(Workflow={"Status": "NOTIFIED"}, UserDefinedFields={"origin": "scanner"})
    client.batch_import_findings(Findings=[finding])
    stored = only_finding(client, finding)
    assert stored["Workflow"] == {"Status": "NOTIFIED"}
    assert stored["UserDefinedFields"] == {"origin": "scanner"}
    client.batch_import_findings(Findings=[{**finding, "UserDefinedFields": {"origin": "changed"}}])
    assert only_finding(client, finding)["UserDefinedFields"] == {"origin": "scanner"}


def test_the_same_id_under_another_product_is_another_finding(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    first = make_finding(Id="shared-id")
    second = make_finding(Id="shared-id", ProductArn="arn:aws:securityhub:us-east-1::product/aws/inspector")
    client.batch_import_findings(Findings=[first, second])
    assert len(client.get_findings()["Findings"]) == 2


def test_a_member_imports_only_its_own_findings(securityhub: SecurityHubSandbox) -> None:
    member = securityhub.client(account_id=MEMBER)
    result = member.batch_import_findings(Findings=[make_finding(), make_finding(AwsAccountId=OTHER_MEMBER)])
    assert result["SuccessCount"] == 1
    assert "cannot import findings for 333333333333" in result["FailedFindings"][0]["ErrorMessage"]
    admin = securityhub.client()
    outsider = admin.batch_import_findings(Findings=[make_finding(AwsAccountId="999999999999")])
    assert outsider["FailedCount"] == 1


def test_a_raw_request_with_an_unknown_attribute_or_bad_json(securityhub: SecurityHubSandbox) -> None:
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250601/us-east-1/securityhub/aws4_request"}
    result = securityhub.control(
        "POST", "/findings/import", json={"Findings": [{**make_finding(), "Colour": "red"}]}, headers=headers
    ).json()
    assert result["FailedFindings"][0]["ErrorMessage"] == "unknown attribute 'Colour'"
    response = securityhub.control("POST", "/findings/import", data=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidInputException"
    unsigned = securityhub.control("POST", "/findings", json={})
    assert (unsigned.status_code, unsigned.headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")


def test_an_operation_the_simulator_does_not_serve_says_so(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    with pytest.raises(ClientError) as raised:
        client.get_insights()
    error = raised.value.response["Error"]
    assert error["Code"] == "UnknownOperationException"
    assert "does not serve POST /insights/get" in error["Message"]
