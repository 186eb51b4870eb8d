"""The periodic full reconcile: every finding the rules escalate that has no ticket yet, and every linked pair.

Events are hints; this is the safety net that converges whatever events were lost, late or reordered. It pages
both sides (GetFindings 100 a page with server-side filters, the link table 100 at a time) and keeps no more
than a page in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from hubsync.domain.finding import Severity
from hubsync.domain.policy import EscalationRule, Policy
from hubsync.service.sync import BATCH, Outcome, SyncContext, sync_findings, sync_links


@dataclass
class ReconcileReport:
    outcomes: list[Outcome] = field(default_factory=list)
    findings_seen: int = 0
    links_seen: int = 0

    @property
    def changed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.actions]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]


def reconcile(
    ctx: SyncContext, dry_run: bool = False, progress: Callable[[str], None] | None = None
) -> ReconcileReport:
    report = ReconcileReport()
    say = progress or (lambda _message: None)
    seen_new: set[str] = set()
    for filters in escalation_filters(ctx.policy):
        for page in _chunks(ctx.securityhub.findings(filters), BATCH):
            fresh = [f for f in page if f.key not in seen_new]  # a finding may match several rules
            seen_new.update(f.key for f in fresh)
            report.findings_seen += len(fresh)
            outcomes = sync_findings(ctx, fresh, dry_run=dry_run)
            report.outcomes += [o for o in outcomes if o.actions or o.error]
            say(f"new findings: {report.findings_seen} looked at")
    for batch in _chunks(ctx.store.iter_links(ctx.tenant_id), BATCH):
        report.links_seen += len(batch)
        outcomes = sync_links(ctx, batch, dry_run=dry_run)
        report.outcomes += [o for o in outcomes if o.actions or o.error]
        say(f"linked findings: {report.links_seen} looked at")
    return report


def escalation_filters(policy: Policy) -> Iterator[dict[str, Any]]:
    """GetFindings filters that fetch, per escalation rule, the live NEW findings it may escalate.

    They narrow the fetch only: `decide()` applies the rules exactly. Filters AND across fields and OR within
    one, so a rule naming products both by name and by ARN prefix becomes two fetches.
    """
    base = {
        "RecordState": [_eq("ACTIVE")],
        "WorkflowStatus": [_eq("NEW")],
        "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
    }
    for rule in policy.rules:
        filters = dict(base)
        filters.update(_rule_filters(rule))
        names = [p for p in rule.products if not p.startswith("arn:")]
        arns = [p for p in rule.products if p.startswith("arn:")]
        if names:
            yield {**filters, "ProductName": [_eq(name) for name in names]}
        if arns:
            yield {**filters, "ProductArn": [{"Value": arn, "Comparison": "PREFIX"} for arn in arns]}
        if not rule.products:
            yield filters


def _rule_filters(rule: EscalationRule) -> dict[str, list[dict[str, str]]]:
    filters: dict[str, list[dict[str, str]]] = {}
    if rule.security_control_ids:
        filters["ComplianceSecurityControlId"] = [_eq(v) for v in rule.security_control_ids]
    if rule.generator_ids:
        filters["GeneratorId"] = [_eq(v) for v in rule.generator_ids]
    if rule.min_severity is not None:
        minimum = rule.min_severity.rank
        filters["SeverityLabel"] = [_eq(s.value) for s in Severity if s.rank >= minimum]
    if rule.account_ids:
        filters["AwsAccountId"] = [_eq(v) for v in rule.account_ids]
    if rule.regions:
        filters["Region"] = [_eq(v) for v in rule.regions]
    return filters


def _eq(value: str) -> dict[str, str]:
    return {"Value": value, "Comparison": "EQUALS"}


def _chunks(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
