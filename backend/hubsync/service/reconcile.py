"""The periodic full reconcile: every finding the rules escalate that has no ticket yet (or a person asked a ticket
for, with the escalation tag in its note or comment), and every linked pair.

Events are hints; this is the safety net that converges whatever events were lost, late or reordered. It pages
both sides (GetFindings 100 a page with server-side filters, the link table 100 at a time) and keeps no more
than a page in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from hubsync.domain.finding import ESCALATION_TAG, Severity
from hubsync.domain.link import Link, LinkState
from hubsync.domain.policy import EscalationRule, Policy
from hubsync.domain.ticket import Ticket
from hubsync.service.sync import BATCH, Outcome, SyncContext, sync_findings, sync_links

T = TypeVar("T")
TAG_SPELLINGS = tuple(dict.fromkeys((ESCALATION_TAG, ESCALATION_TAG.upper(), ESCALATION_TAG.title())))


@dataclass
class ReconcileReport:
    outcomes: list[Outcome] = field(default_factory=list)
    findings_seen: int = 0
    links_seen: int = 0
    tickets_seen: int = 0

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
    synced_now: set[str] = set()  # synced from a fresh read by the first pass: the second need not read them again
    for filters in escalation_filters(ctx.policy):
        for page in _chunks(ctx.securityhub.findings(filters), BATCH):
            fresh = [f for f in page if f.key not in seen_new]  # a finding may match several rules
            seen_new.update(f.key for f in fresh)
            report.findings_seen += len(fresh)
            outcomes = sync_findings(ctx, fresh, dry_run=dry_run)
            synced_now.update(o.finding_key for o in outcomes if o.error is None)
            report.outcomes += [o for o in outcomes if o.actions or o.error]
            say(f"new findings: {report.findings_seen} looked at")
    for batch in _chunks(ctx.store.iter_links(ctx.tenant_id), BATCH):
        report.links_seen += len(batch)
        batch = [link for link in batch if link.finding_key not in synced_now]
        outcomes = sync_links(ctx, batch, dry_run=dry_run)
        report.outcomes += [o for o in outcomes if o.actions or o.error]
        say(f"linked findings: {report.links_seen} looked at")
    for tickets in _chunks(ctx.jira.linked_tickets(ctx.policy.project_key), BATCH):
        report.tickets_seen += len(tickets)
        report.outcomes += _rebuild_links(ctx, tickets, dry_run)
    return report


def _rebuild_links(ctx: SyncContext, tickets: list[Ticket], dry_run: bool) -> list[Outcome]:
    """Tickets that carry hubsync's marker but have no link (a restored database, a lost commit): the marker
    names the finding, so the link is rebuilt from it and the pair synced. A second ticket for an already linked
    finding is reported, never silently merged."""
    with ctx.store.read() as uow:
        linked = uow.links.get_by_tickets(ctx.tenant_id, [t.key for t in tickets])
    orphans = [t for t in tickets if t.key not in linked]
    outcomes: list[Outcome] = []
    rebuilt: list[Link] = []
    unmarked = [t.key for t in orphans if t.marker is None]
    reread = ctx.jira.get_tickets(unmarked) if unmarked else {}  # a search may leave out issue properties
    markers = {t.key: t.marker or reread.get(t.key, t).marker for t in orphans}
    with ctx.store.read() as uow:
        links = uow.links.get_many(ctx.tenant_id, [m.key for m in markers.values() if m is not None])
    for ticket in orphans:
        marker = markers[ticket.key]
        if marker is None:
            continue  # labelled by hand, or its property was removed: nothing names the finding
        existing = links.get(marker.key)
        if existing is not None and existing.ticket_key not in (None, ticket.key):
            outcomes.append(
                Outcome(marker.key, marker.finding_id, ticket.key, None, "", (),
                        error=f"duplicate: the finding is already linked to {existing.ticket_key}")
            )
            continue
        rebuilt.append(
            Link(finding_key=marker.key, finding_id=marker.finding_id, product_arn=marker.product_arn,
                 state=LinkState.LINKED, ticket_key=ticket.key)
        )
    if not rebuilt:
        return outcomes
    if dry_run:
        return outcomes + [
            Outcome(link.finding_key, link.finding_id, link.ticket_key, None,
                    "rebuild the link from the ticket's marker", ("RebuildLink",))
            for link in rebuilt
        ]
    with ctx.store.transaction() as uow:
        for link in rebuilt:
            uow.links.save(ctx.tenant_id, link)
            uow.audit.append(tenant_id=ctx.tenant_id, finding_key=link.finding_key, ticket_key=link.ticket_key,
                             action="RebuildLink", reason="the ticket's marker names this finding; no link was stored",
                             outcome="ok")
    synced = sync_links(ctx, rebuilt)
    return outcomes + [
        Outcome(o.finding_key, o.finding_id, o.ticket_key, o.rule, o.reason or "link rebuilt from the marker",
                ("RebuildLink", *o.actions), o.error)
        for o in synced
    ]


def escalation_filters(policy: Policy) -> Iterator[dict[str, Any]]:
    """GetFindings filters that fetch, per escalation rule, the live NEW findings it may escalate; then the live
    findings whose note or comment asks for a ticket (the escalation tag), whatever the rules say. That read is the
    safety net of the new Security Hub's manual escalation, as AWS does not document that a comment sends an event;
    the filter's PREFIX matches case-sensitively, so it asks for the usual spellings of the tag."""
    for rule in policy.rules:
        yield from rule_filters(rule)
    yield {
        "RecordState": [_eq("ACTIVE")],
        "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
        "NoteText": [{"Value": tag, "Comparison": "PREFIX"} for tag in TAG_SPELLINGS],
    }


def rule_filters(rule: EscalationRule) -> Iterator[dict[str, Any]]:
    """GetFindings filters that fetch the live NEW findings one rule may escalate (the configure page's rule
    preview reads with them too, so it counts what reconcile fetches).

    They narrow the fetch only: `decide()` applies the rules exactly. Filters AND across fields and OR within
    one, so a rule naming products both by name and by ARN prefix becomes two fetches.
    """
    filters: dict[str, Any] = {
        "RecordState": [_eq("ACTIVE")],
        "WorkflowStatus": [_eq("NEW")],
        "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
        **_criteria(rule),
    }
    names = [p for p in rule.products if not p.startswith("arn:")]
    arns = [p for p in rule.products if p.startswith("arn:")]
    if names:
        yield {**filters, "ProductName": [_eq(name) for name in names]}
    if arns:
        yield {**filters, "ProductArn": [{"Value": arn, "Comparison": "PREFIX"} for arn in arns]}
    if not rule.products:
        yield filters


def _criteria(rule: EscalationRule) -> dict[str, list[dict[str, str]]]:
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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
