"""OCSF parsing (the new Security Hub): the classes Security Hub emits read into the same `Finding` as ASFF, leniently
across OCSF versions, with clear errors for the findings hubsync cannot use."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from hubsync.adapters.securityhub import asff, ocsf
from hubsync.domain.finding import InvalidFinding, RecordState, Resource, Severity, WorkflowStatus

ACCOUNT = "444455556666"
REGION = "eu-central-1"
CONTROL_PRODUCT = f"arn:aws:securityhub:{REGION}::productv2/aws/securityhub"
PROVIDER_ID = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:security-control/SQS.1/finding/5d2e-77a1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-queue"
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"


def compliance_finding(**changes: Any) -> dict[str, Any]:
    """A failing SQS.1 control as the new Security Hub reports it: the queue's `uid` is its URL, `uid_alt` its ARN."""
    data: dict[str, Any] = {
        "activity_id": 2, "activity_name": "Update", "category_uid": 2, "class_uid": 2003,
        "class_name": "Compliance Finding", "type_uid": 200302, "time": 1767261600000,
        "time_dt": "2026-01-01T10:00:00.000Z", "severity_id": 3, "severity": "Medium", "status_id": 1, "status": "New",
        "metadata": {
            "version": "1.6.0", "profiles": ["cloud", "datetime"], "uid": "a1" * 32,
            "product": {"name": "Security Hub", "vendor_name": "AWS", "uid": CONTROL_PRODUCT},
        },
        "cloud": {"provider": "AWS", "region": REGION, "account": {"uid": ACCOUNT, "name": "orders-prod"}},
        "finding_info": {
            "uid": PROVIDER_ID, "title": "SQS queues should be encrypted at rest",
            "desc": "This control checks whether an Amazon SQS queue is encrypted at rest.",
            "types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "created_time_dt": "2025-12-20T08:00:00.000Z", "first_seen_time_dt": "2025-12-20T07:59:00.000Z",
            "modified_time": 1767261600000, "modified_time_dt": "2026-01-01T10:00:00.000Z",
        },
        "compliance": {"control": "SQS.1", "status": "Fail", "status_id": 3, "standards": [FSBP]},
        "resources": [{
            "type": "AWS::SQS::Queue", "uid": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-queue",
            "uid_alt": QUEUE_ARN, "region": REGION, "cloud_partition": "aws",
            "tags": [{"name": "team", "value": "orders"}],
        }],
        "remediation": {"desc": "Consult the Security Hub controls documentation.",
                        "references": ["https://docs.aws.amazon.com/console/securityhub/SQS.1/remediation"]},
        "vendor_attributes": {"severity": "Medium", "severity_id": 3},
    }
    data.update(changes)
    return data


def detection_finding(**changes: Any) -> dict[str, Any]:
    """A GuardDuty detection: no compliance, an access key for a resource, no description."""
    data: dict[str, Any] = {
        "activity_id": 2, "class_uid": 2004, "class_name": "Detection Finding", "count": 7,
        "severity_id": 5, "severity": "Critical", "status_id": 1, "status": "New",
        "metadata": {"version": "1.6.0", "uid": "b2" * 32, "product": {
            "name": "GuardDuty", "vendor_name": "AWS",
            "uid": f"arn:aws:securityhub:{REGION}::productv2/aws/guardduty"}},
        "cloud": {"provider": "AWS", "region": REGION, "account": {"uid": ACCOUNT}},
        "finding_info": {
            "uid": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d1/finding/f1", "uid_alt": "f1",
            "title": "Credentials of an EC2 instance were used from an outside address.",
            "types": ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"],
            "first_seen_time_dt": "2026-01-02T03:04:05.000Z", "modified_time_dt": "2026-01-02T04:00:00.000Z",
        },
        "resources": [{"type": "AWS::IAM::AccessKey", "uid": "ASIAEXAMPLE0000", "name": "web-role",
                       "region": REGION, "data": {"user_type": "AssumedRole"}}],
        "vendor_attributes": {"severity": "Critical", "severity_id": 5},
    }
    data.update(changes)
    return data


