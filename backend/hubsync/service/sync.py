"""Sync findings with their tickets: load both sides, decide, apply, record.

Work goes in batches (up to 100 findings) so every side is called in bulk: one search for the links' tickets,
one bulk create per 50 new tickets, one BatchUpdateFindings per 100 finding updates. Each pair's outcome is
saved only once all its actions succeeded, so a failure leaves the pair to the next event or reconcile —
which decides again from the current state of both sides (level-triggered: nothing is lost, nothing repeats).
A batch holds its findings' sync locks (`Store.serialized`) from the first read to the last save, so two syncs of
one finding on any number of workers run one after the other; the second reads the link (and, for events and
linked pairs, the finding and ticket) as the first left them. A reconcile page's findings were read before the
lock: a decision on such a stale read repeats at most an idempotent write (the same workflow, the same note).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

from hubsync.domain.decide import decide
from hubsync.domain.document import Document
from hubsync.domain.finding import Finding, FindingIdentifier, marker_label
from hubsync.domain.link import ClaimOutcome, Link, LinkState, StaleLink
from hubsync.domain.plan import (
    CommentOnTicket,
    CreateTicket,
    EditTicket,
    FindingUpdate,
    MoveTicket,
    Plan,
    UpdateFinding,
)
from hubsync.domain.policy import Policy
from hubsync.domain.ports import (
    JiraPort,
    NoTransitionPath,
    OwnerDirectoryPort,
    SecurityHubPort,
    StorePort,
    TicketDraft,
    TicketsNotCreated,
    UnitOfWorkPort,
)
from hubsync.domain.rendering import Lozenge, render_ticket, workflow_lozenge
from hubsync.domain.sync_locks import HeldLocks
from hubsync.domain.ticket import MARKER_PROPERTY, Disposition, FindingMarker, Ticket
from hubsync.service.routing import AssigneeRouter

log = logging.getLogger(__name__)

BATCH = 100

T = TypeVar("T")


@dataclass
class SyncContext:
    """Everything one tenant's sync needs: its policy, the three sides, the store and a clock."""

    tenant_id: str
    policy: Policy
    securityhub: SecurityHubPort
    jira: JiraPort
    owners: OwnerDirectoryPort
    store: StorePort
    clock: Callable[[], datetime]
    is_transient: Callable[[BaseException], bool]  # whether a side's error says "not now" (retry uncounted)


@dataclass
class Pair:
    """One finding (None: Security Hub no longer has it) and what the store knows of it."""

    key: str
    identifier: FindingIdentifier
    finding: Finding | None
    link: Link | None
    by_hand: bool = False
    ticket: Ticket | None = None
    plan: Plan | None = None
    ticket_key: str | None = None
    error: str | None = None
    transient: bool = False  # the error was a side's "not now": retry without using up the hint's attempts
    retry_at: datetime | None = None  # not before then (a claim's lease)
    notes: list[str] = field(default_factory=list)

    def fail(self, error: str, *, transient: bool, retry_at: datetime | None = None) -> None:
        self.error = error
        self.transient = transient
        self.retry_at = retry_at

    def failed(self, error: str, exc: BaseException, is_transient: Callable[[BaseException], bool]) -> None:
        self.fail(f"{error}{exc}", transient=is_transient(exc))


@dataclass(frozen=True)
class Outcome:
    finding_key: str
    finding_id: str
    ticket_key: str | None
    rule: int | None
    reason: str
    actions: tuple[str, ...]
    error: str | None = None
    transient: bool = False  # see Pair.transient
    retry_at: datetime | None = None

    @property
    def changed(self) -> bool:
        return bool(self.actions) and self.error is None


def sync_findings(
    ctx: SyncContext, findings: Iterable[Finding], by_hand: frozenset[str] = frozenset(), dry_run: bool = False
) -> list[Outcome]:
    """Sync current findings (a GetFindings page, an event's findings). `dry_run`: decide, change nothing."""
    outcomes: list[Outcome] = []
    for batch in _batches(list(findings)):
        with _serialized(ctx, [f.key for f in batch], dry_run) as held:
            with ctx.store.read() as uow:
                links = uow.links.get_many(ctx.tenant_id, [f.key for f in batch])
            pairs = [Pair(f.key, f.identifier, f, links.get(f.key), by_hand=f.key in by_hand) for f in batch]
            outcomes += _sync(ctx, pairs, dry_run, held)
    return outcomes


