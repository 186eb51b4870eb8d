"""`decide()`: the one place where the sync rules live (the rules table of DESIGN.md, first match wins).

It looks at the current state of both sides and at the link's memory, and returns the plan that brings them in
step, with the link as it must be saved afterwards. Deciding again on the state the plan leaves gives an empty plan:
that is what makes duplicate, late or reordered events, and our own echoes, harmless.

Links reach `decide` in one of these shapes:
- None, or BROKEN (its ticket was deleted): no link. A ticket passed along anyway is adopted (its marker found it).
- CLAIMED (a creation under way): the service resolves claims first, by looking for the marker in Jira. It passes
  the ticket it found, which `decide` adopts; with no ticket, the claim counts as no link, so rule 1 may create.
- LINKED with a ticket key: the ticket passed is that ticket, None when Jira no longer has it (MISSING).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from hubsync.domain.finding import HUBSYNC_AUTHOR, Finding, RecordState, WorkflowStatus, names_ticket
from hubsync.domain.link import Link, LinkState
from hubsync.domain.plan import (
    TICKET_KEY,
    Action,
    CommentOnTicket,
    CreateTicket,
    EditTicket,
    MoveTicket,
    Plan,
    TicketKey,
    TicketText,
    UpdateFinding,
)
from hubsync.domain.policy import Policy
from hubsync.domain.rendering import ticket_summary
from hubsync.domain.ticket import Disposition, StatusCategory, Ticket

NOTE_LIMIT = 512  # Security Hub's limit on Note.Text
TICKET_KEY_ROOM = 24  # a note's `TICKET_KEY` becomes a key of up to this many characters
FALSE_POSITIVE = "FALSE_POSITIVE"  # the VerificationState hubsync writes for false positives
OPENISH = (Disposition.OPEN, Disposition.EXPIRED)  # a ticket someone still has to act on


def decide(
    finding: Finding | None,
    ticket: Ticket | None,
    link: Link | None,
    policy: Policy,
    now: datetime,
    *,
    escalated_by_hand: bool = False,
) -> Plan:
    """The plan for one finding and its ticket. `finding` None: Security Hub no longer has it (deleted some time
    after its last update). `escalated_by_hand`: a custom action asked for a ticket whatever the rules say; so does
    a note or comment that starts with the escalation tag (`Finding.asks_for_ticket`)."""
    escalated_by_hand = escalated_by_hand or (finding is not None and finding.asks_for_ticket)
    current = _current_link(finding, ticket, link)
    if current is None:
        return _unlinked(finding, link, policy, escalated_by_hand)
    if finding is not None and current.seen_updated_at is not None and finding.updated_at < current.seen_updated_at:
        return Plan(None, f"stale finding (updated {_when(finding.updated_at)}, already saw a later one): ignored")
    step = _linked(finding, ticket, current, policy, now, escalated_by_hand)
    if escalated_by_hand:
        step = _escalated_again(step, finding, current)
    return _finish(step, finding, link, current, policy, now)


# --- no link: rules 1 and 2 --------------------------------------------------------------------------------


def _unlinked(finding: Finding | None, link: Link | None, policy: Policy, by_hand: bool) -> Plan:
    if finding is None:
        return Plan(2, "Security Hub no longer has this finding: nothing to do")
    if not finding.is_live:
        return Plan(2, f"finding is {_gone_state(finding)}: no ticket")
    rule = policy.escalation_rule_for(finding)
    if by_hand:
        why, note = "escalated by hand", _note("Escalated by hand to Jira: tracked in ", TICKET_KEY, *_asked(finding))
    elif finding.workflow_status is not WorkflowStatus.NEW:
        return Plan(2, f"finding is {finding.workflow_status} (not NEW) and has no ticket: not escalated")
    elif rule is None:
        return Plan(2, "no escalation rule matches the finding: no ticket")
    else:
        why = f"matches escalation rule {rule.name!r}"
        note = _note("Tracked in ", TICKET_KEY, f" (hubsync rule {rule.name!r})")
    return _create(finding, policy, 1, f"{why}: creating a ticket", note, by_hand)


def _create(
    finding: Finding, policy: Policy, rule: int, reason: str, note: TicketText, by_hand: bool = False
) -> Plan:
    """Create the ticket and notify the finding; the link is saved LINKED once the service knows the key."""
    notify = UpdateFinding(WorkflowStatus.NOTIFIED, note, {"jiraIssue": TICKET_KEY})
    link = Link(
        finding_key=finding.key,
        finding_id=finding.id,
        product_arn=finding.product_arn,
        state=LinkState.LINKED,
        ticket_key=None,
        secondary_key=finding.secondary_key,
        seen_updated_at=finding.updated_at,
        written_workflow=WorkflowStatus.NOTIFIED,
        seen_disposition=Disposition.OPEN,
        rendered_severity=finding.severity.value,
        rendered_title=finding.title,
    )
    return Plan(rule, reason, (CreateTicket(escalated_by_hand=by_hand), notify), link)


def _current_link(finding: Finding | None, ticket: Ticket | None, link: Link | None) -> Link | None:
    """The link the rules work from, or None for "no link" (see the module docstring)."""
    if link is not None and link.state is LinkState.LINKED and link.ticket_key:
        return replace(link, ticket_key=ticket.key) if ticket is not None else link
    if ticket is None:
        return None
    if link is not None and link.state is not LinkState.BROKEN:
        return replace(link, state=LinkState.LINKED, ticket_key=ticket.key)
    if finding is not None:
        return Link(finding.key, finding.id, finding.product_arn, LinkState.LINKED, ticket.key)
    if ticket.marker is not None:
        marker = ticket.marker
        return Link(marker.key, marker.finding_id, marker.product_arn, LinkState.LINKED, ticket.key)
    return None


# --- a linked pair: rules 3 to 13 --------------------------------------------------------------------------


@dataclass
class _Step:
    """What the matched rule does, before the link is worked out."""

    rule: int | None
    reason: str
    actions: list[Action] = field(default_factory=list)
    disposition: Disposition = Disposition.MISSING  # the ticket's disposition once the actions are applied
    asks_for_risk_acceptance: bool = False  # rule 8: remember that the request was made, now
    plan: Plan | None = None  # a finished plan (rule 3)


def _linked(
    finding: Finding | None, ticket: Ticket | None, link: Link, policy: Policy, now: datetime, by_hand: bool
) -> _Step:
    key = link.ticket_key or "the ticket"
    disposition = policy.disposition_of(ticket)
    if ticket is None:
        return _ticket_deleted(finding, link, policy, key, by_hand)
    if finding is None or not _live(finding, link):
        return _finding_gone(finding, key, disposition)
    if disposition is Disposition.FIXED:
        return _fixed(finding, link, key)
    if disposition is Disposition.FALSE_POSITIVE or disposition is Disposition.ACCEPTED:
        until = _accepted_until(link, disposition, policy, now)
        if disposition is Disposition.ACCEPTED and until is not None and now > until:
            return _acceptance_expired(finding, key, until)
        return _decided_in_jira(finding, ticket, link, key, disposition)
    return _open(finding, ticket, link, policy, key, disposition)


def _ticket_deleted(finding: Finding | None, link: Link, policy: Policy, key: str, by_hand: bool) -> _Step:
    """Rule 3. When the finding would escalate again (by its rules, or by hand now), create its new ticket now
    rather than in a second pass."""
    if finding is not None and _live(finding, link) and (by_hand or policy.escalation_rule_for(finding) is not None):
        why = "it was escalated by hand" if by_hand else "the finding still matches the rules"
        plan = _create(
            finding, policy, 3, f"ticket {key} was deleted and {why}: new ticket",
            _note(f"Ticket {key} was deleted; tracked again in ", TICKET_KEY), by_hand,
        )
        return _Step(3, plan.reason, plan=plan)
    broken = replace(link, state=LinkState.BROKEN, seen_disposition=Disposition.MISSING)
    actions: list[Action] = []
    if finding is not None and _live(finding, link):
        actions.append(UpdateFinding(WorkflowStatus.NEW, _note(f"Ticket {key} was deleted in Jira")))
        broken = replace(broken, written_workflow=WorkflowStatus.NEW, seen_updated_at=finding.updated_at)
    return _Step(3, f"ticket {key} was deleted: link marked broken", plan=Plan(3, "", tuple(actions), broken))


def _finding_gone(finding: Finding | None, key: str, disposition: Disposition) -> _Step:
    """Rules 4 and 5: Security Hub owns existence; a gone finding closes an open ticket, and leaves decisions be."""
    state = "deleted from Security Hub" if finding is None else _gone_state(finding)
    if disposition not in OPENISH:
        return _Step(5, f"finding is {state} and {key} is {disposition}: nothing to do in Jira",
                     _marked(finding, key), disposition)
    comment = {
        "deleted from Security Hub": "Security Hub no longer has this finding (it deletes a finding 90 days after "
        "its last update, and the new Security Hub a closed one after 14 days). Closing the ticket.",
        "archived": "Security Hub archived this finding: the resource, the control or the finding went away. "
        "Closing the ticket.",
        "passed": "The resource now passes the check in Security Hub. Closing the ticket.",
        "resolved": "Security Hub marked this finding resolved. Closing the ticket.",
    }[state]
    actions: list[Action] = [MoveTicket(disposition=Disposition.FIXED, comment=comment)]
    if finding is not None and finding.record_state is RecordState.ACTIVE and (
        finding.workflow_status is not WorkflowStatus.RESOLVED
    ):
        actions.append(_update(WorkflowStatus.RESOLVED, _note("Passed in Security Hub; ", TICKET_KEY, " closed")))
    else:
        actions += _marked(finding, key)
    return _Step(4, f"finding is {state}: closing {key}", actions, Disposition.FIXED)


def _marked(finding: Finding | None, key: str) -> list[Action]:
    """A gone finding that never got its ticket's name (it went away between the ticket's creation and the
    finding's update) gets it now, as every escalated finding carries it: NOTIFIED if still NEW."""
    if finding is None or finding.carries_ticket(key):
        return []
    workflow = WorkflowStatus.NOTIFIED if finding.workflow_status is WorkflowStatus.NEW else None
    return [UpdateFinding(workflow, _note("Tracked in ", TICKET_KEY), {"jiraIssue": TICKET_KEY})]


