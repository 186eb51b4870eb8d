"""The Security Hub panel of one Jira issue: the linked finding read live from Security Hub, and the pair's history.

The panel answers with a `state` the front end renders as is, one of:
- `linked`: the finding as Security Hub has it now, with the sync history (audit timeline) of the pair;
- `no_finding`: hubsync links no finding to this issue;
- `finding_gone`: the link exists but Security Hub no longer has the finding (deleted, or aged out);
- `aws_unreachable`: Security Hub could not be asked (refused role, network, throttling that outlasted retries);
- `not_configured`: the tenant lacks a setting the sync needs (an admin's job on the configure page).
The history is shown whenever a link exists, also when AWS cannot be reached: it comes from hubsync's own store.
A finding's remediation URL is shown only when the ticket would link it too (`domain.urls.safe_link`): anyone who
can import a finding writes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from hubsync.domain.audit import AuditEntry
from hubsync.domain.finding import Finding
from hubsync.domain.link import Link
from hubsync.domain.policy_schema import InvalidPolicy
from hubsync.domain.ports import SecurityHubPort, SecurityHubUnavailable, StorePort
from hubsync.domain.rendering import console_url, standard_name
from hubsync.domain.tenant import Tenant, TenantNotReady
from hubsync.domain.urls import safe_link

log = logging.getLogger(__name__)

TIMELINE_LIMIT = 50  # the latest entries; the store keeps them all


@runtime_checkable
class AccountNames(Protocol):
    def account_name(self, account_id: str) -> str | None: ...


class FindingSources(Protocol):
    """What the panel reads through: a tenant's `SyncContext` is one. Read-only members, so that a context's
    narrower `owners` fits."""

    @property
    def securityhub(self) -> SecurityHubPort: ...

    @property
    def owners(self) -> object:  # an `AccountNames` (OwnerDirectory) gives account names; anything else gives none
        ...


def panel_view(
    tenant: Tenant, store: StorePort, issue_key: str, context_of: Callable[[Tenant], FindingSources], *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The panel of `issue_key` as JSON for the front end (see the module docstring for the states)."""
    read_at = (now or datetime.now(UTC)).isoformat()
    with store.read() as uow:
        link = uow.links.get_by_ticket(tenant.id, issue_key)
        timeline = uow.audit.for_finding(tenant.id, link.finding_key, limit=TIMELINE_LIMIT) if link else []
    view: dict[str, Any] = {"issueKey": issue_key, "readAt": read_at, "link": None, "finding": None, "timeline": []}
    if link is None:
        return {**view, "state": "no_finding", "message": "No Security Hub finding is linked to this issue."}
    view.update(link=_link_json(link), timeline=[_entry_json(entry) for entry in timeline])
    try:
        context = context_of(tenant)
        finding = context.securityhub.get([link.identifier]).get(link.finding_key)
    except (TenantNotReady, InvalidPolicy) as problem:
        message = f"hubsync is not configured yet: {problem}. A Jira admin can finish it on the app's configure page."
        return {**view, "state": "not_configured", "message": message}
    except SecurityHubUnavailable as error:
        log.warning("panel of %s (tenant %s): Security Hub unreachable: %s", issue_key, tenant.id, error)
        return {**view, "state": "aws_unreachable", "message": f"AWS cannot be reached: {error}"}
    if finding is None:
        message = "Security Hub no longer has this finding (it was deleted, or aged out after 90 days)."
        return {**view, "state": "finding_gone", "message": message}
    name = finding.account_name or _account_name(context.owners, finding.account_id)
    return {**view, "state": "linked", "message": None, "finding": finding_json(finding, name)}


def finding_json(finding: Finding, account_name: str | None = None) -> dict[str, Any]:
    """What the panel shows of a finding; every value as Security Hub has it now."""
    return {
        "id": finding.id,
        "productArn": finding.product_arn,
        "title": finding.title,
        "description": finding.description,
        "severity": finding.severity.value,
        "workflowStatus": finding.workflow_status.value,
        "recordState": finding.record_state.value,
        "complianceStatus": finding.compliance_status,
        "verificationState": finding.verification_state,
        "live": finding.is_live,
        "accountId": finding.account_id,
        "accountName": account_name,
        "region": finding.region,
        "productName": finding.product_name,
        "companyName": finding.company_name,
        "controlId": finding.security_control_id,
        "standards": [{"id": standard, "name": standard_name(standard)} for standard in finding.standards],
        "resources": [{"type": r.type, "id": r.id, "region": r.region} for r in finding.resources],
        "remediation": {"text": finding.remediation_text, "url": safe_link(finding.remediation_url)},
        "consoleUrl": console_url(finding),
        "note": {"text": finding.note_text, "updatedBy": finding.note_updated_by} if finding.note_text else None,
        "createdAt": finding.created_at.isoformat(),
        "updatedAt": finding.updated_at.isoformat(),
    }


def _link_json(link: Link) -> dict[str, Any]:
    return {
        "state": link.state.value,
        "ticketKey": link.ticket_key,
        "findingKey": link.finding_key,
        "findingId": link.finding_id,
        "productArn": link.product_arn,
        "acceptedUntil": link.accepted_until.isoformat() if link.accepted_until else None,
    }


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "action": entry.action,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "rule": entry.rule,
        "ticketKey": entry.ticket_key,
    }


def _account_name(owners: object, account_id: str) -> str | None:
    """The account's name from AWS Organizations when the tenant gave hubsync a role there (cached, never raises)."""
    if not isinstance(owners, AccountNames):
        return None
    return owners.account_name(account_id)