def sync_links(ctx: SyncContext, links: Iterable[Link], dry_run: bool = False) -> list[Outcome]:
    """Sync linked pairs, reading each finding fresh from Security Hub (absent: it was deleted)."""
    outcomes: list[Outcome] = []
    for batch in _batches(list(links)):
        keys = [link.finding_key for link in batch]
        with _serialized(ctx, keys, dry_run) as held:
            with ctx.store.read() as uow:  # as the last sync left them, now that none is running
                current_links = uow.links.get_many(ctx.tenant_id, keys)
            identifiers = [link.identifier for link in batch]
            current = ctx.securityhub.get(identifiers)
            moved = {key: finding for key, finding in current.items() if finding.key != key}
            pairs = [
                Pair(key, identifier, current.get(key), current_links[key])
                for key, identifier in zip(keys, identifiers, strict=True)
                if key in current_links and key not in moved
            ]
            outcomes += _sync(ctx, pairs, dry_run, held)
        # Findings of Security Hub CSPM that came back as their twins in the new Security Hub: synced as those
        # twins, under their own locks, each taking over its CSPM twin's ticket.
        outcomes += sync_findings(ctx, list(moved.values()), dry_run=dry_run)
    return outcomes


def sync_hints(
    ctx: SyncContext, identifiers: Iterable[FindingIdentifier], by_hand: frozenset[str] = frozenset()
) -> list[Outcome]:
    """Sync the findings an event names, as they are now: an event is a hint, never the truth, so a late,
    repeated or reordered one decides on current state and costs no write."""
    outcomes: list[Outcome] = []
    for batch in _batches(list({identifier.key: identifier for identifier in identifiers}.values())):
        keys = [identifier.key for identifier in batch]
        with _serialized(ctx, keys, dry_run=False) as held:
            current = ctx.securityhub.get(batch)
            with ctx.store.read() as uow:
                links = uow.links.get_many(ctx.tenant_id, keys)
            pairs = [
                Pair(i.key, i, current.get(i.key), links.get(i.key), by_hand=i.key in by_hand)
                for i in batch
                if i.key in current or i.key in links  # unknown on both sides: nothing to sync
            ]
            outcomes += _sync(ctx, pairs, dry_run=False, held=held)
    return outcomes


def sync_tickets(ctx: SyncContext, ticket_keys: Iterable[str]) -> list[Outcome]:
    """Sync the pairs of these tickets (a Jira webhook or post function names a ticket, not a finding)."""
    with ctx.store.read() as uow:
        links = uow.links.get_by_tickets(ctx.tenant_id, ticket_keys)
    return sync_links(ctx, list(links.values()))


# -- the steps -----------------------------------------------------------------------------------
def _sync(ctx: SyncContext, pairs: list[Pair], dry_run: bool, held: HeldLocks | None) -> list[Outcome]:
    unreadable = [p for p in pairs if p.finding is None and p.key in ctx.securityhub.unreadable]
    for pair in unreadable:  # present in Security Hub but not readable here: never mistake it for deleted
        pair.fail(ctx.securityhub.unreadable[pair.key], transient=False)
        pair.ticket_key = pair.link.ticket_key if pair.link else None  # the report names the ticket left alone
    pairs = [p for p in pairs if p not in unreadable]
    if not dry_run:
        _adopt_reissued(ctx, pairs)
    _load_tickets(ctx, pairs)
    for pair in pairs:
        _decide(ctx, pair)
    if dry_run:
        return [_outcome(pair) for pair in [*unreadable, *pairs]]
    acting = [pair for pair in pairs if pair.plan is not None and not pair.plan.is_empty]
    assert held is not None  # every sync that writes holds its findings' locks
    _create_tickets(ctx, [p for p in acting if _has(p.plan, CreateTicket)], held)
    for pair in acting:
        if pair.error is None:
            _apply_ticket_actions(ctx, pair)
    _apply_finding_updates(ctx, [p for p in acting if p.error is None])
    _record(ctx, acting)
    return [_outcome(pair) for pair in [*unreadable, *pairs]]


