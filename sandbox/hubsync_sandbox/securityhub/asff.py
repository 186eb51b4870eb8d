"""The AWS Security Finding Format as Security Hub checks it on import: required attributes, value sets, limits,
timestamps, severity labels and the product names it fills in.

Limits follow the ASFF reference (Id 512, Title 256, Description 1024, 1-32 Resources, 50 map entries, ...);
the value sets are botocore's enums. This module knows the format only: no state, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

SCHEMA_VERSION = "2018-10-08"
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
NORMALIZED_BY_LABEL = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
WORKFLOW_STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
RECORD_STATES = ("ACTIVE", "ARCHIVED")
VERIFICATION_STATES = ("UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE")
COMPLIANCE_STATUSES = ("PASSED", "WARNING", "FAILED", "NOT_AVAILABLE")
TYPE_NAMESPACES = (
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
)

# Every attribute of AwsSecurityFinding; anything else in an imported finding is rejected.
ATTRIBUTES = frozenset(
    {
        "SchemaVersion", "Id", "ProductArn", "ProductName", "CompanyName", "Region", "GeneratorId",
        "AwsAccountId", "Types", "FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt", "Severity",
        "Confidence", "Criticality", "Title", "Description", "Remediation", "SourceUrl", "ProductFields",
        "UserDefinedFields", "Malware", "Network", "NetworkPath", "Process", "Threats", "ThreatIntelIndicators",
        "Resources", "Compliance", "VerificationState", "WorkflowState", "Workflow", "RecordState",
        "RelatedFindings", "Note", "Vulnerabilities", "PatchSummary", "Action", "FindingProviderFields",
        "Sample", "GeneratorDetails", "ProcessedAt", "AwsAccountName", "Detection",
    }
)
REQUIRED = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Title",
            "Description", "Resources")

PRODUCT_ARN = re.compile(r"^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12})?:product/([^/]+)/([^/]+)$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")

# (ProductName, CompanyName) Security Hub shows for the AWS integrations (`product/aws/<name>`).
AWS_PRODUCTS = {
    "securityhub": ("Security Hub CSPM", "AWS"),
    "guardduty": ("GuardDuty", "Amazon"),
    "inspector": ("Inspector", "Amazon"),
    "macie": ("Macie", "Amazon"),
    "access-analyzer": ("IAM Access Analyzer", "AWS"),
    "config": ("Config", "AWS"),
    "firewall-manager": ("Firewall Manager", "AWS"),
    "health": ("Health", "AWS"),
    "ssm-patch-manager": ("Systems Manager Patch Manager", "AWS"),
}


class InvalidFinding(ValueError):
    """A finding Security Hub would not accept; the message says which attribute and why."""


# -- timestamps ------------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp as Security Hub accepts it (`Z` or an offset, up to 9 fractional digits)."""
    if not isinstance(value, str) or not TIMESTAMP.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp such as 2024-05-01T12:00:00.000Z")
    return datetime.fromisoformat(value)


