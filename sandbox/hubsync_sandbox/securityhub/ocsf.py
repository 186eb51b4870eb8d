"""OCSF findings as the new Security Hub (V2) holds them: the twin a V2-enabled account gets beside each ASFF
finding of an AWS integration, the status and severity vocabularies, and the lifecycle changes of a twin.

A twin is built once from the ASFF finding as stored (so its status follows the CSPM workflow state); from then on
the two records live apart, as they do in AWS: updating one does not update the other. No state, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

Finding = dict[str, Any]

STATUS_NAMES = {0: "Unknown", 1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 99: "Other"}
SEVERITY_NAMES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal",
                  99: "Other"}
ACTIVITY_NAMES = {1: "Create", 2: "Update", 3: "Close"}
SEVERITY_BY_LABEL = {"INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
STATUS_BY_WORKFLOW = {"NEW": 1, "NOTIFIED": 2, "SUPPRESSED": 3, "RESOLVED": 4}
COMPLIANCE_BY_ASFF = {"PASSED": (1, "Pass"), "WARNING": (2, "Warning"), "FAILED": (3, "Fail"),
                      "NOT_AVAILABLE": (0, "Unknown")}
CLASSES = {"securityhub": (2003, "Compliance Finding", "Security Hub"),
           "guardduty": (2004, "Detection Finding", "GuardDuty"),
           "inspector": (2002, "Vulnerability Finding", "Inspector")}
ARCHIVED, CLOSE = 5, 3

# ASFF resource type -> the CloudFormation-style type OCSF findings carry.
RESOURCE_TYPES = {
    "AwsAccount": "AWS::::Account", "AwsLambdaFunction": "AWS::Lambda::Function",
    "AwsEc2SecurityGroup": "AWS::EC2::SecurityGroup", "AwsS3Bucket": "AWS::S3::Bucket",
    "AwsEc2Instance": "AWS::EC2::Instance", "AwsRdsDbInstance": "AWS::RDS::DBInstance", "AwsKmsKey": "AWS::KMS::Key",
    "AwsIamUser": "AWS::IAM::User", "AwsIamAccessKey": "AWS::IAM::AccessKey", "AwsSqsQueue": "AWS::SQS::Queue",
    "AwsIamPolicy": "AWS::IAM::Policy",
}


def v2_product_uid(product_arn: str) -> str:
    """The V2 product of an ASFF ProductArn, as AWS's own tooling derives it."""
    return product_arn.replace("::product/", "::productv2/", 1)


def metadata_uid(product_uid: str, finding_uid: str) -> str:
    """A stable 64-hex id, like Security Hub's, for a finding of a product."""
    return hashlib.sha256(f"{product_uid}\n{finding_uid}".encode()).hexdigest()