def _adopt_reissued(ctx: SyncContext, pairs: list[Pair]) -> None:
    """A finding without a link takes over the ticket of the finding it replaces, instead of opening a second
    ticket: its twin in Security Hub CSPM, when the tenant moved to the new Security Hub; or, when an account
    switches between consolidated and per-standard control findings, the finding Security Hub re-issued it from
    (with a new Id, the old one archived up to hours later: same control, resource and account)."""
    candidates = [
        (p, p.finding) for p in pairs
        if p.link is None and p.finding is not None and (p.finding.cspm_twin or p.finding.is_live)
    ]
    if not candidates:
        return
    with ctx.store.read() as uow:
        twins = uow.links.get_many(ctx.tenant_id, [f.cspm_twin.key for _, f in candidates if f.cspm_twin])
        earlier = {p.key: _replaced(finding, twins, uow.links.get_by_secondary_key, ctx.tenant_id)
                   for p, finding in candidates}
    for pair, finding in candidates:
        old = earlier[pair.key]
        if old is None or old.state is not LinkState.LINKED or not old.ticket_key:
            continue
        if finding.cspm_twin is not None and old.finding_key == finding.cspm_twin.key:
            how = "its twin in the new Security Hub"
            said = (f"This ticket's finding is now read from the new Security Hub, as {finding.id} (it replaces "
                    f"{old.finding_id} of Security Hub CSPM). This ticket now follows it there.")
        elif _reissued(old, finding):
            how = "re-issued"
            said = (f"Security Hub re-issued this ticket's finding as {finding.id} (same control, resource and "
                    f"account; it replaces {old.finding_id}). This ticket now follows the new finding.")
        else:
            continue
        try:
            ctx.jira.set_marker(old.ticket_key, FindingMarker(finding.id, finding.product_arn, finding.key))
            ctx.jira.comment(old.ticket_key, Document.paragraph(said))
        except Exception as exc:  # Jira unavailable: adopt on a later sync, never create a second ticket meanwhile
            pair.failed(f"could not move ticket {old.ticket_key} to the finding that replaces its own ({how}): ", exc,
                        ctx.is_transient)
            continue
        pair.link = Link(finding_key=finding.key, finding_id=finding.id, product_arn=finding.product_arn,
                         state=LinkState.LINKED, ticket_key=old.ticket_key, secondary_key=finding.secondary_key)
        with ctx.store.transaction() as uow:
            uow.links.save(ctx.tenant_id, replace(old, state=LinkState.BROKEN, ticket_key=None))
            uow.links.save(ctx.tenant_id, pair.link)
            for key, reason in ((old.finding_key, f"replaced by {finding.id} ({how}); its ticket moved there"),
                                (finding.key, f"replaces {old.finding_id} ({how}): took over {old.ticket_key}")):
                uow.audit.append(tenant_id=ctx.tenant_id, finding_key=key, ticket_key=old.ticket_key,
                                 action="AdoptTicket", reason=reason, outcome="ok")


def _replaced(finding: Finding, twins: Mapping[str, Link],
              by_secondary_key: Callable[[str, str], Link | None], tenant_id: str) -> Link | None:
    """The link of the finding `finding` replaces, if any: its CSPM twin's, else (a live one) its secondary key's."""
    if finding.cspm_twin is not None and finding.cspm_twin.key in twins:
        return twins[finding.cspm_twin.key]
    if finding.is_live and finding.secondary_key:
        return by_secondary_key(tenant_id, finding.secondary_key)
    return None


def _reissued(old: Link, new: Finding) -> bool:
    """The consolidation switch changes the Id's form: `.../security-control/<Id>/...` versus
    `.../subscription/<standard>/...`. Two per-standard findings of one control are siblings, not re-issues."""
    return (":security-control/" in old.finding_id) != (":security-control/" in new.id)


def _load_tickets(ctx: SyncContext, pairs: list[Pair]) -> None:
    keys = [p.link.ticket_key for p in pairs if p.link and p.link.state is LinkState.LINKED and p.link.ticket_key]
    tickets = ctx.jira.get_tickets(keys) if keys else {}
    for pair in pairs:
        if pair.link and pair.link.state is LinkState.LINKED and pair.link.ticket_key:
            pair.ticket = tickets.get(pair.link.ticket_key)
            # A ticket Jira no longer has (GET answered 404) is no longer the pair's: rule 3 decides what follows.
            pair.ticket_key = pair.link.ticket_key if pair.ticket is not None else None


def _decide(ctx: SyncContext, pair: Pair) -> None:
    pair.plan = decide(
        pair.finding, pair.ticket, pair.link, ctx.policy, ctx.clock(), escalated_by_hand=pair.by_hand
    )


