"""Parse a finding of the new Security Hub (OCSF, as `GetFindingsV2` returns it and "Findings Imported V2" events
carry it) into a `Finding`: the anti-corruption layer beside `asff`, so the sync rules never see which generation
a finding came from.

Lenient, because Security Hub emits OCSF 1.5 to 1.9 with AWS extensions: `metadata.version` is never checked,
unknown keys and classes are ignored, and ids the domain has no word for fall back on their text twin. Strict, as
`asff` is, about the type of every attribute hubsync reads: one `InvalidFinding` names every problem.

Identity is `metadata.uid` under the product `metadata.product.uid` (`...::productv2/...`), so a finding's key never
equals its CSPM twin's (`...::product/...`); the secondary key (control, resource ARN, account) does, as the
resource is named by its ARN (`uid_alt`) where `uid` is not one, as AWS's own response solution reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from hubsync.adapters.securityhub.loading import load_finding
from hubsync.domain.finding import (
    V2_PRODUCT,
    Finding,
    FindingIdentifier,
    RecordState,
    Resource,
    Severity,
    WorkflowStatus,
    in_cspm_form,
    severity_of_ocsf,
)
from hubsync.domain.validation import ACCOUNT_ID

# OCSF `status_id` as CSPM's workflow, the mapping AWS's own solution uses; 5 Archived (and 6 Deleted, which
# OCSF has and the API refuses) is also a closed record. 0 Unknown, 99 Other and the rest fall back on `status`.
WORKFLOW_OF_STATUS_ID = {
    1: WorkflowStatus.NEW, 2: WorkflowStatus.NOTIFIED, 3: WorkflowStatus.SUPPRESSED,
    4: WorkflowStatus.RESOLVED, 5: WorkflowStatus.RESOLVED, 6: WorkflowStatus.RESOLVED,
}
WORKFLOW_OF_STATUS = {
    "new": WorkflowStatus.NEW, "in progress": WorkflowStatus.NOTIFIED, "suppressed": WorkflowStatus.SUPPRESSED,
    "resolved": WorkflowStatus.RESOLVED, "archived": WorkflowStatus.RESOLVED, "deleted": WorkflowStatus.RESOLVED,
}
CLOSED_STATUS_IDS = (5, 6)
CLOSED_STATUSES = ("archived", "deleted")
CLOSE_ACTIVITY_ID = 3

# OCSF `compliance.status_id` as CSPM's `Compliance.Status`.
COMPLIANCE_OF_ID = {1: "PASSED", 2: "WARNING", 3: "FAILED"}
COMPLIANCE_OF_STATUS = {"pass": "PASSED", "warning": "WARNING", "fail": "FAILED"}


def parse_finding(data: Mapping[str, Any]) -> Finding:
    """The `Finding` hubsync works with (made by `_FindingSchema._finding`); raises `InvalidFinding` naming every
    problem at once."""
    return load_finding(_finding_schema(), data)


class _Id(fields.Integer):
    """An OCSF enum id: an integer, never a boolean (which Python counts as one) nor a numeric string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _EpochMs(_Id):
    """OCSF's `*_time`: milliseconds since the epoch, read as an aware UTC datetime."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        millis = super()._deserialize(value, attr, data, **kwargs)
        try:
            return datetime.fromtimestamp(millis / 1000, UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise ValidationError("not a time in milliseconds since the epoch") from error


def _text() -> fields.String:
    return fields.String(load_default=None)


def _moment() -> fields.AwareDateTime:
    return fields.AwareDateTime(load_default=None, default_timezone=UTC)


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class _ProductSchema(_Tolerant):
    uid = fields.String(required=True, validate=validate.Length(min=1))
    name = _text()
    vendor_name = _text()
    feature = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)


class _MetadataSchema(_Tolerant):
    uid = fields.String(required=True, validate=validate.Length(min=1))
    product = fields.Nested(_ProductSchema, required=True)


class _AccountSchema(_Tolerant):
    uid = fields.String(required=True, validate=validate.Regexp(ACCOUNT_ID, error="an AWS account id is 12 digits"))
    name = _text()


class _CloudSchema(_Tolerant):
    account = fields.Nested(_AccountSchema, required=True)
    region = _text()


class _FindingInfoSchema(_Tolerant):
    uid = fields.String(load_default=None, validate=validate.Length(1, 512))  # the provider's id (an ASFF `Id`)
    title = fields.String(required=True)
    desc = _text()
    types = fields.List(fields.String(), load_default=list)
    created_time_dt = _moment()
    created_time = _EpochMs()
    first_seen_time_dt = _moment()
    first_seen_time = _EpochMs()
    modified_time_dt = _moment()
    modified_time = _EpochMs()


class _VendorAttributesSchema(_Tolerant):
    severity_id = _Id()
    severity = _text()


class _ComplianceSchema(_Tolerant):
    control = _text()
    status_id = _Id()
    status = _text()
    standards = fields.List(fields.String(), load_default=list)


class _ResourceSchema(_Tolerant):
    type = fields.String(load_default="")
    uid = _text()
    uid_alt = _text()
    name = _text()
    region = _text()
    cloud_partition = _text()

    @validates_schema
    def _named(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not _resource_id(data):
            raise ValidationError("a resource needs a uid_alt, a uid or a name", "uid")

    @post_load
    def _resource(self, data: dict[str, Any], **kwargs: Any) -> Resource:
        return Resource(data["type"], _resource_id(data), data["region"] or None, data["cloud_partition"] or None)


class _RemediationSchema(_Tolerant):
    desc = _text()
    references = fields.List(fields.String(), load_default=list)


class _FindingSchema(_Tolerant):
    metadata = fields.Nested(_MetadataSchema, required=True)
    cloud = fields.Nested(_CloudSchema, required=True)
    finding_info = fields.Nested(_FindingInfoSchema, required=True)
    time_dt = _moment()
    time = _EpochMs()
    activity_id = _Id()
    severity_id = _Id()
    severity = _text()
    vendor_attributes = fields.Nested(_VendorAttributesSchema, load_default=dict)
    status_id = _Id()
    status = _text()
    compliance = fields.Nested(_ComplianceSchema, load_default=None)
    resources = fields.List(fields.Nested(_ResourceSchema), load_default=list)
    remediation = fields.Nested(_RemediationSchema, load_default=dict)
    comment = _text()

    @validates_schema
    def _times_known(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "finding_info" in data and _updated_at(data) is None:
            raise ValidationError(
                "missing: a finding needs modified_time_dt or modified_time (or the event's time_dt or time)",
                "finding_info",
            )

    @validates_schema
    def _region_known(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "cloud" in data and "metadata" in data and _region(data) is None:
            raise ValidationError("missing, and neither the product uid nor a resource names one", "cloud")

    @post_load
    def _finding(self, data: dict[str, Any], **kwargs: Any) -> Finding:
        metadata, product, info = data["metadata"], data["metadata"]["product"], data["finding_info"]
        compliance = data["compliance"]
        remediation = data["remediation"]
        workflow, record_state = _workflow(data)
        updated_at = _updated_at(data)
        assert updated_at is not None  # `_times_known`
        return Finding(
            id=metadata["uid"],
            product_arn=product["uid"],
            generator_id=_generator_id(product, compliance),
            account_id=data["cloud"]["account"]["uid"],
            account_name=data["cloud"]["account"]["name"],
            region=_region(data) or "",
            title=info["title"],
            description=info["desc"] or "",
            severity=_severity(data),
            workflow_status=workflow,
            record_state=record_state,
            created_at=_first(info, "created_time_dt", "created_time", "first_seen_time_dt", "first_seen_time")
            or updated_at,
            updated_at=updated_at,
            product_name=product["name"],
            company_name=product["vendor_name"],
            compliance_status=_compliance_status(compliance),
            security_control_id=(compliance or {}).get("control") or None,
            standards=tuple((compliance or {}).get("standards", ())),
            resources=tuple(data["resources"]),
            types=tuple(info["types"]),
            remediation_text=remediation.get("desc"),
            remediation_url=next(iter(remediation.get("references") or ()), None),
            note_text=data["comment"],
            resolved_is_gone=True,
            comment_only=True,
            cspm_twin=_cspm_twin(product["uid"], info["uid"]),
        )


def _cspm_twin(product_uid: str, finding_info_uid: str | None) -> FindingIdentifier | None:
    """The ASFF finding this one twins: its `Id` is the `finding_info.uid`, its `ProductArn` the product uid under
    `product/` rather than `productv2/`, as AWS's own response solution addresses one from the other."""
    if not finding_info_uid or V2_PRODUCT not in product_uid:
        return None
    return FindingIdentifier(finding_info_uid, in_cspm_form(product_uid))