def _fixed(finding: Finding, link: Link, key: str) -> _Step:
    """Rules 6 and 10: a fixed ticket resolves its finding until Security Hub says it is still there."""
    if link.seen_disposition is Disposition.FIXED:
        reset = finding.workflow_status is WorkflowStatus.NEW
        advanced = link.fixed_at_updated_at is not None and finding.updated_at > link.fixed_at_updated_at
        if reset or advanced:
            why = "its workflow was reset to NEW" if reset else f"it was updated {_when(finding.updated_at)}"
            comment = (
                f"The finding recurred at {_when(finding.updated_at)}: Security Hub still reports it after the "
                f"ticket was resolved ({why}). Reopening."
            )
            return _Step(
                6, f"finding recurred after {key} was fixed ({why}): reopening {key}",
                [MoveTicket(disposition=Disposition.OPEN, comment=comment),
                 _update(WorkflowStatus.NOTIFIED, _note("Recurred after the fix; ", TICKET_KEY, " reopened"))],
                Disposition.OPEN,
            )
    if finding.workflow_status is WorkflowStatus.RESOLVED:
        return _Step(None, f"{key} is fixed and the finding resolved: awaiting re-evaluation",
                     disposition=Disposition.FIXED)
    return _Step(
        10, f"{key} is fixed: resolving the finding until Security Hub evaluates it again",
        [_update(WorkflowStatus.RESOLVED, _note("Fixed in ", TICKET_KEY, ", awaiting re-evaluation"))],
        Disposition.FIXED,
    )


