"""Seed findings: a realistic Security Hub across several accounts and two Regions.

Consolidated and per-standard control findings, GuardDuty and Inspector findings, every severity, some archived,
some passed. Deterministic for a given `random_seed` and `now`, so tests can count on it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
CIS_14 = "standards/cis-aws-foundations-benchmark/v/1.4.0"
NIST = "standards/nist-800-53/v/5.0.0"
REMEDIATION_URL = "https://docs.aws.amazon.com/console/securityhub/{control}/remediation"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    resource_type: str
    standards: tuple[str, ...]
    description: str


CONTROLS = (
    Control("IAM.6", "Hardware MFA should be enabled for the root user", "CRITICAL", "AwsAccount", (FSBP, CIS_14),
            "This control checks whether your AWS account is enabled to use a hardware MFA device to sign in with "
            "root user credentials."),
    Control("Lambda.1", "Lambda function policies should prohibit public access", "CRITICAL", "AwsLambdaFunction",
            (FSBP, NIST), "This control checks whether the Lambda function resource-based policy prohibits public "
            "access outside of your account."),
    Control("EC2.19", "Security groups should not allow unrestricted access to ports with high risk", "CRITICAL",
            "AwsEc2SecurityGroup", (FSBP, NIST), "This control checks whether unrestricted incoming traffic for the "
            "security groups is accessible to the specified ports that have the highest risk."),
    Control("S3.8", "S3 general purpose buckets should block public access", "HIGH", "AwsS3Bucket", (FSBP, CIS_14),
            "This control checks whether an Amazon S3 general purpose bucket blocks public access at the bucket "
            "level."),
    Control("EC2.2", "VPC default security groups should not allow inbound or outbound traffic", "HIGH",
            "AwsEc2SecurityGroup", (FSBP, CIS_14, NIST), "This control checks whether the default security group "
            "of a VPC allows inbound or outbound traffic."),
    Control("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", "HIGH",
            "AwsEc2Instance", (FSBP, NIST), "This control checks whether your EC2 instance metadata version is "
            "configured with Instance Metadata Service Version 2 (IMDSv2)."),
    Control("RDS.3", "RDS DB instances should have encryption at-rest enabled", "MEDIUM", "AwsRdsDbInstance",
            (FSBP, NIST), "This control checks whether storage encryption is enabled for your Amazon RDS DB "
            "instances."),
    Control("KMS.4", "AWS KMS key rotation should be enabled", "MEDIUM", "AwsKmsKey", (CIS_14, NIST),
            "This control checks whether automatic key rotation is enabled for each customer managed key."),
    Control("IAM.3", "IAM users' access keys should be rotated every 90 days or less", "MEDIUM", "AwsIamUser",
            (FSBP, CIS_14), "This control checks whether the active access keys are rotated within 90 days."),
    Control("S3.13", "S3 general purpose buckets should have Lifecycle configurations", "LOW", "AwsS3Bucket",
            (NIST,), "This control checks whether an Amazon S3 general purpose bucket has a Lifecycle "
            "configuration."),
    Control("SQS.1", "Amazon SQS queues should be encrypted at rest", "MEDIUM", "AwsSqsQueue", (FSBP, NIST),
            "This control checks whether an Amazon SQS queue is encrypted at rest."),
    Control("IAM.1", "IAM policies should not allow full \"*\" administrative privileges", "HIGH", "AwsIamPolicy",
            (FSBP, CIS_14), "This control checks whether a customer managed IAM policy grants every action on "
            "every resource."),
)

GUARDDUTY_TYPES = (
    ("Recon:EC2/PortProbeUnprotectedPort", "Unprotected port on EC2 instance is being probed.", 2.0,
     "AwsEc2Instance", "TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
     "Credentials for an EC2 instance role were used from an external IP address.", 8.0, "AwsIamAccessKey",
     "TTPs/Initial Access/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS"),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "EC2 instance is querying a domain name associated with Bitcoin.",
     5.0, "AwsEc2Instance", "Effects/Resource Consumption/CryptoCurrency:EC2-BitcoinTool.B!DNS"),
)

INSPECTOR_CVES = (
    ("CVE-2024-3094", "xz-utils", "CRITICAL", 10.0),
    ("CVE-2023-44487", "nghttp2", "HIGH", 7.5),
    ("CVE-2023-4911", "glibc", "HIGH", 7.8),
    ("CVE-2022-40897", "setuptools", "MEDIUM", 5.9),
    ("CVE-2023-5678", "openssl", "LOW", 3.7),
    ("CVE-2024-0727", "openssl", "INFORMATIONAL", 0.0),
)

NORMALIZED = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}


def seed_findings(
    account_ids: list[str], regions: list[str], now: datetime | None = None, random_seed: int = 7
) -> list[dict[str, Any]]:
    """ASFF findings for `account_ids` across `regions`, ready for BatchImportFindings (in the finding's Region)."""
    rng = random.Random(random_seed)
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    findings: list[dict[str, Any]] = []
    for account_index, account in enumerate(account_ids):
        for region_index, region in enumerate(regions):
            findings.extend(_control_findings(rng, account, region, moment, account_index, region_index))
            findings.extend(_guardduty_findings(rng, account, region, moment, account_index + region_index))
            findings.extend(_inspector_findings(rng, account, region, moment, account_index + region_index))
    return findings


def _control_findings(
    rng: random.Random, account: str, region: str, now: datetime, account_index: int, region_index: int
) -> Iterator[dict[str, Any]]:
    """One consolidated finding per control; the first account in the second Region is per-standard instead."""
    per_standard = account_index == 0 and region_index == 1
    for index, control in enumerate(CONTROLS):
        # Pass some, archive some: a deterministic spread across accounts.
        compliance = "PASSED" if (index + account_index) % 5 == 0 else "FAILED"
        record_state = "ARCHIVED" if (index + account_index + region_index) % 7 == 0 else "ACTIVE"
        resource_id = _resource_id(rng, control.resource_type, account, region)
        standards = control.standards[:1] if per_standard else control.standards
        for standard in standards:
            yield _control_finding(
                rng, control, account, region, now, resource_id, compliance, record_state, standard, per_standard
            )


def _control_finding(
    rng: random.Random,
    control: Control,
    account: str,
    region: str,
    now: datetime,
    resource_id: str,
    compliance: str,
    record_state: str,
    standard: str,
    per_standard: bool,
) -> dict[str, Any]:
    finding_uuid = _uuid(rng)
    standard_path = standard.removeprefix("standards/")
    if per_standard:
        finding_id = (
            f"arn:aws:securityhub:{region}:{account}:subscription/{standard_path}/{control.id}/finding/{finding_uuid}"
        )
        generator_id = f"{standard_path}/{control.id}"
    else:
        finding_id = f"arn:aws:securityhub:{region}:{account}:security-control/{control.id}/finding/{finding_uuid}"
        generator_id = f"security-control/{control.id}"
    first_seen = now - timedelta(days=rng.randint(3, 60), minutes=rng.randint(0, 600))
    updated = now - timedelta(hours=rng.randint(1, 48))
    product_fields = {
        "aws/securityhub/ProductName": "Security Hub",
        "aws/securityhub/CompanyName": "AWS",
        "aws/securityhub/annotation": _annotation(control, compliance),
    }
    if per_standard:
        product_fields.update(
            {
                "ControlId": control.id,
                "StandardsArn": f"arn:aws:securityhub:::{standard}",
                "StandardsControlArn": f"arn:aws:securityhub:{region}:{account}:control/{standard_path}/{control.id}",
                "RecommendationUrl": REMEDIATION_URL.format(control=control.id),
            }
        )
    compliance_block: dict[str, Any] = {"Status": compliance, "SecurityControlId": control.id}
    if not per_standard:
        compliance_block["AssociatedStandards"] = [{"StandardsId": s} for s in control.standards]
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/securityhub",
        "GeneratorId": generator_id,
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": _iso(first_seen),
        "LastObservedAt": _iso(updated),
        "CreatedAt": _iso(first_seen),
        "UpdatedAt": _iso(updated),
        "Severity": {"Label": control.severity, "Normalized": NORMALIZED[control.severity],
                     "Original": control.severity},
        "Title": control.title,
        "Description": control.description,
        "Remediation": {
            "Recommendation": {
                "Text": "For information on how to correct this issue, consult the AWS Security Hub controls "
                "documentation.",
                "Url": REMEDIATION_URL.format(control=control.id),
            }
        },
        "ProductFields": product_fields,
        "Resources": [
            {"Type": control.resource_type, "Id": resource_id, "Partition": "aws", "Region": region}
        ],
        "Compliance": compliance_block,
        "RecordState": record_state,
    }
    if record_state == "ARCHIVED":
        finding["ProductFields"]["ArchivalReasons:0/ReasonCode"] = "RESOURCE_DELETED"
        finding["ProductFields"]["ArchivalReasons:0/Description"] = (
            "The finding is in an ARCHIVED state because the resource was deleted."
        )
    return finding