def _resource_id(data: Mapping[str, Any]) -> str:
    """The resource's ARN where OCSF has one (`uid_alt` for SQS queues and IAM policies, whose `uid` is a URL or a
    policy id), else its `uid`, else its `name`: the id CSPM gives the same resource, so secondary keys match."""
    uid_alt: str | None = data.get("uid_alt")
    if uid_alt and uid_alt.startswith("arn:"):
        return uid_alt
    return data.get("uid") or data.get("name") or ""


def _first(data: Mapping[str, Any], *names: str) -> datetime | None:
    return next((data[name] for name in names if data.get(name) is not None), None)


def _updated_at(data: Mapping[str, Any]) -> datetime | None:
    """The provider's last change (what tells a recurrence after a fix): the finding's modified time, else the
    event's time, which equals it in every sample."""
    return _first(data["finding_info"], "modified_time_dt", "modified_time") or _first(data, "time_dt", "time")


def _region(data: Mapping[str, Any]) -> str | None:
    region: str | None = data["cloud"].get("region")
    if region:
        return region
    parts = data["metadata"]["product"]["uid"].split(":")
    if len(parts) > 3 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return next((resource.region for resource in data.get("resources") or () if resource.region), None)


def _generator_id(product: Mapping[str, Any], compliance: Mapping[str, Any] | None) -> str:
    """The console's "Generator ID" (`metadata.product.feature.uid`); for a control without one, the generator CSPM
    gives the control's findings, so a rule naming it matches both twins."""
    feature = product["feature"].get("uid")
    if isinstance(feature, str) and feature:
        return feature
    control = (compliance or {}).get("control")
    return f"security-control/{control}" if control else ""