def _create_tickets(ctx: SyncContext, pairs: list[Pair], held: HeldLocks) -> None:
    """Look up the assignees, claim, then create in bulk. A claim an earlier attempt left unfinished is resolved
    first by looking for its marker in Jira, so a crash between Jira's create and our commit never makes a second
    ticket. Whatever fails before the create is sent gives its claims back, so the next attempt starts at once."""
    drafts = _drafts(ctx, pairs)  # before claiming: a lookup that fails must not leave a claim behind
    pairs = [pair for pair in pairs if pair.key in drafts]
    if not pairs:
        return
    with ctx.store.transaction() as uow:
        for pair in pairs:  # a link whose ticket was deleted (rule 3) is broken first, so that it can be claimed
            if pair.link is not None and pair.link.state is LinkState.LINKED:
                uow.links.save(ctx.tenant_id, replace(pair.link, state=LinkState.BROKEN,
                                                      seen_disposition=Disposition.MISSING))
        claims = uow.links.claim_many(ctx.tenant_id, [(p.identifier, _secondary_key(p)) for p in pairs])
    owned: list[tuple[Pair, int]] = []
    unfinished: dict[str, Pair] = {}
    for pair, claim in zip(pairs, claims, strict=True):
        if claim.owned:
            owned.append((pair, claim.version))
            if claim.outcome is ClaimOutcome.UNFINISHED:
                unfinished[marker_label(pair.key)] = pair
        elif claim.outcome is ClaimOutcome.EXISTING:
            pair.fail(f"already linked to {claim.link.ticket_key} by another sync", transient=True)
        else:
            pair.fail("an earlier attempt to create this finding's ticket was interrupted; it is looked for in Jira "
                      "once Jira's search has caught up", transient=True, retry_at=claim.live_until)
    # Claims whose ticket may exist in Jira are never given back: an interrupted create's, until the marker search
    # answered, and every claim whose create is sent.
    sent = {pair.key for pair in unfinished.values()}
    try:
        adopted = ctx.jira.find_by_markers(list(unfinished)) if unfinished else {}
        sent -= {pair.key for label, pair in unfinished.items() if label not in adopted}
        for label, ticket in adopted.items():
            pair = unfinished[label]
            pair.ticket_key = ticket.key
            pair.notes.append(f"an interrupted creation had reached Jira as {ticket.key}: adopted it")
            _save_links(ctx, [pair])
        to_create = [(pair, version) for pair, version in owned if pair.ticket_key is None]
        if to_create:
            held.verify()  # a sync that lost its locks may no longer speak for these findings
            sent.update(pair.key for pair, _version in to_create)
            _create(ctx, to_create, drafts, held)
    except BaseException:
        _release(ctx, [(pair, version) for pair, version in owned if pair.key not in sent], quietly=True)
        raise


def _drafts(ctx: SyncContext, pairs: list[Pair]) -> dict[str, TicketDraft]:
    """Each new ticket as Jira will get it, assigned to its account's owner. A pair whose owner cannot be looked up
    now (Jira or Organizations unreachable) fails alone, to be retried."""
    router = AssigneeRouter(ctx.owners, ctx.jira, ctx.policy.default_assignee, ctx.policy.owner_tag_key)
    drafts: dict[str, TicketDraft] = {}
    for pair in pairs:
        finding = pair.finding
        assert finding is not None  # rule 1 only fires for a live finding
        try:
            assignment = router.assignment_for(finding.account_id)
        except Exception as exc:  # any adapter error: this pair waits for the next attempt
            pair.failed(f"could not look up the owner of AWS account {finding.account_id}: ", exc, ctx.is_transient)
            continue
        rendered = render_ticket(finding, ctx.policy)
        description = rendered.description
        if assignment.reason:  # why the default assignee: said in the ticket itself, at no extra request
            description = description + Document.paragraph(assignment.reason)
            pair.notes.append(assignment.reason)
        drafts[pair.key] = TicketDraft(
            project_key=ctx.policy.project_key,
            issue_type=ctx.policy.issue_type,
            summary=rendered.summary,
            description=description,
            priority=rendered.priority,
            labels=(*rendered.labels, *assignment.extra_labels),
            assignee=assignment.assignee,
            properties={MARKER_PROPERTY: FindingMarker(finding.id, finding.product_arn, finding.key).to_property()},
            lozenge=_lozenge(pair),
        )
    return drafts