def vulnerability_finding(**changes: Any) -> dict[str, Any]:
    """An Inspector package vulnerability: epoch-millisecond times only, an EC2 instance by its ARN."""
    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc"
    data: dict[str, Any] = {
        "activity_id": 1, "class_uid": 2002, "class_name": "Vulnerability Finding", "severity_id": 4,
        "status_id": 2, "status": "In Progress", "comment": "Patch planned for the next window",
        "metadata": {"version": "1.8.0", "uid": "c3" * 32, "product": {
            "name": "Inspector", "vendor_name": "AWS", "uid": f"arn:aws:securityhub:{REGION}::productv2/aws/inspector",
            "feature": {"uid": "AWSInspector"}}},
        "cloud": {"region": REGION, "account": {"uid": ACCOUNT}},
        "finding_info": {"uid": f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/9f", "title": "CVE-2025-0001 - openssl",
                         "desc": "A flaw in openssl.", "created_time": 1767225600000, "modified_time": 1767312000000},
        "vulnerabilities": [{"cve": {"uid": "CVE-2025-0001", "cvss": [{"base_score": 8.1}]}, "is_fix_available": True}],
        "resources": [{"type": "AWS::EC2::Instance", "uid": instance, "region": REGION}],
        "remediation": {"desc": "Upgrade openssl to 3.0.16."},
    }
    data.update(changes)
    return data