def _guardduty_findings(
    rng: random.Random, account: str, region: str, now: datetime, offset: int
) -> Iterator[dict[str, Any]]:
    detector = rng.getrandbits(128).to_bytes(16, "big").hex()
    for index, (gd_type, title, severity, resource_type, asff_type) in enumerate(GUARDDUTY_TYPES):
        if (index + offset) % 3 == 2:
            continue  # not every account sees every threat
        finding_hex = rng.getrandbits(128).to_bytes(16, "big").hex()
        seen = now - timedelta(hours=rng.randint(1, 240))
        label = _label_for_guardduty(severity)
        yield {
            "SchemaVersion": "2018-10-08",
            "Id": f"arn:aws:guardduty:{region}:{account}:detector/{detector}/finding/{finding_hex}",
            "ProductArn": f"arn:aws:securityhub:{region}::product/aws/guardduty",
            "GeneratorId": f"arn:aws:guardduty:{region}:{account}:detector/{detector}",
            "AwsAccountId": account,
            "Types": [asff_type],
            "FirstObservedAt": _iso(seen - timedelta(hours=2)),
            "LastObservedAt": _iso(seen),
            "CreatedAt": _iso(seen - timedelta(hours=2)),
            "UpdatedAt": _iso(seen),
            "Severity": {"Label": label, "Normalized": NORMALIZED[label], "Product": severity,
                         "Original": str(severity)},
            "Title": title,
            "Description": f"{title} ({gd_type})",
            "ProductFields": {
                "aws/guardduty/service/archived": "false",
                "aws/guardduty/service/count": str(rng.randint(1, 40)),
                "aws/securityhub/ProductName": "GuardDuty",
                "aws/securityhub/CompanyName": "Amazon",
            },
            "Resources": [
                {"Type": resource_type, "Id": _resource_id(rng, resource_type, account, region),
                 "Partition": "aws", "Region": region}
            ],
            "RecordState": "ACTIVE",
        }