def _decided_in_jira(finding: Finding, ticket: Ticket, link: Link, key: str, disposition: Disposition) -> _Step:
    """Rule 7: Jira owns decisions. A suppression hubsync did not write is taken over, so its note says who."""
    false_positive = disposition is Disposition.FALSE_POSITIVE
    suppressed = _suppressed_by_hubsync(finding, link)
    # The new Security Hub keeps no verification state: there SUPPRESSED is all a false positive can be.
    marked = finding.verification_state == FALSE_POSITIVE or finding.comment_only
    if suppressed and (not false_positive or marked):
        return _Step(None, f"{key} is {disposition} and the finding suppressed: in step", disposition=disposition)
    who = f" by {ticket.status_changed_by}" if ticket.status_changed_by else ""
    note = _note(f"{'False positive' if false_positive else 'Risk'} accepted in ", TICKET_KEY, who)
    update = _update(WorkflowStatus.SUPPRESSED, note, FALSE_POSITIVE if false_positive else None)
    what = "marked a false positive" if false_positive else "risk accepted"
    return _Step(7, f"{what} in {key}{who}: suppressing the finding", [update], disposition)


def _acceptance_expired(finding: Finding, key: str, until: datetime) -> _Step:
    """Rule 13."""
    comment = f"The risk acceptance expired on {_when(until)}. The finding is open again in Security Hub."
    actions: list[Action] = [MoveTicket(disposition=Disposition.EXPIRED, comment=comment)]
    if finding.workflow_status is not WorkflowStatus.NOTIFIED:
        actions.append(
            _update(WorkflowStatus.NOTIFIED, _note("Risk acceptance in ", TICKET_KEY, f" expired on {_when(until)}"))
        )
    return _Step(13, f"risk acceptance in {key} expired on {_when(until)}: marking it expired", actions,
                 Disposition.EXPIRED)