def changed(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with the value at a dotted path replaced (or removed, for `...`)."""
    result = copy.deepcopy(data)
    *parents, last = path.split(".")
    inner = result
    for name in parents:
        inner = inner[name]
    if value is ...:
        del inner[last]
    else:
        inner[last] = value
    return result


def test_failing_control_finding():
    finding = ocsf.parse_finding(compliance_finding())

    assert (finding.id, finding.product_arn, finding.account_id, finding.region) == (
        "a1" * 32, CONTROL_PRODUCT, ACCOUNT, REGION)
    assert (finding.title, finding.product_name, finding.company_name, finding.account_name) == (
        "SQS queues should be encrypted at rest", "Security Hub", "AWS", "orders-prod")
    assert (finding.severity, finding.workflow_status, finding.record_state) == (
        Severity.MEDIUM, WorkflowStatus.NEW, RecordState.ACTIVE)
    assert (finding.compliance_status, finding.security_control_id, finding.standards) == ("FAILED", "SQS.1", (FSBP,))
    assert finding.generator_id == "security-control/SQS.1"
    assert finding.resources == (Resource("AWS::SQS::Queue", QUEUE_ARN, REGION, "aws"),)
    assert finding.created_at == datetime(2025, 12, 20, 8, 0, tzinfo=UTC)
    assert finding.updated_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert finding.remediation_url == "https://docs.aws.amazon.com/console/securityhub/SQS.1/remediation"
    assert finding.remediation_text == "Consult the Security Hub controls documentation."
    assert (finding.note_text, finding.note_updated_by, finding.user_defined_fields) == (None, None, {})
    assert finding.is_live


def test_the_ocsf_twin_of_a_cspm_control_finding_shares_its_secondary_key_but_not_its_key():
    twin = asff.parse_finding({
        "SchemaVersion": "2018-10-08", "Id": PROVIDER_ID,
        "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/securityhub",
        "GeneratorId": "security-control/SQS.1", "AwsAccountId": ACCOUNT, "CreatedAt": "2025-12-20T08:00:00Z",
        "UpdatedAt": "2026-01-01T10:00:00Z", "Severity": {"Label": "MEDIUM"}, "Title": "SQS queues should be encrypted",
        "Description": "...", "Compliance": {"Status": "FAILED", "SecurityControlId": "SQS.1"},
        "Resources": [{"Type": "AwsSqsQueue", "Id": QUEUE_ARN, "Region": REGION}],
    })

    finding = ocsf.parse_finding(compliance_finding())

    assert finding.secondary_key == twin.secondary_key == f"SQS.1|{QUEUE_ARN}|{ACCOUNT}"
    assert finding.key != twin.key
    assert finding.generator_id == twin.generator_id


def test_detection_finding_has_no_compliance_and_is_live():
    finding = ocsf.parse_finding(detection_finding())

    assert (finding.product_name, finding.severity, finding.compliance_status, finding.security_control_id) == (
        "GuardDuty", Severity.CRITICAL, None, None)
    assert finding.description == ""
    assert finding.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # first seen, as it has no created time
    assert finding.resources == (Resource("AWS::IAM::AccessKey", "ASIAEXAMPLE0000", REGION),)
    assert finding.secondary_key is None
    assert finding.is_live


def test_vulnerability_finding_with_epoch_millisecond_times():
    finding = ocsf.parse_finding(vulnerability_finding())

    assert (finding.product_name, finding.generator_id, finding.severity) == (
        "Inspector", "AWSInspector", Severity.HIGH)
    assert finding.workflow_status is WorkflowStatus.NOTIFIED
    assert finding.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert finding.updated_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert finding.note_text == "Patch planned for the next window" and finding.note_updated_by is None
    assert (finding.remediation_text, finding.remediation_url) == ("Upgrade openssl to 3.0.16.", None)
    assert finding.is_live


@pytest.mark.parametrize("class_uid", [2001, 2005, 2006, 2007, 2008, 4001])
def test_any_other_class_parses_as_far_as_the_common_fields_go(class_uid):
    finding = ocsf.parse_finding(detection_finding(class_uid=class_uid, class_name="Something New"))

    assert finding.title.startswith("Credentials") and finding.is_live


def test_a_passing_control_is_gone():
    finding = ocsf.parse_finding(compliance_finding(
        status_id=4, status="Resolved", severity_id=1, severity="Informational",
        compliance={"control": "SQS.1", "status": "Pass", "status_id": 1, "standards": [FSBP]},
    ))

    assert (finding.compliance_status, finding.workflow_status, finding.severity) == (
        "PASSED", WorkflowStatus.RESOLVED, Severity.INFORMATIONAL)
    assert not finding.is_live


def test_a_resolved_detection_is_gone_unlike_a_resolved_cspm_finding():
    finding = ocsf.parse_finding(detection_finding(status_id=4, status="Resolved"))

    assert (finding.workflow_status, finding.record_state) == (WorkflowStatus.RESOLVED, RecordState.ACTIVE)
    assert not finding.is_live
    cspm = asff.parse_finding({**_asff_minimal(), "Workflow": {"Status": "RESOLVED"}})
    assert cspm.workflow_status is WorkflowStatus.RESOLVED and cspm.is_live


@pytest.mark.parametrize(
    ("changes", "workflow"),
    [({"status_id": 5, "status": "Archived"}, WorkflowStatus.RESOLVED),
     ({"activity_id": 3, "activity_name": "Close"}, WorkflowStatus.NEW),
     ({"status_id": 99, "status": "Archived"}, WorkflowStatus.RESOLVED)],
    ids=["archived", "closed", "archived by its label"],
)
def test_archived_or_closed_findings_are_archived_records(changes, workflow):
    finding = ocsf.parse_finding(detection_finding(**changes))

    assert (finding.workflow_status, finding.record_state) == (workflow, RecordState.ARCHIVED)
    assert not finding.is_live


@pytest.mark.parametrize(
    ("status_id", "status", "workflow"),
    [(0, None, WorkflowStatus.NEW), (1, "New", WorkflowStatus.NEW), (2, "In Progress", WorkflowStatus.NOTIFIED),
     (3, "Suppressed", WorkflowStatus.SUPPRESSED), (4, "Resolved", WorkflowStatus.RESOLVED),
     (99, "Other", WorkflowStatus.NEW), (99, "Suppressed", WorkflowStatus.SUPPRESSED),
     (None, "In Progress", WorkflowStatus.NOTIFIED), (None, None, WorkflowStatus.NEW),
     (4, "Suppressed", WorkflowStatus.RESOLVED), (42, None, WorkflowStatus.NEW)],
)
def test_workflow_by_status_id_then_by_its_label(status_id, status, workflow):
    data = {key: value for key, value in detection_finding(status_id=status_id, status=status).items()
            if value is not None}

    assert ocsf.parse_finding(data).workflow_status is workflow


@pytest.mark.parametrize(
    ("severity_id", "severity", "vendor", "expected"),
    [(1, None, {}, Severity.INFORMATIONAL), (2, None, {}, Severity.LOW), (3, None, {}, Severity.MEDIUM),
     (4, "Low", {}, Severity.HIGH), (5, None, {}, Severity.CRITICAL), (6, "Fatal", {}, Severity.CRITICAL),
     (0, "High", {}, Severity.HIGH), (99, "Other", {"severity_id": 2}, Severity.LOW),
     (99, None, {"severity": "medium"}, Severity.MEDIUM), (None, None, {}, Severity.INFORMATIONAL),
     (0, "Unknown", {"severity_id": 0}, Severity.INFORMATIONAL)],
)
def test_severity_by_id_then_label_then_the_providers_own(severity_id, severity, vendor, expected):
    data = detection_finding(severity_id=severity_id, severity=severity, vendor_attributes=vendor)
    data = {key: value for key, value in data.items() if value is not None}

    assert ocsf.parse_finding(data).severity is expected


@pytest.mark.parametrize(
    ("compliance", "status"),
    [({"status_id": 1}, "PASSED"), ({"status_id": 2, "status": "Warning"}, "WARNING"),
     ({"status_id": 3}, "FAILED"), ({"status": "Fail"}, "FAILED"), ({"status_id": 0, "status": "pass"}, "PASSED"),
     ({"status_id": 99}, "NOT_AVAILABLE"), ({}, "NOT_AVAILABLE")],
)
def test_compliance_status_by_id_then_by_label(compliance, status):
    assert ocsf.parse_finding(compliance_finding(compliance=compliance)).compliance_status == status


@pytest.mark.parametrize(
    ("resource", "resource_id"),
    [({"uid": "policy-id-1", "uid_alt": f"arn:aws:iam::{ACCOUNT}:policy/ops"}, f"arn:aws:iam::{ACCOUNT}:policy/ops"),
     ({"uid": "arn:aws:s3:::logs", "uid_alt": "logs"}, "arn:aws:s3:::logs"),
     ({"uid": "i-0abc"}, "i-0abc"),
     ({"name": "web-role"}, "web-role"),
     ({"uid": "", "uid_alt": "not-an-arn", "name": "by-name"}, "by-name")],
    ids=["uid_alt is the ARN", "uid is the ARN", "uid only", "name only", "neither an ARN nor a uid"],
)
def test_resource_id_is_its_arn_where_ocsf_gives_one(resource, resource_id):
    finding = ocsf.parse_finding(compliance_finding(resources=[{"type": "AWS::IAM::Policy", **resource}]))

    assert finding.resources[0].id == resource_id


@pytest.mark.parametrize("version", ["1.5.0", "1.6.0", "1.7.0", "1.8.0", "1.9.0", "2.0.0-rc.1"])
def test_the_ocsf_version_is_not_pinned(version):
    data = changed(compliance_finding(), "metadata.version", version)
    data["finding_info"]["something_added_in_a_later_version"] = {"nested": [1, 2]}
    data["unmapped"] = {"x": "y"}

    assert ocsf.parse_finding(data).security_control_id == "SQS.1"


def test_without_a_version_at_all_or_optional_parts():
    data = changed(detection_finding(), "metadata.version", ...)
    for optional in ("resources", "vendor_attributes", "severity_id", "severity", "status_id", "status"):
        del data[optional]
    data["cloud"] = {"account": {"uid": ACCOUNT}}  # no region: the product's ARN names one

    finding = ocsf.parse_finding(data)

    assert (finding.region, finding.resources, finding.severity, finding.workflow_status) == (
        REGION, (), Severity.INFORMATIONAL, WorkflowStatus.NEW)


def test_the_event_time_stands_in_for_a_missing_modified_time():
    data = changed(compliance_finding(), "finding_info.modified_time", ...)
    data = changed(data, "finding_info.modified_time_dt", ...)

    assert ocsf.parse_finding(data).updated_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


HOSTILE = [
    "<script>alert(1)</script>", "{{jira:macro}} [link|javascript:alert(1)] *bold* h1. x", "\x00\x1b[31m\u202e",
    "'; DROP TABLE links; --", "\U0001f4a3" * 50, "x" * 100_000, "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_kept_as_text(text):
    data = compliance_finding(comment=text)
    data["finding_info"]["title"] = text
    data["finding_info"]["desc"] = text
    data["finding_info"]["types"] = [text]
    data["resources"][0]["type"] = text
    data["metadata"]["product"]["name"] = text

    finding = ocsf.parse_finding(data)

    assert (finding.title, finding.description, finding.note_text, finding.product_name) == (text, text, text, text)
    assert finding.types == (text,) and finding.resources[0].type == text


def test_missing_and_malformed_fields_are_all_named_at_once():
    data = changed(compliance_finding(), "metadata.uid", ...)
    data = changed(data, "cloud.account.uid", "12345")
    data = changed(data, "finding_info.title", ...)
    data = changed(data, "finding_info.created_time_dt", "yesterday")
    data["severity_id"] = "4"
    data["status_id"] = True
    data["compliance"]["standards"] = "not a list"
    data["resources"] = [{"type": "AWS::S3::Bucket"}, {"uid": 7}]
    data["comment"] = {"text": "not a string"}

    with pytest.raises(InvalidFinding) as raised:
        ocsf.parse_finding(data)

    lines = str(raised.value)
    for expected in (
        "metadata.uid: Missing data for required field.",
        "cloud.account.uid: an AWS account id is 12 digits",
        "finding_info.title: Missing data for required field.",
        "finding_info.created_time_dt: Not a valid datetime.",
        "severity_id: Not a valid integer.",
        "status_id: Not a valid integer.",
        "compliance.standards: Not a valid list.",
        "resources[0].uid: a resource needs a uid_alt, a uid or a name",
        "resources[1].uid: Not a valid string.",
        "comment: Not a valid string.",
    ):
        assert expected in lines
    assert set(raised.value.messages) == {
        "metadata", "cloud", "finding_info", "severity_id", "status_id", "compliance", "resources", "comment"}


@pytest.mark.parametrize(
    ("path", "message"),
    [("metadata", "metadata: Missing data for required field."),
     ("metadata.product", "metadata.product: Missing data for required field."),
     ("cloud", "cloud: Missing data for required field."),
     ("finding_info", "finding_info: Missing data for required field.")],
)
def test_each_part_hubsync_needs_is_required(path, message):
    with pytest.raises(InvalidFinding) as raised:
        ocsf.parse_finding(changed(compliance_finding(), path, ...))

    assert message in str(raised.value)


def test_a_finding_without_any_modified_time_is_refused():
    data = compliance_finding()
    for name in ("time", "time_dt"):
        del data[name]
    for name in ("modified_time", "modified_time_dt"):
        del data["finding_info"][name]

    with pytest.raises(InvalidFinding, match="finding_info: missing: a finding needs modified_time_dt"):
        ocsf.parse_finding(data)


def test_an_epoch_time_out_of_range_is_refused():
    with pytest.raises(InvalidFinding, match=r"finding_info\.modified_time: not a time in milliseconds"):
        ocsf.parse_finding(changed(vulnerability_finding(), "finding_info.modified_time", 10**30))


def test_a_finding_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidFinding, match="must be a JSON object"):
        ocsf.parse_finding(["not", "a", "finding"])  # type: ignore[arg-type]


def _asff_minimal() -> dict[str, Any]:
    return {
        "Id": "third-party/1", "ProductArn": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default",
        "GeneratorId": "g", "AwsAccountId": ACCOUNT, "CreatedAt": "2026-01-01T00:00:00Z",
        "UpdatedAt": "2026-01-01T00:00:00Z", "Severity": {"Label": "HIGH"}, "Title": "t", "Description": "d",
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::b", "Region": REGION}],
    }
