"""BatchUpdateFindings: what a customer may change, the per-finding error codes, and what never changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.securityhub import (
    LINKED_REGION,
    MEMBER,
    OTHER_MEMBER,
    FakeClock,
    SecurityHubSandbox,
    identifier,
    make_finding,
)


def imported(sandbox: SecurityHubSandbox, *findings: dict[str, Any], region: str = "us-east-1") -> Any:
    client = sandbox.client(region=region)
    assert client.batch_import_findings(Findings=list(findings))["FailedCount"] == 0
    return client


def current(client: Any, finding: dict[str, Any]) -> dict[str, Any]:
    [found] = client.get_findings(Filters={"Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}]})["Findings"]
    return found


def test_updates_change_customer_fields_and_never_updated_at(securityhub_factory: Any) -> None:
    clock = FakeClock()
    sandbox = securityhub_factory(clock=clock)
    finding = make_finding()
    client = imported(sandbox, finding)
    clock.advance(3600)
    result = client.batch_update_findings(
        FindingIdentifiers=[identifier(finding)],
        Note={"Text": "Ticket SEC-9 created", "UpdatedBy": "hubsync"},
        Workflow={"Status": "NOTIFIED"},
        VerificationState="TRUE_POSITIVE",
        Severity={"Label": "CRITICAL"},
        Confidence=90,
        Criticality=75,
        Types=["Effects/Data Exposure"],
        RelatedFindings=[{"Id": "other", "ProductArn": finding["ProductArn"]}],
    )
    assert result["ProcessedFindings"] == [identifier(finding)]
    assert result["UnprocessedFindings"] == []
    stored = current(client, finding)
    assert stored["Note"] == {"Text": "Ticket SEC-9 created", "UpdatedBy": "hubsync",
                              "UpdatedAt": "2025-06-01T13:00:00.000Z"}
    assert stored["Workflow"] == {"Status": "NOTIFIED"}
    assert stored["VerificationState"] == "TRUE_POSITIVE"
    assert stored["Severity"] == {"Label": "CRITICAL", "Normalized": 90}
    assert (stored["Confidence"], stored["Criticality"]) == (90, 75)
    assert stored["Types"] == ["Effects/Data Exposure"]
    assert stored["RelatedFindings"] == [{"Id": "other", "ProductArn": finding["ProductArn"]}]
    assert stored["UpdatedAt"] == finding["UpdatedAt"]


def test_a_new_note_replaces_the_old_one(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding()
    client = imported(securityhub, finding)
    for text in ("first", "second"):
        client.batch_update_findings(FindingIdentifiers=[identifier(finding)], Note={"Text": text, "UpdatedBy": "me"})
    assert current(client, finding)["Note"]["Text"] == "second"


def test_user_defined_fields_are_merged_key_by_key(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding()
    client = imported(securityhub, finding)
    ids = [identifier(finding)]
    client.batch_update_findings(FindingIdentifiers=ids, UserDefinedFields={"jiraIssue": "SEC-1", "team": "a"})
    client.batch_update_findings(FindingIdentifiers=ids, UserDefinedFields={"jiraIssue": "SEC-2"})
    assert current(client, finding)["UserDefinedFields"] == {"jiraIssue": "SEC-2", "team": "a"}


def test_more_than_50_user_defined_fields_make_that_finding_invalid(securityhub: SecurityHubSandbox) -> None:
    full, roomy = make_finding(UserDefinedFields={f"k{n}": "v" for n in range(50)}), make_finding()
    client = imported(securityhub, full, roomy)
    result = client.batch_update_findings(FindingIdentifiers=[identifier(full), identifier(roomy)],
                                          UserDefinedFields={"one": "more"})
    assert result["ProcessedFindings"] == [identifier(roomy)]
    assert result["UnprocessedFindings"] == [
        {"FindingIdentifier": identifier(full), "ErrorCode": "InvalidInput", "ErrorMessage": "Invalid Input"}
    ]


def test_unknown_and_duplicated_identifiers_are_unprocessed(securityhub: SecurityHubSandbox) -> None:
    finding, twice = make_finding(), make_finding()
    client = imported(securityhub, finding, twice)
    missing = {"Id": "nope", "ProductArn": finding["ProductArn"]}
    wrong_product = {"Id": finding["Id"], "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty"}
    result = client.batch_update_findings(
        FindingIdentifiers=[identifier(finding), missing, wrong_product, identifier(twice), identifier(twice)],
        Workflow={"Status": "RESOLVED"},
    )
    assert result["ProcessedFindings"] == [identifier(finding)]
    assert [(u["FindingIdentifier"], u["ErrorCode"], u["ErrorMessage"]) for u in result["UnprocessedFindings"]] == [
        (missing, "FindingNotFound", "Finding Not Found"),
        (wrong_product, "FindingNotFound", "Finding Not Found"),
        (identifier(twice), "DuplicatedFindingIdentifier", "Finding Identifier is duplicated"),
        (identifier(twice), "DuplicatedFindingIdentifier", "Finding Identifier is duplicated"),
    ]
    assert current(client, twice)["Workflow"] == {"Status": "NEW"}


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"FindingIdentifiers": []}, "FindingIdentifiers must list at least one finding"),
        ({"Workflow": {"Status": "CLOSED"}}, "Workflow.Status must be one of"),
        ({"Severity": {"Label": "SEVERE"}}, "Severity.Label 'SEVERE' is not one of"),
        ({"Confidence": 101}, "Confidence must be an integer from 0 to 100"),
        ({"VerificationState": "MAYBE"}, "VerificationState must be one of"),
        ({"Note": {"Text": "x" * 513, "UpdatedBy": "me"}}, "Note.Text must be 1 to 512 characters"),
        ({"Types": ["Nonsense/Type"]}, "must start with one of the namespaces"),
        ({}, "needs at least one attribute to update"),
    ],
)
def test_invalid_requests_are_refused_whole(
    securityhub: SecurityHubSandbox, request_fields: dict[str, Any], message: str
) -> None:
    finding = make_finding()
    client = imported(securityhub, finding)
    unchecked = securityhub.client(parameter_validation=False)
    with pytest.raises(client.exceptions.InvalidInputException, match=message):
        unchecked.batch_update_findings(**{"FindingIdentifiers": [identifier(finding)], **request_fields})


def test_at_most_100_identifiers(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding()
    client = imported(securityhub, finding)
    identifiers = [{"Id": f"id-{n}", "ProductArn": finding["ProductArn"]} for n in range(101)]
    with pytest.raises(client.exceptions.InvalidInputException, match="at most 100"):
        client.batch_update_findings(FindingIdentifiers=identifiers, Workflow={"Status": "NOTIFIED"})
    result = client.batch_update_findings(FindingIdentifiers=identifiers[:100], Workflow={"Status": "NOTIFIED"})
    assert len(result["UnprocessedFindings"]) == 100


def test_normalized_severity_update_sets_the_label(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding(Severity={"Label": "LOW", "Original": "2"})
    client = imported(securityhub, finding)
    client.batch_update_findings(FindingIdentifiers=[identifier(finding)], Severity={"Normalized": 45})
    assert current(client, finding)["Severity"] == {"Label": "MEDIUM", "Normalized": 45, "Original": "2"}


def test_the_provider_cannot_override_a_severity_the_customer_set(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding(Severity={"Label": "HIGH"}, Confidence=10)
    client = imported(securityhub, finding)
    client.batch_update_findings(FindingIdentifiers=[identifier(finding)], Severity={"Label": "LOW"})
    client.batch_import_findings(Findings=[{**finding, "Severity": {"Label": "CRITICAL"}, "Confidence": 20}])
    stored = current(client, finding)
    assert stored["Severity"]["Label"] == "LOW"
    assert stored["Confidence"] == 20  # the customer never set it, so the provider's value applies


def test_members_update_only_their_own_findings(securityhub: SecurityHubSandbox) -> None:
    mine, theirs = make_finding(), make_finding(AwsAccountId=OTHER_MEMBER)
    imported(securityhub, mine, theirs)
    member = securityhub.client(account_id=MEMBER)
    result = member.batch_update_findings(FindingIdentifiers=[identifier(mine), identifier(theirs)],
                                          Workflow={"Status": "NOTIFIED"})
    assert result["ProcessedFindings"] == [identifier(mine)]
    assert result["UnprocessedFindings"][0]["ErrorCode"] == "FindingNotFound"


def test_a_linked_region_updates_only_its_own_findings(securityhub: SecurityHubSandbox) -> None:
    home, linked = make_finding(), make_finding()
    imported(securityhub, home)
    imported(securityhub, linked, region=LINKED_REGION)
    in_linked = securityhub.client(region=LINKED_REGION)
    result = in_linked.batch_update_findings(FindingIdentifiers=[identifier(home), identifier(linked)],
                                             Workflow={"Status": "NOTIFIED"})
    assert result["ProcessedFindings"] == [identifier(linked)]
    aggregation = securityhub.client()
    result = aggregation.batch_update_findings(FindingIdentifiers=[identifier(home), identifier(linked)],
                                               Workflow={"Status": "RESOLVED"})
    assert len(result["ProcessedFindings"]) == 2