def _open(
    finding: Finding, ticket: Ticket, link: Link, policy: Policy, key: str, disposition: Disposition
) -> _Step:
    """Rules 8, 9 and 11: the ticket is open (or its risk approval expired), so the finding must be NOTIFIED,
    unless someone suppressed it outside Jira: that becomes a request for risk acceptance."""
    workflow = finding.workflow_status
    if workflow is WorkflowStatus.SUPPRESSED:
        if _suppressed_by_hubsync(finding, link):
            if disposition is Disposition.EXPIRED:
                why, note = "its risk approval expired", _note("Risk approval in ", TICKET_KEY, " expired")
            else:
                who = f" by {ticket.status_changed_by}" if ticket.status_changed_by else ""
                why, note = f"reopened{who}", _note("Risk no longer accepted: ", TICKET_KEY, f" was reopened{who}")
            return _Step(9, f"{key} is {ticket.status} ({why}): notifying the finding again",
                         [_update(WorkflowStatus.NOTIFIED, note)], disposition)
        requested = link.risk_requested_at
        if requested is not None:
            moved = ticket.status_changed_at
            if moved is not None and moved > requested and not _in_request_status(ticket, policy):
                who = f" by {ticket.status_changed_by}" if ticket.status_changed_by else ""
                return _Step(
                    9, f"risk acceptance not approved in {key}{who} (now {ticket.status}): notifying the finding",
                    [_update(WorkflowStatus.NOTIFIED, _note("Risk acceptance not approved in ", TICKET_KEY, who))],
                    disposition,
                )
            return _Step(None, f"risk acceptance requested in {key}: awaiting a decision", disposition=disposition)
        if _in_request_status(ticket, policy):
            return _Step(8, f"finding suppressed outside Jira; {key} already asks for risk acceptance",
                         disposition=disposition, asks_for_risk_acceptance=True)
        said = _their_note(finding, key)
        comment = (
            f"The finding was suppressed in Security Hub outside Jira{said}. Such a suppression becomes a request "
            "for risk acceptance: a security engineer approves or rejects it here."
        )
        # The request status is a step on the way to a decision: an open one, unless the policy maps it otherwise.
        requesting = policy.disposition_of_status(policy.risk_request_status, StatusCategory.IN_PROGRESS)
        return _Step(
            8, f"finding suppressed outside Jira: asking for risk acceptance in {key}",
            [MoveTicket(status=policy.risk_request_status, comment=comment)], requesting,
            asks_for_risk_acceptance=True,
        )
    if workflow in (WorkflowStatus.NEW, WorkflowStatus.RESOLVED):
        return _Step(11, f"finding is {workflow} while {key} is {ticket.status}: notifying it",
                     [_update(WorkflowStatus.NOTIFIED, _note("Tracked in ", TICKET_KEY))], disposition)
    return _Step(None, f"{key} is {ticket.status} and the finding {workflow}: in step", disposition=disposition)