def _inspector_findings(
    rng: random.Random, account: str, region: str, now: datetime, offset: int
) -> Iterator[dict[str, Any]]:
    for index, (cve, package, label, score) in enumerate(INSPECTOR_CVES):
        if (index + offset) % 2 == 1:
            continue
        instance = _resource_id(rng, "AwsEc2Instance", account, region)
        seen = now - timedelta(days=rng.randint(1, 30))
        title = f"{cve} - {package}"
        yield {
            "SchemaVersion": "2018-10-08",
            "Id": f"arn:aws:inspector2:{region}:{account}:finding/{rng.getrandbits(128).to_bytes(16, 'big').hex()}",
            "ProductArn": f"arn:aws:securityhub:{region}::product/aws/inspector",
            "GeneratorId": "AWSInspector",
            "AwsAccountId": account,
            "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
            "FirstObservedAt": _iso(seen),
            "LastObservedAt": _iso(now - timedelta(hours=3)),
            "CreatedAt": _iso(seen),
            "UpdatedAt": _iso(now - timedelta(hours=3)),
            "Severity": {"Label": label, "Normalized": NORMALIZED[label], "Original": label},
            "Title": title,
            "Description": f"A vulnerable version of {package} is installed ({cve}).",
            "Remediation": {"Recommendation": {"Text": f"Upgrade {package} to a fixed version."}},
            "ProductFields": {
                "aws/inspector/FindingStatus": "ACTIVE",
                "aws/inspector/inspectorScore": str(score),
                "aws/securityhub/ProductName": "Inspector",
                "aws/securityhub/CompanyName": "Amazon",
            },
            "Resources": [{"Type": "AwsEc2Instance", "Id": instance, "Partition": "aws", "Region": region}],
            "Vulnerabilities": [
                {
                    "Id": cve,
                    "VulnerablePackages": [{"Name": package, "Version": "1.0.0", "PackageManager": "OS"}],
                    "Cvss": [{"Version": "3.1", "BaseScore": score}],
                    "ReferenceUrls": [f"https://nvd.nist.gov/vuln/detail/{cve}"],
                }
            ],
            "RecordState": "ACTIVE",
        }


def _label_for_guardduty(severity: float) -> str:
    if severity >= 7.0:
        return "HIGH"
    if severity >= 4.0:
        return "MEDIUM"
    return "LOW"


def _annotation(control: Control, compliance: str) -> str:
    if compliance == "PASSED":
        return f"{control.id} is compliant."
    return f"{control.id} failed: the resource does not meet the control's requirement."


def _resource_id(rng: random.Random, resource_type: str, account: str, region: str) -> str:
    suffix = rng.getrandbits(64).to_bytes(8, "big").hex()
    return {
        "AwsAccount": f"AWS::::Account:{account}",
        "AwsLambdaFunction": f"arn:aws:lambda:{region}:{account}:function:orders-{suffix[:6]}",
        "AwsEc2SecurityGroup": f"arn:aws:ec2:{region}:{account}:security-group/sg-{suffix[:17]}",
        "AwsS3Bucket": f"arn:aws:s3:::data-{account}-{suffix[:8]}",
        "AwsEc2Instance": f"arn:aws:ec2:{region}:{account}:instance/i-{suffix[:17]}",
        "AwsRdsDbInstance": f"arn:aws:rds:{region}:{account}:db:orders-{suffix[:6]}",
        "AwsKmsKey": f"arn:aws:kms:{region}:{account}:key/{_uuid(rng)}",
        "AwsIamUser": f"arn:aws:iam::{account}:user/ci-deployer-{suffix[:4]}",
        "AwsIamAccessKey": f"AWS::IAM::AccessKey:ASIA{suffix.upper()}",
        "AwsSqsQueue": f"arn:aws:sqs:{region}:{account}:orders-events-{suffix[:6]}",
        "AwsIamPolicy": f"arn:aws:iam::{account}:policy/deploy-admin-{suffix[:4]}",
    }[resource_type]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