def twin_of(asff_finding: Mapping[str, Any]) -> Finding | None:
    """The OCSF twin of an ASFF finding of an AWS integration Security Hub V2 also ingests; None for others."""
    product = asff_finding["ProductArn"].rsplit("/", 1)[-1]
    if f"::product/aws/{product}" not in asff_finding["ProductArn"] or product not in CLASSES:
        return None
    class_uid, class_name, product_name = CLASSES[product]
    region, account = asff_finding["Region"], asff_finding["AwsAccountId"]
    product_uid = v2_product_uid(asff_finding["ProductArn"])
    severity_id = SEVERITY_BY_LABEL[asff_finding["Severity"]["Label"]]
    status_id = STATUS_BY_WORKFLOW[asff_finding["Workflow"]["Status"]]
    archived = asff_finding.get("RecordState") == "ARCHIVED"
    activity_id = CLOSE if archived else 2
    info = _finding_info(asff_finding)
    finding: Finding = {
        "activity_id": activity_id, "activity_name": ACTIVITY_NAMES[activity_id],
        "category_uid": 2, "category_name": "Findings",
        "class_uid": class_uid, "class_name": class_name,
        "type_uid": class_uid * 100 + activity_id, "type_name": f"{class_name}: {ACTIVITY_NAMES[activity_id]}",
        "time": info["modified_time"], "time_dt": info["modified_time_dt"],
        "severity_id": severity_id, "severity": SEVERITY_NAMES[severity_id],
        "status_id": status_id, "status": STATUS_NAMES[status_id],
        "metadata": {"version": "1.6.0", "profiles": ["cloud", "datetime"],
                     "uid": metadata_uid(product_uid, asff_finding["Id"]),
                     "product": {"name": product_name, "vendor_name": "AWS", "uid": product_uid}},
        "cloud": {"provider": "AWS", "region": region,
                  "account": {"uid": account, "type": "AWS Account", "type_id": 10}},
        "finding_info": info,
        "resources": [_resource(resource, account) for resource in asff_finding["Resources"]],
        "vendor_attributes": {"severity": SEVERITY_NAMES[severity_id], "severity_id": severity_id},
    }
    compliance = asff_finding.get("Compliance")
    if class_uid == 2003 and compliance:
        compliance_id, compliance_name = COMPLIANCE_BY_ASFF[compliance["Status"]]
        standards = [item["StandardsId"] for item in compliance.get("AssociatedStandards", ())]
        per_standard = (asff_finding.get("ProductFields") or {}).get("StandardsArn", "")
        if not standards and per_standard:  # a per-standard control finding names its one standard
            standards = [per_standard.split(":::", 1)[-1]]
        finding["compliance"] = {"control": compliance.get("SecurityControlId"), "status": compliance_name,
                                 "status_id": compliance_id, "standards": standards}
        if compliance_id == 1:  # a passing control: Resolved and Informational, whatever the control's severity
            finding.update(status_id=4, status=STATUS_NAMES[4], severity_id=1, severity=SEVERITY_NAMES[1])
    if archived:
        finding.update(status_id=ARCHIVED, status=STATUS_NAMES[ARCHIVED])
    vulnerabilities = asff_finding.get("Vulnerabilities")
    if class_uid == 2002 and vulnerabilities:
        finding["vulnerabilities"] = [_vulnerability(item) for item in vulnerabilities]
    recommendation = (asff_finding.get("Remediation") or {}).get("Recommendation") or {}
    if recommendation:
        finding["remediation"] = {"desc": recommendation.get("Text", ""),
                                  "references": [recommendation["Url"]] if "Url" in recommendation else []}
    return finding


def updated(finding: Mapping[str, Any], status_id: int | None, severity_id: int | None,
            comment: str | None) -> Finding:
    """A customer's BatchUpdateFindingsV2: the ids with their string siblings, and the comment (replaced).
    `finding_info.modified_time` stays: customer updates do not count as the provider's."""
    result = dict(finding)
    if status_id is not None:
        result.update(status_id=status_id, status=STATUS_NAMES[status_id])
    if severity_id is not None:
        result.update(severity_id=severity_id, severity=SEVERITY_NAMES[severity_id])
    if comment is not None:
        result["comment"] = comment
    return result


def archived(finding: Mapping[str, Any], now: datetime) -> Finding:
    """The provider closes the finding (resource deleted, control disabled): activity Close, status Archived."""
    return _provider_change(finding, now, activity_id=CLOSE, status_id=ARCHIVED)


def recurred(finding: Mapping[str, Any], now: datetime) -> Finding:
    """The problem is back: the provider reopens the finding as New, failing if it is a control."""
    result = _provider_change(finding, now, activity_id=2, status_id=1)
    compliance = result.get("compliance")
    if compliance:
        result["compliance"] = {**compliance, "status": "Fail", "status_id": 3}
        vendor = result.get("vendor_attributes") or {}
        if "severity_id" in vendor:
            result.update(severity_id=vendor["severity_id"], severity=SEVERITY_NAMES[vendor["severity_id"]])
    return result