def _escalated_again(step: _Step, finding: Finding | None, link: Link) -> _Step:
    """A custom action on a finding that has its ticket: rather than a second ticket, the finding's note names the
    existing one. Once: when a note of hubsync's already names the ticket (this one, or the rule's own), there is
    nothing to write, so deciding again converges."""
    if step.plan is not None or finding is None or not _live(finding, link) or not link.ticket_key:
        return step
    if any(isinstance(action, UpdateFinding) and action.note for action in step.actions):
        return step  # the matched rule writes a note, and every such note names the ticket
    if finding.noted_by_hubsync(link.ticket_key) and not finding.asks_for_ticket:
        return step
    reason = f"escalated by hand again: already tracked in {link.ticket_key}, said so in the finding's note"
    note = UpdateFinding(note=_note("Escalated by hand again: already tracked in ", TICKET_KEY, *_asked(finding)),
                         user_defined_fields={"jiraIssue": TICKET_KEY})
    if step.rule is None:
        return replace(step, rule=1, reason=reason, actions=[*step.actions, note])
    return replace(step, reason=f"{step.reason}; {reason}", actions=[*step.actions, note])


def _asked(finding: Finding) -> tuple[str, ...]:
    """The words of a person's escalation tag, kept after hubsync's note that replaces it (cut to fit, if need be)."""
    if not finding.asks_for_ticket or not finding.note_text:
        return ()
    return (f" (asked: \u201c{finding.note_text.strip()}\u201d)",)


def _their_note(finding: Finding, key: str) -> str:
    """A note or comment someone else wrote, quoted where a suppression becomes a request for risk acceptance."""
    if not finding.note_text or finding.noted_by_hubsync(key):
        return ""
    if finding.comment_only:
        return "" if names_ticket(finding.note_text, key) else f" (comment: \u201c{finding.note_text}\u201d)"
    if finding.note_updated_by in (None, HUBSYNC_AUTHOR):
        return ""
    return f" (note by {finding.note_updated_by}: \u201c{finding.note_text}\u201d)"


# --- putting the plan together -----------------------------------------------------------------------------


def _finish(
    step: _Step,
    finding: Finding | None,
    given: Link | None,
    link: Link,
    policy: Policy,
    now: datetime,
) -> Plan:
    """Add rule 12 when the ticket stays open, work out the link to save, and leave it out when unchanged."""
    if step.plan is not None:
        return replace(step.plan, reason=step.reason)
    disposition = step.disposition
    actions = list(step.actions)
    rule, reason = step.rule, step.reason
    rendered = (link.rendered_severity, link.rendered_title)
    if finding is not None and _live(finding, link) and disposition in OPENISH:
        if None in rendered:
            rendered = (finding.severity.value, finding.title)  # first sight: the ticket shows this finding
        changes = _content_changes(finding, link, policy)
        if changes:
            actions.extend(changes)
            rendered = (finding.severity.value, finding.title)
            changed = f"Security Hub changed the finding's severity or title: updating {link.ticket_key}"
            rule, reason = (12, changed) if rule is None else (rule, f"{reason}; {changed}")
    new_link = _remembered(link, finding, disposition, actions, rendered, step.asks_for_risk_acceptance, policy, now)
    return Plan(rule, reason, tuple(actions), None if new_link == given else new_link)


def _content_changes(finding: Finding, link: Link, policy: Policy) -> list[Action]:
    """Rule 12: severity and title belong to Security Hub; the ticket follows them, with a comment."""
    if link.rendered_severity is None or link.rendered_title is None:
        return []
    severity_changed = link.rendered_severity != finding.severity.value
    title_changed = link.rendered_title != finding.title
    if not (severity_changed or title_changed):
        return []
    priority = policy.priorities.get(finding.severity) if severity_changed else None
    lines = []
    if severity_changed:
        lines.append(f"severity {link.rendered_severity} \u2192 {finding.severity.value}"
                     + (f" (priority {priority})" if priority else ""))
    if title_changed:
        lines.append(f"title \u201c{link.rendered_title}\u201d \u2192 \u201c{finding.title}\u201d")
    edit = EditTicket(summary=ticket_summary(finding) if title_changed else None, priority=priority)
    return [edit, CommentOnTicket("Security Hub updated this finding: " + "; ".join(lines) + ".")]