def _create(
    ctx: SyncContext, claimed: list[tuple[Pair, int]], drafts: dict[str, TicketDraft], held: HeldLocks
) -> None:
    try:  # each request sent only while the findings' locks are still held
        results = ctx.jira.create_tickets([drafts[pair.key] for pair, _version in claimed], guard=held.verify)
    except TicketsNotCreated as exc:  # Jira answered without creating: those claims may go back at once
        results = exc.created  # what the call's earlier requests made
        made = {result.draft_index for result in results}
        _release(ctx, [claim for index, claim in enumerate(claimed) if index not in made],
                 f"Jira did not create the tickets: {exc}", transient=ctx.is_transient(exc))
    except Exception as exc:  # the create may have reached Jira: the claims stay, their lease decides when to look
        for pair, _version in claimed:
            pair.fail(f"Jira's answer to the create was lost ({exc}); the ticket is looked for in Jira once "
                      "Jira's search has caught up", transient=True)
        return
    created: list[Pair] = []
    for result in results:
        pair, version = claimed[result.draft_index]
        if result.key is None:
            _release(ctx, [(pair, version)], f"Jira refused the ticket: {result.error}", transient=False)
            continue
        pair.ticket_key = result.key
        created.append(pair)
    _save_links(ctx, created)  # the tickets exist: record them before anything else can fail


def _release(
    ctx: SyncContext, claimed: list[tuple[Pair, int]], error: str = "", *, transient: bool = True,
    quietly: bool = False,
) -> None:
    """Give claims back (no ticket was created for them). `quietly`: while another error is on its way up, which
    says what went wrong; a release that fails then leaves the claims to their lease."""
    if not claimed:
        return
    try:
        with ctx.store.transaction() as uow:
            for pair, version in claimed:
                if not quietly:
                    pair.fail(error, transient=transient)
                uow.links.release_claim(ctx.tenant_id, pair.key, expected_version=version)
    except Exception as exc:
        if not quietly:
            raise
        log.warning("could not give back %d claims (their lease frees them): %s", len(claimed), exc,
                    extra={"tenant": ctx.tenant_id})


def _apply_ticket_actions(ctx: SyncContext, pair: Pair) -> None:
    assert pair.plan is not None
    for action in pair.plan.actions:
        if pair.error is not None:
            return
        if isinstance(action, MoveTicket):
            _safely(ctx, pair, partial(_move, ctx, pair, action))
        elif isinstance(action, CommentOnTicket):
            _safely(ctx, pair, partial(_comment, ctx, pair, action))
        elif isinstance(action, EditTicket):
            _safely(ctx, pair, partial(_edit, ctx, pair, action))


def _comment(ctx: SyncContext, pair: Pair, comment: CommentOnTicket) -> None:
    ctx.jira.comment(_key(pair), Document.paragraph(comment.text))


def _edit(ctx: SyncContext, pair: Pair, edit: EditTicket) -> None:
    ctx.jira.edit(_key(pair), summary=edit.summary, priority=edit.priority)


def _move(ctx: SyncContext, pair: Pair, move: MoveTicket) -> None:
    comment = move.comment
    try:
        ctx.jira.move(_ticket(pair), move, ctx.policy.disposition_of_status)
    except NoTransitionPath as exc:
        target = move.status or (move.disposition.value if move.disposition else "?")
        text = f"hubsync could not move this ticket to {target}: {exc}."
        if comment:
            text = f"{comment} ({text})"
        ctx.jira.comment(_key(pair), Document.paragraph(text))


def _apply_finding_updates(ctx: SyncContext, pairs: list[Pair]) -> None:
    updates = []
    owners: dict[str, Pair] = {}
    for pair in pairs:
        assert pair.plan is not None
        for action in pair.plan.actions:
            if isinstance(action, UpdateFinding):
                updates.append((pair.identifier, _filled_update(action, pair)))
                owners[pair.key] = pair
    if not updates:
        return
    for failure in ctx.securityhub.update(updates):
        failed = owners.get(failure.identifier.key)
        if failed is not None:
            failed.fail(f"Security Hub did not update the finding: {failure.error_code} {failure.message}",
                        transient=failure.transient)
    for pair in owners.values():
        lozenge = _lozenge(pair)
        if pair.error is None and lozenge is not None and pair.ticket_key and not _has(pair.plan, CreateTicket):
            _show(ctx, pair.ticket_key, lozenge)


def _show(ctx: SyncContext, ticket_key: str, lozenge: Lozenge) -> None:
    """Keep the issue glance's lozenge current. Only a picture of the finding (the panel reads it live): a failure
    is logged, and the finding's next change draws it again."""
    try:
        ctx.jira.show_lozenge(ticket_key, lozenge)
    except Exception as exc:  # any adapter error: the sync itself succeeded
        log.warning("could not show the finding's status on %s: %s", ticket_key, exc,
                    extra={"tenant": ctx.tenant_id, "ticket_key": ticket_key})