def _provider_change(finding: Mapping[str, Any], now: datetime, activity_id: int, status_id: int) -> Finding:
    milliseconds, text = _epoch_ms(now), _iso(now)
    result = dict(finding)
    class_name = result.get("class_name", "Finding")
    result.update(activity_id=activity_id, activity_name=ACTIVITY_NAMES[activity_id],
                  type_uid=result.get("class_uid", 0) * 100 + activity_id,
                  type_name=f"{class_name}: {ACTIVITY_NAMES[activity_id]}",
                  status_id=status_id, status=STATUS_NAMES[status_id], time=milliseconds, time_dt=text)
    result["finding_info"] = {**result["finding_info"], "modified_time": milliseconds, "modified_time_dt": text,
                              "last_seen_time": milliseconds, "last_seen_time_dt": text}
    return result


def _finding_info(asff_finding: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"uid": asff_finding["Id"], "title": asff_finding["Title"],
                            "desc": asff_finding["Description"], "types": list(asff_finding.get("Types", ()))}
    times = {"created": asff_finding["CreatedAt"], "modified": asff_finding["UpdatedAt"],
             "first_seen": asff_finding.get("FirstObservedAt", asff_finding["CreatedAt"]),
             "last_seen": asff_finding.get("LastObservedAt", asff_finding["UpdatedAt"])}
    for name, text in times.items():
        moment = datetime.fromisoformat(text)
        info[f"{name}_time"], info[f"{name}_time_dt"] = _epoch_ms(moment), _iso(moment)
    if asff_finding["ProductArn"].endswith("/aws/securityhub"):
        info["types"].append("Posture Management")
        info["analytic"] = {"category": "AWS::Config::ConfigRule", "type": "Rule", "type_id": 1,
                            "name": "securityhub-" + asff_finding["GeneratorId"].rsplit("/", 1)[-1].lower()}
    elif asff_finding["ProductArn"].endswith("/aws/guardduty"):
        info["uid_alt"] = asff_finding["Id"].rsplit("/", 1)[-1]
    return info


def _resource(resource: Mapping[str, Any], account: str) -> dict[str, Any]:
    """OCSF keeps the ARN in `uid_alt` when `uid` is the service's own id (a queue URL, a policy id, a name)."""
    asff_type, arn = resource["Type"], resource["Id"]
    result: dict[str, Any] = {"type": RESOURCE_TYPES.get(asff_type, asff_type), "uid": arn,
                              "region": resource.get("Region", "global"),
                              "cloud_partition": resource.get("Partition", "aws"),
                              "owner": {"account": {"uid": account}}}
    if asff_type == "AwsS3Bucket":
        result.update(uid=arn.rsplit(":", 1)[-1], uid_alt=arn)
    elif asff_type == "AwsSqsQueue":
        _, _, _, region, owner, name = arn.split(":", 5)
        result.update(uid=f"https://sqs.{region}.amazonaws.com/{owner}/{name}", uid_alt=arn, name=name)
    elif asff_type == "AwsIamPolicy":
        details = (resource.get("Details") or {}).get("AwsIamPolicy") or {}
        policy_id = details.get("PolicyId") or "ANPA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
        result.update(uid=policy_id, uid_alt=arn, name=arn.rsplit("/", 1)[-1], region="global")
    tags = resource.get("Tags")
    if tags:
        result["tags"] = [{"name": key, "value": value} for key, value in tags.items()]
    return result


def _vulnerability(item: Mapping[str, Any]) -> dict[str, Any]:
    cvss = [{"version": entry.get("Version"), "base_score": entry.get("BaseScore")} for entry in item.get("Cvss", ())]
    packages = [{"name": p.get("Name"), "version": p.get("Version")} for p in item.get("VulnerablePackages", ())]
    return {"cve": {"uid": item.get("Id"), "cvss": cvss}, "affected_packages": packages,
            "references": list(item.get("ReferenceUrls", ())), "is_fix_available": bool(packages)}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
