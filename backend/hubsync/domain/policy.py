"""A tenant's policy: which findings escalate, and how Jira statuses and priorities map to the sync rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hubsync.domain.finding import Finding, Severity, in_cspm_form
from hubsync.domain.risk_workflow import DEFAULT_STATUS_DISPOSITIONS, RISK_REQUEST_STATUS
from hubsync.domain.ticket import Disposition, StatusCategory, Ticket

# A stock Jira priority scheme.
DEFAULT_PRIORITIES: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "Highest",
        Severity.HIGH: "High",
        Severity.MEDIUM: "Medium",
        Severity.LOW: "Low",
        Severity.INFORMATIONAL: "Lowest",
    }
)


@dataclass(frozen=True)
class EscalationRule:
    """Findings that open tickets on their own. Every criterion given must match; an empty one matches all."""

    name: str
    security_control_ids: tuple[str, ...] = ()
    generator_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()  # product name (case-insensitive) or product ARN prefix
    min_severity: Severity | None = None
    account_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def matches(self, finding: Finding) -> bool:
        """Whether the finding meets every criterion of this rule (its state aside: `decide` looks at that)."""
        return _matches(self, finding)


@dataclass(frozen=True)
class Policy:
    project_key: str
    issue_type: str = "Task"
    rules: tuple[EscalationRule, ...] = ()
    # Jira status name (case-insensitive) → disposition; unnamed statuses: done → FIXED, others → OPEN.
    status_dispositions: Mapping[str, Disposition] = field(default_factory=lambda: DEFAULT_STATUS_DISPOSITIONS)
    priorities: Mapping[Severity, str] = field(default_factory=lambda: DEFAULT_PRIORITIES)
    labels: tuple[str, ...] = ("security-hub",)
    default_assignee: str | None = None  # Cloud accountId or Data Center user name
    owner_tag_key: str = "SecurityContactID"
    # Where a console suppression becomes a request for a security engineer's approval (rule 8).
    risk_request_status: str = RISK_REQUEST_STATUS
    risk_acceptance_days: int | None = 365  # None: acceptances never expire (rule 13)

    def disposition_of(self, ticket: Ticket | None) -> Disposition:
        if ticket is None:
            return Disposition.MISSING
        return self.disposition_of_status(ticket.status, ticket.status_category)

    def disposition_of_status(self, status: str, category: StatusCategory) -> Disposition:
        for name, disposition in self.status_dispositions.items():
            if name.casefold() == status.casefold():
                return disposition
        return Disposition.FIXED if category is StatusCategory.DONE else Disposition.OPEN

    def escalation_rule_for(self, finding: Finding) -> EscalationRule | None:
        """The first rule the finding matches, or None."""
        return next((rule for rule in self.rules if rule.matches(finding)), None)


def _matches(rule: EscalationRule, finding: Finding) -> bool:
    if rule.security_control_ids and finding.security_control_id not in rule.security_control_ids:
        return False
    if rule.generator_ids and finding.generator_id not in rule.generator_ids:
        return False
    if rule.products and not any(_is_product(product, finding) for product in rule.products):
        return False
    if rule.min_severity is not None and finding.severity.rank < rule.min_severity.rank:
        return False
    if rule.account_ids and finding.account_id not in rule.account_ids:
        return False
    return not rule.regions or finding.region in rule.regions


def _is_product(product: str, finding: Finding) -> bool:
    """By name, or by ARN prefix in either generation's form (`…::product/…` in Security Hub CSPM, `…::productv2/…`
    in the new Security Hub), so a policy reads the same findings when its tenant changes Security Hub."""
    if product.startswith("arn:"):
        return in_cspm_form(finding.product_arn).startswith(in_cspm_form(product))
    return (finding.product_name or "").casefold() == product.casefold()

