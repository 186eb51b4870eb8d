"""A Security Hub finding as the sync rules see it (read from a wire format by an adapter: ASFF by
`adapters.securityhub.asff`, OCSF by `adapters.securityhub.ocsf`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hubsync.domain.validation import error_lines

HUBSYNC_AUTHOR = "hubsync"  # the Note.UpdatedBy of every note hubsync writes (CSPM)


class Severity(StrEnum):
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """Order for comparisons: INFORMATIONAL 0 … CRITICAL 4."""
        return list(Severity).index(self)


def severity_of_normalized(score: int) -> Severity:
    """Security Hub's deprecated 0 to 100 score (`Severity.Normalized`) as a label, with the thresholds Security Hub
    documents. Both the ASFF parser and the intake (which ranks an event's hint by it) read it."""
    if score == 0:
        return Severity.INFORMATIONAL
    if score < 40:
        return Severity.LOW
    if score < 70:
        return Severity.MEDIUM
    if score < 90:
        return Severity.HIGH
    return Severity.CRITICAL


# OCSF `severity_id`: 1 Informational ... 5 Critical, 6 Fatal (0 Unknown and 99 Other say nothing), and its name.
_SEVERITY_OF_OCSF_ID = {
    1: Severity.INFORMATIONAL, 2: Severity.LOW, 3: Severity.MEDIUM, 4: Severity.HIGH, 5: Severity.CRITICAL,
    6: Severity.CRITICAL,
}
_SEVERITY_OF_OCSF_NAME = {severity.value.casefold(): severity for severity in Severity} | {"fatal": Severity.CRITICAL}


def severity_of_ocsf(severity_id: Any, name: Any) -> Severity | None:
    """An OCSF severity by its id, else by its name (any case); None when neither says one. Both the OCSF parser
    and the intake (which ranks an event's hint by it) read it; a boolean is never taken for an id."""
    if isinstance(severity_id, int) and not isinstance(severity_id, bool) and severity_id in _SEVERITY_OF_OCSF_ID:
        return _SEVERITY_OF_OCSF_ID[severity_id]
    return _SEVERITY_OF_OCSF_NAME.get(name.casefold()) if isinstance(name, str) else None


class WorkflowStatus(StrEnum):
    NEW = "NEW"
    NOTIFIED = "NOTIFIED"
    RESOLVED = "RESOLVED"
    SUPPRESSED = "SUPPRESSED"


class RecordState(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class InvalidFinding(ValueError):
    """A finding (in whatever wire format) lacks, or has a malformed, attribute hubsync needs. `messages` is the
    nested error dict, keyed by the format's attribute names (marshmallow's shape: see `validation`)."""

    def __init__(self, messages: Mapping[str, Any]) -> None:
        self.messages = dict(messages)
        super().__init__("invalid finding: " + "; ".join(error_lines(self.messages)))


# A finding whose note (CSPM) or comment (the new Security Hub) starts with this asks a person's ticket: set in the
# console, or by an automation rule, where the new Security Hub has no custom actions.
ESCALATION_TAG = "#jira"


def asks_for_ticket(text: str | None) -> bool:
    """Whether a note or comment starts with `ESCALATION_TAG`, in any case, leading white space ignored."""
    return bool(text) and (text or "").lstrip()[: len(ESCALATION_TAG)].casefold() == ESCALATION_TAG


def names_ticket(text: str | None, key: str) -> bool:
    """`SEC-1` is named in "tracked in SEC-1." but not in "tracked in SEC-12"."""
    return bool(text) and re.search(rf"(?<![\w-]){re.escape(key)}(?!\d)", text or "") is not None


# A product's ARN in each generation: `…::product/aws/guardduty` in Security Hub CSPM, `…::productv2/aws/guardduty`
# in the new Security Hub (AWS's own response solution addresses one from the other so).
CSPM_PRODUCT, V2_PRODUCT = "::product/", "::productv2/"


def in_cspm_form(product_arn: str) -> str:
    return product_arn.replace(V2_PRODUCT, CSPM_PRODUCT, 1)


def in_v2_form(product_arn: str) -> str:
    return product_arn.replace(CSPM_PRODUCT, V2_PRODUCT, 1)


def finding_key(product_arn: str, finding_id: str) -> str:
    """The finding's identity in hubsync: sha256 of `ProductArn + "\\n" + Id`, lowercase hex."""
    return hashlib.sha256(f"{product_arn}\n{finding_id}".encode()).hexdigest()


def marker_label(key: str) -> str:
    """The Jira label that marks a ticket as the finding's: `hubsync-<first 12 hex of the key>`."""
    return f"hubsync-{key[:12]}"


@dataclass(frozen=True)
class FindingIdentifier:
    """What every Security Hub update API takes to name a finding."""

    id: str
    product_arn: str

    @property
    def key(self) -> str:
        return finding_key(self.product_arn, self.id)


@dataclass(frozen=True)
class Resource:
    type: str
    id: str
    region: str | None = None
    partition: str | None = None


@dataclass(frozen=True)
class Finding:
    """The fields hubsync reads or writes. Customer-owned fields (note, workflow, user-defined fields,
    verification) are what hubsync writes; the provider owns the rest, including `updated_at`."""

    id: str
    product_arn: str
    generator_id: str
    account_id: str
    region: str
    title: str
    description: str
    severity: Severity
    workflow_status: WorkflowStatus
    record_state: RecordState
    created_at: datetime
    updated_at: datetime  # the provider's UpdatedAt: BatchUpdateFindings never changes it
    product_name: str | None = None
    company_name: str | None = None
    account_name: str | None = None
    compliance_status: str | None = None  # PASSED, WARNING, FAILED, NOT_AVAILABLE; None for non-control products
    security_control_id: str | None = None
    standards: tuple[str, ...] = ()
    resources: tuple[Resource, ...] = ()
    types: tuple[str, ...] = ()
    remediation_text: str | None = None
    remediation_url: str | None = None
    note_text: str | None = None
    note_updated_by: str | None = None
    user_defined_fields: Mapping[str, str] = field(default_factory=dict)
    verification_state: str | None = None
    # The new Security Hub (OCSF) sets Resolved on what went away (a passing control, a closed finding): there a
    # RESOLVED workflow is gone. In CSPM it is someone's word on a finding Security Hub still reports.
    resolved_is_gone: bool = False
    # The new Security Hub keeps no user-defined fields, verification state or note author: its comment is the one
    # text hubsync can write, so the comment alone says whether hubsync named the ticket there.
    comment_only: bool = False
    # The same finding in Security Hub CSPM, for a finding of the new Security Hub that has a twin there: the ticket
    # of a tenant that moved to the new Security Hub follows the twin.
    cspm_twin: FindingIdentifier | None = None

    @property
    def identifier(self) -> FindingIdentifier:
        return FindingIdentifier(self.id, self.product_arn)

    @property
    def key(self) -> str:
        return finding_key(self.product_arn, self.id)

    @property
    def is_live(self) -> bool:
        """ACTIVE and not PASSED (absent compliance counts as failing, for GuardDuty, Inspector and others), nor
        RESOLVED where that means gone (`resolved_is_gone`)."""
        return (
            self.record_state is RecordState.ACTIVE
            and self.compliance_status != "PASSED"
            and not (self.resolved_is_gone and self.workflow_status is WorkflowStatus.RESOLVED)
        )

    @property
    def asks_for_ticket(self) -> bool:
        """Someone asked for a ticket in the note or comment (`ESCALATION_TAG`); never hubsync's own note."""
        return asks_for_ticket(self.note_text) and self.note_updated_by != HUBSYNC_AUTHOR

    def carries_ticket(self, key: str) -> bool:
        """Whether the finding names its ticket where hubsync writes the key: `UserDefinedFields.jiraIssue` in
        CSPM, the comment in the new Security Hub."""
        if self.comment_only:
            return names_ticket(self.note_text, key)
        return self.user_defined_fields.get("jiraIssue") == key

    def noted_by_hubsync(self, key: str) -> bool:
        """Whether the note is hubsync's and names `key` (in the new Security Hub, whose comments have no author,
        a comment naming the ticket)."""
        author_is_hubsync = self.comment_only or self.note_updated_by == HUBSYNC_AUTHOR
        return author_is_hubsync and names_ticket(self.note_text, key)

    @property
    def partition(self) -> str:
        """`aws`, `aws-us-gov` or `aws-cn`, from the product ARN."""
        parts = self.product_arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"

    @property
    def secondary_key(self) -> str | None:
        """Control + resource + account: stable when Security Hub re-issues a control finding with a new Id."""
        if not self.security_control_id or not self.resources:
            return None
        return f"{self.security_control_id}|{self.resources[0].id}|{self.account_id}"