def format_timestamp(moment: datetime) -> str:
    """The millisecond UTC form Security Hub writes (`2024-05-01T12:00:00.000Z`)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- severity and products ---------------------------------------------------------------------------
def label_for_normalized(normalized: int) -> str:
    """The documented mapping 0 / 1-39 / 40-69 / 70-89 / 90-100."""
    for label, floor in (("CRITICAL", 90), ("HIGH", 70), ("MEDIUM", 40), ("LOW", 1)):
        if normalized >= floor:
            return label
    return "INFORMATIONAL"


def completed_severity(severity: Mapping[str, Any]) -> dict[str, Any]:
    """Fill whichever of Label and Normalized is missing from the other."""
    result = dict(severity)
    if "Label" in result and "Normalized" not in result:
        result["Normalized"] = NORMALIZED_BY_LABEL[result["Label"]]
    elif "Normalized" in result and "Label" not in result:
        result["Label"] = label_for_normalized(result["Normalized"])
    return result


def product_names(finding: Mapping[str, Any]) -> tuple[str, str]:
    """(ProductName, CompanyName): Security Hub's own for AWS products, the provider's for custom integrations."""
    match = PRODUCT_ARN.match(finding["ProductArn"])
    assert match is not None, "validated before"
    company_id, product_id = match.group(2), match.group(3)
    if company_id == "aws":
        return AWS_PRODUCTS.get(product_id, (product_id, "AWS"))
    default = ("Default", "Personal") if product_id == "default" else (product_id, company_id)
    return finding.get("ProductName", default[0]), finding.get("CompanyName", default[1])


def compliance_status(finding: Mapping[str, Any]) -> str | None:
    return (finding.get("Compliance") or {}).get("Status")


# -- validation -------------------------------------------------------------------------------------
def validate_finding(finding: Any) -> None:
    """Raise InvalidFinding naming the first attribute BatchImportFindings would reject."""
    if not isinstance(finding, dict):
        raise InvalidFinding("a finding must be a JSON object")
    unknown = sorted(set(finding) - ATTRIBUTES)
    if unknown:
        raise InvalidFinding(f"unknown attribute {unknown[0]!r}")
    for name in REQUIRED:
        if name not in finding:
            raise InvalidFinding(f"missing required attribute {name!r}")
    if finding["SchemaVersion"] != SCHEMA_VERSION:
        raise InvalidFinding(f"SchemaVersion must be {SCHEMA_VERSION!r}")
    _text(finding, "Id", 512)
    _text(finding, "GeneratorId", 512)
    _text(finding, "Title", 256)
    _text(finding, "Description", 1024)
    if not isinstance(finding["ProductArn"], str) or not PRODUCT_ARN.match(finding["ProductArn"]):
        raise InvalidFinding("ProductArn must look like arn:aws:securityhub:<region>:<account>:product/<company>/<id>")
    if not isinstance(finding["AwsAccountId"], str) or not ACCOUNT_ID.match(finding["AwsAccountId"]):
        raise InvalidFinding("AwsAccountId must be 12 digits")
    for name in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"):
        if name in finding:
            _timestamp(finding[name], name)
    _severity(finding.get("Severity"))
    _resources(finding["Resources"])
    check_field_map(finding.get("ProductFields"), "ProductFields", value_max=2048)
    check_field_map(finding.get("UserDefinedFields"), "UserDefinedFields", value_max=1024)
    check_types(finding.get("Types"))
    check_one_of((finding.get("Workflow") or {}).get("Status"), WORKFLOW_STATUSES, "Workflow.Status")
    check_one_of(finding.get("RecordState"), RECORD_STATES, "RecordState")
    check_one_of(finding.get("VerificationState"), VERIFICATION_STATES, "VerificationState")
    check_one_of(compliance_status(finding), COMPLIANCE_STATUSES, "Compliance.Status")
    for name in ("Confidence", "Criticality"):
        if name in finding:
            check_ratio(finding[name], name)
    if "Note" in finding:
        note = finding["Note"]
        if not isinstance(note, dict) or not {"Text", "UpdatedBy", "UpdatedAt"} <= set(note):
            raise InvalidFinding("Note needs Text, UpdatedBy and UpdatedAt")
        _text(note, "Text", 512, "Note.Text")
        _timestamp(note["UpdatedAt"], "Note.UpdatedAt")


def check_ratio(value: Any, name: str) -> None:
    """Confidence, Criticality and Severity.Normalized: an integer 0-100."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidFinding(f"{name} must be an integer from 0 to 100")


def _text(container: Mapping[str, Any], key: str, max_length: int, name: str | None = None) -> None:
    value = container[key]
    if not isinstance(value, str) or not value.strip():
        raise InvalidFinding(f"{name or key} must be a non-empty string")
    if len(value) > max_length:
        raise InvalidFinding(f"{name or key} is longer than {max_length} characters")


def _timestamp(value: Any, name: str) -> None:
    try:
        parse_timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidFinding(f"{name}: {exc}") from None


def _severity(severity: Any) -> None:
    if not isinstance(severity, dict) or ("Label" not in severity and "Normalized" not in severity):
        raise InvalidFinding("Severity needs a Label or a Normalized value")
    check_one_of(severity.get("Label"), SEVERITY_LABELS, "Severity.Label")
    if "Normalized" in severity:
        check_ratio(severity["Normalized"], "Severity.Normalized")


def _resources(resources: Any) -> None:
    if not isinstance(resources, list) or not 1 <= len(resources) <= 32:
        raise InvalidFinding("Resources must list 1 to 32 resources")
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str) or not resource.get("Id"):
            raise InvalidFinding(f"Resources[{index}] needs a Type and an Id")
        check_field_map(resource.get("Tags"), f"Resources[{index}].Tags", value_max=256)


def check_field_map(fields: Any, name: str, value_max: int) -> None:
    if fields is None:
        return
    if not isinstance(fields, dict) or len(fields) > 50:
        raise InvalidFinding(f"{name} must be a map of at most 50 entries")
    for key, value in fields.items():
        if not key.strip() or len(key) > 128:
            raise InvalidFinding(f"{name} key {key!r} must be 1 to 128 characters")
        if not isinstance(value, str) or not value.strip() or len(value) > value_max:
            raise InvalidFinding(f"{name}[{key!r}] must be a non-empty string of at most {value_max} characters")


def check_types(types: Any) -> None:
    if types is None:
        return
    if not isinstance(types, list) or len(types) > 50:
        raise InvalidFinding("Types must list at most 50 types")
    for finding_type in types:
        if not isinstance(finding_type, str) or finding_type.split("/", 1)[0] not in TYPE_NAMESPACES:
            raise InvalidFinding(f"Type {finding_type!r} must start with one of the namespaces {TYPE_NAMESPACES}")


def check_one_of(value: Any, allowed: tuple[str, ...], name: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidFinding(f"{name} {value!r} is not one of {', '.join(allowed)}")
