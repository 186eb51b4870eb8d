"""Parse an AWS Security Finding Format (ASFF) finding into a `Finding`: the anti-corruption layer between Security
Hub CSPM's wire format and the domain (`ocsf` is its twin for the new Security Hub).

Tolerant of everything hubsync does not read (new ASFF attributes, product-specific details), strict about what
the sync rules need. Handles consolidated control findings (`Compliance.SecurityControlId`,
`AssociatedStandards`), per-standard ones (`ProductFields.ControlId` / `StandardsArn`), GuardDuty, Inspector and
third-party imports, which have no `Compliance` at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from hubsync.adapters.securityhub.loading import load_finding
from hubsync.domain.finding import (
    Finding,
    RecordState,
    Resource,
    Severity,
    WorkflowStatus,
    severity_of_normalized,
)
from hubsync.domain.validation import ACCOUNT_ID

# A standard-agnostic control id: `EC2.2`, `Lambda.1`. Per-standard ids such as `PCI.CloudTrail.1` or CIS `3.7`
# are not security control ids, so they are not taken for one.
SECURITY_CONTROL_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.\d+$")


def parse_finding(data: Mapping[str, Any]) -> Finding:
    """The `Finding` hubsync works with (made by `_FindingSchema._finding`); raises `InvalidFinding` naming every
    problem at once."""
    return load_finding(_finding_schema(), data)


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class _SeveritySchema(_Tolerant):
    label = fields.Enum(Severity, by_value=True, data_key="Label", load_default=None)
    normalized = fields.Integer(data_key="Normalized", load_default=None, validate=validate.Range(0, 100))

    @validates_schema
    def _label_or_normalized(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("label") is None and data.get("normalized") is None:
            raise ValidationError("Label or Normalized is required")

    @post_load
    def _severity(self, data: dict[str, Any], **kwargs: Any) -> Severity:
        label: Severity | None = data.get("label")
        if label is not None:
            return label
        return severity_of_normalized(data["normalized"])


class _WorkflowSchema(_Tolerant):
    status = fields.Enum(WorkflowStatus, by_value=True, data_key="Status", load_default=WorkflowStatus.NEW)


class _AssociatedStandardSchema(_Tolerant):
    standards_id = fields.String(data_key="StandardsId", required=True)


class _ComplianceSchema(_Tolerant):
    status = fields.String(
        data_key="Status", load_default=None,
        validate=validate.OneOf(["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"]),
    )
    security_control_id = fields.String(data_key="SecurityControlId", load_default=None)
    associated_standards = fields.List(
        fields.Nested(_AssociatedStandardSchema), data_key="AssociatedStandards", load_default=list
    )


class _ResourceSchema(_Tolerant):
    type = fields.String(data_key="Type", required=True, validate=validate.Length(min=1))
    id = fields.String(data_key="Id", required=True, validate=validate.Length(min=1))
    region = fields.String(data_key="Region", load_default=None)
    partition = fields.String(data_key="Partition", load_default=None)

    @post_load
    def _resource(self, data: dict[str, Any], **kwargs: Any) -> Resource:
        return Resource(**data)


class _RecommendationSchema(_Tolerant):
    text = fields.String(data_key="Text", load_default=None)
    url = fields.String(data_key="Url", load_default=None)


class _RemediationSchema(_Tolerant):
    recommendation = fields.Nested(_RecommendationSchema, data_key="Recommendation", load_default=dict)


class _NoteSchema(_Tolerant):
    text = fields.String(data_key="Text", load_default=None)
    updated_by = fields.String(data_key="UpdatedBy", load_default=None)


class _FindingSchema(_Tolerant):
    id = fields.String(data_key="Id", required=True, validate=validate.Length(min=1))
    product_arn = fields.String(data_key="ProductArn", required=True, validate=validate.Length(min=1))
    generator_id = fields.String(data_key="GeneratorId", required=True, validate=validate.Length(min=1))
    account_id = fields.String(
        data_key="AwsAccountId", required=True,
        validate=validate.Regexp(ACCOUNT_ID, error="an AWS account id is 12 digits"),
    )
    account_name = fields.String(data_key="AwsAccountName", load_default=None)
    region = fields.String(data_key="Region", load_default=None)
    title = fields.String(data_key="Title", required=True)
    description = fields.String(data_key="Description", required=True)
    severity = fields.Nested(_SeveritySchema, data_key="Severity", required=True)
    workflow = fields.Nested(_WorkflowSchema, data_key="Workflow", load_default=dict)
    record_state = fields.Enum(RecordState, by_value=True, data_key="RecordState", load_default=RecordState.ACTIVE)
    created_at = fields.AwareDateTime(data_key="CreatedAt", required=True, default_timezone=UTC)
    updated_at = fields.AwareDateTime(data_key="UpdatedAt", required=True, default_timezone=UTC)
    product_name = fields.String(data_key="ProductName", load_default=None)
    company_name = fields.String(data_key="CompanyName", load_default=None)
    compliance = fields.Nested(_ComplianceSchema, data_key="Compliance", load_default=None)
    product_fields = fields.Dict(
        keys=fields.String(), values=fields.String(), data_key="ProductFields", load_default=dict
    )
    resources = fields.List(
        fields.Nested(_ResourceSchema), data_key="Resources", required=True,
        validate=validate.Length(min=1, error="at least one resource is required"),
    )
    types = fields.List(fields.String(), data_key="Types", load_default=list)
    remediation = fields.Nested(_RemediationSchema, data_key="Remediation", load_default=dict)
    note = fields.Nested(_NoteSchema, data_key="Note", load_default=dict)
    user_defined_fields = fields.Dict(
        keys=fields.String(), values=fields.String(), data_key="UserDefinedFields", load_default=dict
    )
    verification_state = fields.String(data_key="VerificationState", load_default=None)

    @validates_schema
    def _region_known(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "id" in data and "product_arn" in data and _region(data) is None:
            raise ValidationError("missing, and neither the Id, the ProductArn nor a resource names one", "Region")

    @post_load
    def _finding(self, data: dict[str, Any], **kwargs: Any) -> Finding:
        compliance = data["compliance"] or {}
        product_fields: dict[str, str] = data["product_fields"]
        recommendation = data["remediation"].get("recommendation") or {}
        return Finding(
            id=data["id"],
            product_arn=data["product_arn"],
            generator_id=data["generator_id"],
            account_id=data["account_id"],
            account_name=data["account_name"],
            region=_region(data) or "",
            title=data["title"],
            description=data["description"],
            severity=data["severity"],
            workflow_status=data["workflow"].get("status", WorkflowStatus.NEW),
            record_state=data["record_state"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            product_name=data["product_name"] or product_fields.get("aws/securityhub/ProductName"),
            company_name=data["company_name"] or product_fields.get("aws/securityhub/CompanyName"),
            compliance_status=compliance.get("status"),
            security_control_id=_security_control_id(compliance, product_fields),
            standards=_standards(compliance, product_fields),
            resources=tuple(data["resources"]),
            types=tuple(data["types"]),
            remediation_text=recommendation.get("text"),
            remediation_url=recommendation.get("url") or product_fields.get("RecommendationUrl"),
            note_text=data["note"].get("text"),
            note_updated_by=data["note"].get("updated_by"),
            user_defined_fields=dict(data["user_defined_fields"]),
            verification_state=data["verification_state"],
        )


def _region(data: Mapping[str, Any]) -> str | None:
    """Security Hub sets `Region`; an import that has not been through it yet still names one in its ARNs."""
    region: str | None = data.get("region")
    if region:
        return region
    arns: tuple[str, str] = (data["id"], data["product_arn"])
    for arn in arns:
        parts = arn.split(":")
        if len(parts) > 3 and parts[0] == "arn" and parts[3]:
            return parts[3]
    return next((resource.region for resource in data.get("resources") or () if resource.region), None)


def _security_control_id(compliance: Mapping[str, Any], product_fields: Mapping[str, str]) -> str | None:
    security_control_id: str | None = compliance.get("security_control_id")
    if security_control_id:
        return security_control_id
    control_id = product_fields.get("ControlId", "")
    return control_id if SECURITY_CONTROL_ID.match(control_id) else None


def _standards(compliance: Mapping[str, Any], product_fields: Mapping[str, str]) -> tuple[str, ...]:
    """Standards ids (`standards/aws-foundational-security-best-practices/v/1.0.0`, CIS 1.2's `ruleset/...`)."""
    associated = tuple(standard["standards_id"] for standard in compliance.get("associated_standards") or ())
    if associated:
        return associated
    arn = product_fields.get("StandardsArn") or product_fields.get("StandardsGuideArn")
    if arn and arn.count(":") >= 5:
        return (arn.split(":", 5)[5],)
    return ()


@functools.cache
def _finding_schema() -> _FindingSchema:
    """One schema for every parse: building it (and its nested schemas) costs more than loading a finding."""
    return _FindingSchema()