def _severity(data: Mapping[str, Any]) -> Severity:
    """By id; an Unknown or Other id falls back on the label, then on the provider's own, else Informational."""
    vendor = data["vendor_attributes"]
    candidates = ((data["severity_id"], data["severity"]), (vendor.get("severity_id"), vendor.get("severity")))
    for severity_id, label in candidates:
        if (severity := severity_of_ocsf(severity_id, label)) is not None:
            return severity
    return Severity.INFORMATIONAL


def _workflow(data: Mapping[str, Any]) -> tuple[WorkflowStatus, RecordState]:
    """By `status_id`, else by its label (Unknown, Other or absent: NEW); Archived or a Close activity is a closed
    record, as AWS's own solution reads them."""
    status_id, status = data["status_id"], (data["status"] or "").casefold()
    if status_id in WORKFLOW_OF_STATUS_ID:
        workflow = WORKFLOW_OF_STATUS_ID[status_id]
        closed = status_id in CLOSED_STATUS_IDS
    else:
        workflow = WORKFLOW_OF_STATUS.get(status, WorkflowStatus.NEW)
        closed = status in CLOSED_STATUSES
    if data["activity_id"] == CLOSE_ACTIVITY_ID:
        closed = True
    return workflow, RecordState.ARCHIVED if closed else RecordState.ACTIVE


def _compliance_status(compliance: Mapping[str, Any] | None) -> str | None:
    """CSPM's words for OCSF's: Pass, Warning, Fail; anything else NOT_AVAILABLE; None without a compliance."""
    if compliance is None:
        return None
    if compliance["status_id"] in COMPLIANCE_OF_ID:
        return COMPLIANCE_OF_ID[compliance["status_id"]]
    return COMPLIANCE_OF_STATUS.get((compliance["status"] or "").casefold(), "NOT_AVAILABLE")


@functools.cache
def _finding_schema() -> _FindingSchema:
    """One schema for every parse: building it (and its nested schemas) costs more than loading a finding."""
    return _FindingSchema()