def _record(ctx: SyncContext, pairs: list[Pair]) -> None:
    """Save each pair's link (only when all its actions succeeded) and its audit entry, in one transaction."""
    saving = [p for p in pairs if p.error is None and p.plan and p.plan.link and not _has(p.plan, CreateTicket)]
    _save_links(ctx, saving, audit=pairs)


def _save_links(ctx: SyncContext, pairs: list[Pair], audit: list[Pair] | None = None) -> None:
    with ctx.store.transaction() as uow:
        for pair in pairs:
            try:
                uow.links.save(ctx.tenant_id, _linked(pair))
            except StaleLink as exc:  # another sync wrote it first: its view wins, the next sync decides again
                pair.fail(str(exc), transient=True)
        for pair in audit or []:
            _audit(uow, ctx.tenant_id, pair)


# -- helpers -------------------------------------------------------------------------------------
def _serialized(ctx: SyncContext, keys: list[str], dry_run: bool) -> AbstractContextManager[HeldLocks | None]:
    """A batch holds its findings from the first read to the last save, so syncs of one finding (events,
    webhooks, reconcile, on any worker) never interleave; a dry run changes nothing and need not wait."""
    return nullcontext() if dry_run else ctx.store.serialized(ctx.tenant_id, keys)


def _linked(pair: Pair) -> Link:
    assert pair.plan is not None and pair.plan.link is not None
    return replace(pair.plan.link, ticket_key=pair.ticket_key or pair.plan.link.ticket_key)


def _secondary_key(pair: Pair) -> str | None:
    return pair.finding.secondary_key if pair.finding else None


def _lozenge(pair: Pair) -> Lozenge | None:
    """The glance lozenge for the workflow status this pair's plan writes, if it writes one."""
    assert pair.plan is not None
    workflows = [a.workflow for a in pair.plan.actions if isinstance(a, UpdateFinding) and a.workflow is not None]
    return workflow_lozenge(workflows[-1]) if workflows else None


def _filled_update(update: UpdateFinding, pair: Pair) -> FindingUpdate:
    return update.for_ticket(pair.ticket_key or "(no ticket)")


def _key(pair: Pair) -> str:
    if not pair.ticket_key:
        raise RuntimeError(f"finding {pair.identifier.id} has no ticket to act on")
    return pair.ticket_key


def _ticket(pair: Pair) -> Ticket:
    if pair.ticket is None:
        raise RuntimeError(f"finding {pair.identifier.id} has no ticket to move")
    return pair.ticket


def _safely(ctx: SyncContext, pair: Pair, call: Callable[[], object]) -> None:
    """Run one side effect; a failure marks the pair so its link is not saved and the next sync retries."""
    try:
        call()
    except Exception as exc:  # adapters raise their own errors; any of them must not stop the batch
        log.warning("sync of finding %s failed: %s", pair.key, exc,
                    extra={"tenant": ctx.tenant_id, "finding_key": pair.key, "ticket_key": pair.ticket_key})
        pair.failed("", exc, ctx.is_transient)


def _has(plan: Plan | None, kind: type) -> bool:
    return plan is not None and any(isinstance(action, kind) for action in plan.actions)


def _describe(plan: Plan) -> str:
    return ", ".join(dict.fromkeys(type(action).__name__ for action in plan.actions)) or "nothing"


def _audit(uow: UnitOfWorkPort, tenant_id: str, pair: Pair) -> None:
    assert pair.plan is not None
    finding = pair.finding
    before = {
        "workflow": finding.workflow_status.value if finding else None,
        "record_state": finding.record_state.value if finding else None,
        "ticket_status": pair.ticket.status if pair.ticket else None,
    }
    uow.audit.append(
        tenant_id=tenant_id,
        finding_key=pair.key,
        ticket_key=pair.ticket_key,
        rule=pair.plan.rule,
        action=_describe(pair.plan),
        reason=pair.plan.reason,
        before=before,
        after={"actions": [repr(a) for a in pair.plan.actions], "notes": pair.notes, "error": pair.error},
        outcome="failed" if pair.error else "ok",
    )


def _outcome(pair: Pair) -> Outcome:
    plan = pair.plan
    return Outcome(
        finding_key=pair.key,
        finding_id=pair.identifier.id,
        ticket_key=pair.ticket_key,
        rule=plan.rule if plan else None,
        reason=plan.reason if plan else "",
        actions=tuple(type(a).__name__ for a in plan.actions) if plan else (),
        error=pair.error,
        transient=pair.transient,
        retry_at=pair.retry_at,
    )


def _batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