def _remembered(
    link: Link,
    finding: Finding | None,
    disposition: Disposition,
    actions: list[Action],
    rendered: tuple[str | None, str | None],
    asks_for_risk_acceptance: bool,
    policy: Policy,
    now: datetime,
) -> Link:
    """The link's memory once the plan is applied (`disposition`: the ticket's by then)."""
    written = [action.workflow for action in actions if isinstance(action, UpdateFinding) and action.workflow]
    fixed_at = None
    if disposition is Disposition.FIXED:
        first_seen = link.seen_disposition is not Disposition.FIXED
        fixed_at = (finding.updated_at if finding else None) if first_seen else link.fixed_at_updated_at
    # A request for risk acceptance stands while the ticket is open and the finding suppressed outside Jira.
    workflow = written[-1] if written else (finding.workflow_status if finding else None)
    standing = _live(finding, link) and workflow is WorkflowStatus.SUPPRESSED
    requested = now if asks_for_risk_acceptance else link.risk_requested_at
    if not (standing and disposition in OPENISH):
        requested = None
    return replace(
        link,
        state=LinkState.LINKED,
        secondary_key=(finding.secondary_key or link.secondary_key) if finding else link.secondary_key,
        seen_updated_at=finding.updated_at if finding else link.seen_updated_at,
        written_workflow=written[-1] if written else link.written_workflow,
        seen_disposition=disposition,
        fixed_at_updated_at=fixed_at,
        accepted_until=_accepted_until(link, disposition, policy, now),
        rendered_severity=rendered[0],
        rendered_title=rendered[1],
        risk_requested_at=requested,
    )


# --- small helpers -----------------------------------------------------------------------------------------


def _accepted_until(link: Link, disposition: Disposition, policy: Policy, now: datetime) -> datetime | None:
    """Set when the ticket is first seen ACCEPTED, kept while it stays so."""
    if disposition is not Disposition.ACCEPTED:
        return None
    if link.seen_disposition is Disposition.ACCEPTED and link.accepted_until is not None:
        return link.accepted_until
    days = policy.risk_acceptance_days
    return now + timedelta(days=days) if days else None


def _suppressed_by_hubsync(finding: Finding, link: Link) -> bool:
    """SUPPRESSED, and the last workflow hubsync wrote was SUPPRESSED: a suppression made outside Jira (in the
    console, by an automation rule) finds hubsync's last write to be something else."""
    return finding.workflow_status is WorkflowStatus.SUPPRESSED and link.written_workflow is WorkflowStatus.SUPPRESSED


def _in_request_status(ticket: Ticket, policy: Policy) -> bool:
    return ticket.status.casefold() == policy.risk_request_status.casefold()


def _update(workflow: WorkflowStatus, note: TicketText, verification_state: str | None = None) -> UpdateFinding:
    return UpdateFinding(workflow, note, {"jiraIssue": TICKET_KEY}, verification_state)


def _note(*parts: str | TicketKey) -> TicketText:
    """A note within Security Hub's 512 characters once each `TICKET_KEY` is a key (of up to `TICKET_KEY_ROOM`
    characters): an over-long one is cut in its text, never in a key, and ends with an ellipsis."""
    if sum(_room(part) for part in parts) <= NOTE_LIMIT:
        return TicketText(parts)
    kept: list[str | TicketKey] = []
    room = NOTE_LIMIT - 1  # the ellipsis
    for part in parts:
        if _room(part) > room:
            if isinstance(part, str):
                kept.append(part[:room])
            break
        kept.append(part)
        room -= _room(part)
    return TicketText((*kept, "\u2026"))


def _room(part: str | TicketKey) -> int:
    return len(part) if isinstance(part, str) else TICKET_KEY_ROOM


def _live(finding: Finding | None, link: Link) -> bool:
    """Live, for a linked pair: `is_live`, or hubsync's own RESOLVED read back where RESOLVED means gone. hubsync
    resolves a finding when its ticket is fixed; as in CSPM, Security Hub's next word (an update after the fix, a
    return to NEW, a pass, a close) says whether it is still there, and a ticket reopened meanwhile notifies it."""
    if finding is None:
        return False
    return finding.is_live or (
        finding.resolved_is_gone
        and finding.workflow_status is WorkflowStatus.RESOLVED
        and link.written_workflow is WorkflowStatus.RESOLVED
        and finding.record_state is RecordState.ACTIVE
        and finding.compliance_status != "PASSED"
    )


def _gone_state(finding: Finding) -> str:
    if finding.record_state is RecordState.ARCHIVED:
        return "archived"
    return "passed" if finding.compliance_status == "PASSED" else "resolved"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment.utcoffset() == timedelta(0) else moment.isoformat()
