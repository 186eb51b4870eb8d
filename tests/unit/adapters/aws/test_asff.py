"""ASFF parsing: every kind of finding Security Hub hands us, and clear errors for the ones we cannot use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hubsync.adapters.securityhub.asff import parse_finding
from hubsync.domain.finding import InvalidFinding, RecordState, Resource, Severity, WorkflowStatus
from hubsync_sandbox.seed import seed_findings
from tests.fixtures.securityhub import LINKED_REGION, SecurityHubSandbox, control_finding, make_finding

SEED_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"


@pytest.fixture(scope="module")
def seeded() -> list[dict[str, Any]]:
    return seed_findings(["111111111111", "222222222222", "333333333333"], ["us-east-1", "eu-west-1"], SEED_NOW)


def seeded_where(seeded: list[dict[str, Any]], predicate) -> dict[str, Any]:
    return next(finding for finding in seeded if predicate(finding))


def test_every_seed_finding_parses(seeded):
    parsed = [parse_finding(finding) for finding in seeded]

    assert {finding.product_name for finding in parsed} == {"Security Hub", "GuardDuty", "Inspector"}
    assert all(finding.key and finding.region in ("us-east-1", "eu-west-1") for finding in parsed)


def test_consolidated_control_finding(seeded):
    data = seeded_where(seeded, lambda f: f["GeneratorId"] == "security-control/EC2.2")

    finding = parse_finding(data)

    assert finding.security_control_id == "EC2.2"
    assert finding.standards == tuple(s["StandardsId"] for s in data["Compliance"]["AssociatedStandards"])
    assert finding.compliance_status == data["Compliance"]["Status"]
    assert finding.severity is Severity.HIGH
    assert finding.remediation_url == "https://docs.aws.amazon.com/console/securityhub/EC2.2/remediation"
    assert finding.resources[0].type == "AwsEc2SecurityGroup"
    assert finding.secondary_key == f"EC2.2|{data['Resources'][0]['Id']}|{data['AwsAccountId']}"


def test_per_standard_control_finding_takes_its_standard_from_product_fields(seeded):
    data = seeded_where(seeded, lambda f: f["GeneratorId"].startswith("aws-foundational-security-best-practices/"))

    finding = parse_finding(data)

    assert finding.standards == (FSBP,)
    assert finding.security_control_id == data["ProductFields"]["ControlId"]


def test_older_per_standard_finding_without_security_control_id_derives_what_it_can():
    data = control_finding("CloudTrail.2", Compliance={"Status": "FAILED"}, ProductFields={
        "ControlId": "CloudTrail.2",
        "StandardsArn": f"arn:aws:securityhub:::{FSBP}",
        "RecommendationUrl": "https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation",
    })

    finding = parse_finding(data)

    assert finding.security_control_id == "CloudTrail.2"
    assert finding.standards == (FSBP,)
    assert finding.remediation_url.endswith("/CloudTrail.2/remediation")


@pytest.mark.parametrize(
    ("product_fields", "standards"),
    [
        ({"ControlId": "PCI.CloudTrail.1", "StandardsArn": "arn:aws:securityhub:::standards/pci-dss/v/3.2.1"},
         ("standards/pci-dss/v/3.2.1",)),
        ({"RuleId": "2.7", "StandardsGuideArn": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"},
         ("ruleset/cis-aws-foundations-benchmark/v/1.2.0",)),
    ],
    ids=["PCI DSS control id", "CIS 1.2 rule"],
)
def test_standard_specific_control_ids_are_not_taken_for_security_control_ids(product_fields, standards):
    finding = parse_finding(control_finding(Compliance={"Status": "FAILED"}, ProductFields=product_fields))

    assert finding.security_control_id is None
    assert finding.standards == standards


def test_guardduty_finding_has_no_compliance_and_counts_as_failing(seeded):
    data = seeded_where(seeded, lambda f: f["ProductArn"].endswith("/guardduty"))

    finding = parse_finding(data)

    assert finding.product_name == "GuardDuty"
    assert finding.compliance_status is None and finding.security_control_id is None
    assert finding.is_live


def test_inspector_finding_keeps_its_remediation_text(seeded):
    data = seeded_where(seeded, lambda f: f["ProductArn"].endswith("/inspector"))

    finding = parse_finding(data)

    assert finding.remediation_text.startswith("Upgrade ")
    assert finding.remediation_url is None


def test_third_party_import_with_what_only_security_hub_would_add_left_out():
    data = make_finding(Id="scanner-42/finding/7")  # no Region, Workflow, RecordState, ProductName

    finding = parse_finding(data)

    assert finding.region == "us-east-1"  # from the product ARN
    assert finding.workflow_status is WorkflowStatus.NEW
    assert finding.record_state is RecordState.ACTIVE
    assert finding.product_name is None
    assert finding.resources == (Resource("AwsS3Bucket", data["Resources"][0]["Id"], "us-east-1"),)
    assert finding.updated_at == datetime(2025, 5, 1, tzinfo=UTC)


def test_finding_as_the_get_findings_api_returns_it(securityhub: SecurityHubSandbox):
    client = securityhub.client(region=LINKED_REGION)
    client.batch_import_findings(Findings=[make_finding(Id="third-party/1", Severity={"Normalized": 75})])

    [data] = client.get_findings(Filters={"Id": [{"Value": "third-party/1", "Comparison": "EQUALS"}]})["Findings"]
    finding = parse_finding(data)

    assert (finding.region, finding.severity, finding.product_name) == (LINKED_REGION, Severity.HIGH, "Default")


def test_unknown_attributes_are_ignored():
    finding = parse_finding(make_finding(Vulnerabilities=[{"Id": "CVE-1"}], Sample=True, SomethingNew={"a": 1},
                                         Severity={"Label": "LOW", "Original": "3", "Somewhere": 1}))

    assert finding.severity is Severity.LOW


@pytest.mark.parametrize(
    ("normalized", "label"),
    [(0, "INFORMATIONAL"), (1, "LOW"), (39, "LOW"), (40, "MEDIUM"), (69, "MEDIUM"), (70, "HIGH"), (89, "HIGH"),
     (90, "CRITICAL"), (100, "CRITICAL")],
)
def test_severity_from_the_normalized_score_when_there_is_no_label(normalized, label):
    assert parse_finding(make_finding(Severity={"Normalized": normalized})).severity is Severity(label)


def test_the_severity_label_wins_over_the_normalized_score():
    assert parse_finding(make_finding(Severity={"Label": "LOW", "Normalized": 95})).severity is Severity.LOW


def test_customer_fields_hubsync_writes_are_read_back():
    finding = parse_finding(make_finding(
        Workflow={"Status": "SUPPRESSED"},
        Note={"Text": "Risk accepted in SEC-12", "UpdatedBy": "hubsync", "UpdatedAt": "2025-05-02T00:00:00Z"},
        UserDefinedFields={"jiraIssue": "SEC-12"},
        VerificationState="FALSE_POSITIVE",
    ))

    assert finding.workflow_status is WorkflowStatus.SUPPRESSED
    assert (finding.note_text, finding.note_updated_by) == ("Risk accepted in SEC-12", "hubsync")
    assert finding.user_defined_fields == {"jiraIssue": "SEC-12"}
    assert finding.verification_state == "FALSE_POSITIVE"


def test_missing_and_malformed_attributes_are_all_named_at_once():
    data = make_finding(AwsAccountId="12345", Severity={"Label": "SEVERE"}, Resources=[], CreatedAt="yesterday")
    del data["Title"]

    with pytest.raises(InvalidFinding) as raised:
        parse_finding(data)

    message = str(raised.value)
    assert "Title: Missing data for required field." in message
    assert "AwsAccountId: an AWS account id is 12 digits" in message
    assert "Severity.Label: Must be one of: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL." in message
    assert "Resources: at least one resource is required" in message
    assert "CreatedAt: Not a valid datetime." in message
    assert set(raised.value.messages) == {"Title", "AwsAccountId", "Severity", "Resources", "CreatedAt"}


def test_a_severity_with_neither_label_nor_score_is_refused():
    with pytest.raises(InvalidFinding, match="Severity: Label or Normalized is required"):
        parse_finding(make_finding(Severity={"Original": "7"}))


def test_a_finding_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidFinding, match="must be a JSON object"):
        parse_finding(["not", "a", "finding"])  # type: ignore[arg-type]
