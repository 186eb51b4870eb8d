"""Plain values for domain tests: a finding, a ticket in a named status, a link, the default policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hubsync.domain.finding import Finding, RecordState, Resource, Severity, WorkflowStatus
from hubsync.domain.link import Link, LinkState
from hubsync.domain.policy import EscalationRule, Policy
from hubsync.domain.rendering import ticket_summary
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EVALUATED = NOW - timedelta(hours=6)  # the finding's provider UpdatedAt
KEY = "SEC-12"

POLICY = Policy(project_key="SEC", rules=(EscalationRule("high and up", min_severity=Severity.HIGH),))

# The SecDevOps risk workflow (its dispositions come from the default mapping), and a stock workflow's statuses.
STATUS_CATEGORIES = {
    "Open": StatusCategory.TO_DO,
    "Allocated for fix": StatusCategory.IN_PROGRESS,
    "Test fix": StatusCategory.TO_DO,
    "Resolved": StatusCategory.DONE,
    "Request risk acceptance": StatusCategory.IN_PROGRESS,
    "Risk approved": StatusCategory.DONE,
    "Risk not approved": StatusCategory.DONE,
    "Risk approval expired": StatusCategory.IN_PROGRESS,
    "Marked as false positive": StatusCategory.IN_PROGRESS,
    "Accepted false positive": StatusCategory.DONE,
    "To Do": StatusCategory.TO_DO,
    "In Progress": StatusCategory.IN_PROGRESS,
    "Done": StatusCategory.DONE,
}
# Where a move to a disposition lands on the risk workflow.
STATUS_OF = {
    Disposition.OPEN: "Allocated for fix",
    Disposition.FIXED: "Resolved",
    Disposition.ACCEPTED: "Risk approved",
    Disposition.FALSE_POSITIVE: "Accepted false positive",
    Disposition.EXPIRED: "Risk approval expired",
}


def a_finding(**changes: Any) -> Finding:
    """A live, failing, HIGH control finding in NEW, evaluated six hours ago."""
    finding = Finding(
        id="arn:aws:securityhub:eu-west-1:111122223333:security-control/S3.8/finding/0f1e2d3c",
        product_arn="arn:aws:securityhub:eu-west-1::product/aws/securityhub",
        generator_id="security-control/S3.8",
        account_id="111122223333",
        region="eu-west-1",
        title="S3 general purpose buckets should block public access",
        description="This control checks whether an Amazon S3 general purpose bucket blocks public access.",
        severity=Severity.HIGH,
        workflow_status=WorkflowStatus.NEW,
        record_state=RecordState.ACTIVE,
        created_at=NOW - timedelta(days=3),
        updated_at=EVALUATED,
        product_name="Security Hub",
        compliance_status="FAILED",
        security_control_id="S3.8",
        standards=("standards/aws-foundational-security-best-practices/v/1.0.0",),
        resources=(Resource("AwsS3Bucket", "arn:aws:s3:::orders-data", "eu-west-1", "aws"),),
    )
    return replace(finding, **changes)


def a_ticket(status: str = "Open", **changes: Any) -> Ticket:
    finding = a_finding()
    ticket = Ticket(
        key=KEY,
        id="10012",
        project_key="SEC",
        status=status,
        status_category=STATUS_CATEGORIES[status],
        summary=ticket_summary(finding),
        priority="High",
        labels=("security-hub",),
        marker=FindingMarker(finding.id, finding.product_arn, finding.key),
        status_changed_by="Dana Developer",
        status_changed_at=NOW - timedelta(hours=1),
    )
    return replace(ticket, **changes)


def a_link(**changes: Any) -> Link:
    """A link as rule 1 leaves it once the ticket exists: notified, ticket open, content as rendered."""
    finding = a_finding()
    link = Link(
        finding_key=finding.key,
        finding_id=finding.id,
        product_arn=finding.product_arn,
        state=LinkState.LINKED,
        ticket_key=KEY,
        secondary_key=finding.secondary_key,
        seen_updated_at=EVALUATED,
        written_workflow=WorkflowStatus.NOTIFIED,
        seen_disposition=Disposition.OPEN,
        rendered_severity=finding.severity.value,
        rendered_title=finding.title,
    )
    return replace(link, **changes)
