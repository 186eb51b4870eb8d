"""Sync, linked pairs: after the ticket exists, each side follows the other. Security Hub owns the finding's
existence (archived, passed or deleted closes the ticket; a recurrence reopens it), Jira owns decisions (fixed
resolves the finding, false positive or accepted risk suppresses it). Run on in-memory fakes of every port."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hubsync.domain.finding import Finding, RecordState, Severity, WorkflowStatus
from hubsync.domain.link import LinkState
from hubsync.service.sync import Outcome, sync_findings, sync_hints, sync_links, sync_tickets
from tests.fakes import FakeOutage, FakeWorld
from tests.fakes.jira import STOCK_WORKFLOW, FakeJira
from tests.unit.domain.domain_values import POLICY, a_finding

ACCOUNT = "111122223333"
REISSUED_ID = (
    "arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8"
    "/finding/9a8b7c6d"
)


def only(outcomes: list[Outcome]) -> Outcome:
    [outcome] = outcomes
    return outcome


def linked(finding: Finding | None = None, *, world: FakeWorld | None = None) -> tuple[FakeWorld, Finding, str]:
    """A world where the finding has its ticket (created by a first sync); the finding as it is now, and the key."""
    finding = finding or a_finding()
    world = world or FakeWorld(POLICY).with_owner(ACCOUNT, "dana@example.com", "5b10ac8d82e05b22cc7d4ef5")
    world.securityhub.put(finding)
    outcome = only(sync_findings(world.context(), [finding]))
    assert outcome.error is None and outcome.ticket_key
    world.advance(60)
    return world, world.securityhub.finding(finding.key), outcome.ticket_key


def evaluated(world: FakeWorld, finding: Finding, **changes: Any) -> Finding:
    """Security Hub evaluates the finding again (a later provider UpdatedAt) with these changes."""
    now = replace(world.securityhub.finding(finding.key), updated_at=world.clock.advance(60), **changes)
    world.securityhub.put(now)
    return now


def hint(world: FakeWorld, finding: Finding) -> Outcome:
    """An event names the finding."""
    outcome = only(sync_hints(world.context(), [finding.identifier]))
    assert outcome.error is None, outcome.error
    return outcome


def webhook(world: FakeWorld, ticket_key: str) -> Outcome:
    """A Jira webhook names the ticket."""
    outcome = only(sync_tickets(world.context(), [ticket_key]))
    assert outcome.error is None, outcome.error
    return outcome


def assert_in_step(world: FakeWorld, finding: Finding) -> None:
    """Syncing again writes nothing anywhere."""
    writes, updates = list(world.jira.writes), list(world.securityhub.updates)
    outcome = only(sync_hints(world.context(), [finding.identifier]))
    assert (outcome.changed, outcome.error) == (False, None), outcome
    assert world.jira.writes == writes and world.securityhub.updates == updates


def test_an_archived_finding_closes_its_ticket() -> None:
    world, finding, key = linked()
    evaluated(world, finding, record_state=RecordState.ARCHIVED)

    outcome = hint(world, finding)

    issue = world.jira.issue(key)
    assert outcome.rule == 4 and issue.status == "Resolved"
    assert "Security Hub archived this finding" in issue.comments[-1]
    assert_in_step(world, finding)


def test_a_finding_that_passes_closes_its_ticket_and_is_resolved() -> None:
    world, finding, key = linked()
    evaluated(world, finding, compliance_status="PASSED")

    hint(world, finding)

    assert world.jira.issue(key).status == "Resolved"
    assert "now passes the check" in world.jira.issue(key).comments[-1]
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.RESOLVED and key in (now.note_text or "")
    assert_in_step(world, finding)


def test_a_finding_security_hub_deleted_closes_its_ticket() -> None:
    world, finding, key = linked()
    world.securityhub.remove(finding.key)

    outcome = only(sync_links(world.context(), list(world.store.links(world.tenant_id).values())))

    assert outcome.error is None and world.jira.issue(key).status == "Resolved"
    assert "Security Hub no longer has this finding" in world.jira.issue(key).comments[-1]


def test_a_finding_security_hub_returned_unreadable_is_not_taken_for_deleted() -> None:
    world, finding, key = linked()
    world.securityhub.remove(finding.key)
    world.securityhub.unreadable[finding.key] = "Security Hub returned this finding in a shape hubsync cannot read"

    outcome = only(sync_links(world.context(), list(world.store.links(world.tenant_id).values())))

    assert outcome.error is not None and "cannot read" in outcome.error
    assert world.jira.issue(key).status == "Open"


def test_a_fixed_ticket_resolves_its_finding_and_a_recurrence_reopens_the_ticket() -> None:
    world, finding, key = linked()
    world.jira.move_by_hand(key, "Resolved")

    fixed = webhook(world, key)

    assert fixed.rule == 10
    assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.RESOLVED
    assert_in_step(world, finding)

    evaluated(world, finding, workflow_status=WorkflowStatus.NEW)  # still failing: Security Hub resets it to NEW

    recurred = hint(world, finding)

    assert recurred.rule == 6
    issue = world.jira.issue(key)
    assert issue.status == "Open" and "recurred" in issue.comments[-1]
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.NOTIFIED and key in (now.note_text or "")
    assert_in_step(world, finding)


def test_a_ticket_marked_a_false_positive_suppresses_the_finding_as_one() -> None:
    world, finding, key = linked()
    world.jira.move_by_hand(key, "Accepted false positive", by="Sam Security")

    outcome = webhook(world, key)

    assert outcome.rule == 7
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.SUPPRESSED and now.verification_state == "FALSE_POSITIVE"
    assert f"False positive accepted in {key} by Sam Security" in (now.note_text or "")
    assert world.jira.issue(key).status == "Accepted false positive"
    assert_in_step(world, finding)


def test_a_ticket_whose_risk_is_accepted_suppresses_the_finding() -> None:
    world, finding, key = linked()
    world.jira.move_by_hand(key, "Risk approved", by="Sam Security")

    webhook(world, key)

    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.SUPPRESSED and now.verification_state is None
    assert f"Risk accepted in {key} by Sam Security" in (now.note_text or "")
    assert_in_step(world, finding)


def test_an_accepted_risk_expires_after_the_policys_days_and_the_finding_is_open_again() -> None:
    world, finding, key = linked()
    world.jira.move_by_hand(key, "Risk approved", by="Sam Security")
    webhook(world, key)

    world.advance(timedelta(days=POLICY.risk_acceptance_days or 0, hours=1))
    outcome = only(sync_links(world.context(), list(world.store.links(world.tenant_id).values())))

    assert outcome.rule == 13
    issue = world.jira.issue(key)
    assert issue.status == "Risk approval expired" and "risk acceptance expired" in issue.comments[-1]
    assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.NOTIFIED
    assert_in_step(world, finding)


def test_a_suppression_made_outside_jira_asks_for_risk_acceptance_in_the_ticket() -> None:
    world, finding, key = linked()
    evaluated(world, finding, workflow_status=WorkflowStatus.SUPPRESSED, note_text="known issue, ignore",
              note_updated_by="alice")

    outcome = hint(world, finding)

    issue = world.jira.issue(key)
    assert outcome.rule == 8 and issue.status == "Request risk acceptance"
    assert "\u201cknown issue, ignore\u201d" in issue.comments[-1]
    assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.SUPPRESSED  # left as they set it
    assert_in_step(world, finding)


def test_a_severity_change_updates_the_tickets_priority_and_says_so() -> None:
    world, finding, key = linked()
    evaluated(world, finding, severity=Severity.CRITICAL)

    outcome = hint(world, finding)

    issue = world.jira.issue(key)
    assert outcome.rule == 12 and issue.priority == "Highest"
    assert "severity HIGH \u2192 CRITICAL" in issue.comments[-1]
    assert_in_step(world, finding)


def test_a_move_jira_cannot_make_now_is_made_by_the_next_sync() -> None:
    world, finding, key = linked()
    evaluated(world, finding, record_state=RecordState.ARCHIVED)
    world.jira.fail_next("move", FakeOutage("Jira answered 503", status=503))

    failed = only(sync_hints(world.context(), [finding.identifier]))

    assert failed.error is not None and failed.transient
    assert world.jira.issue(key).status == "Open"

    hint(world, finding)

    issue = world.jira.issue(key)
    assert issue.status == "Resolved" and len(issue.comments) == 1
    assert_in_step(world, finding)


def test_a_status_the_workflow_lacks_becomes_a_comment() -> None:
    world = FakeWorld(POLICY).with_owner(ACCOUNT, "dana@example.com", "5b10ac8d82e05b22cc7d4ef5")
    world.jira = FakeJira(world.clock, workflow=STOCK_WORKFLOW, initial_status="To Do", users=world.jira.users)
    world, finding, key = linked(world=world)
    evaluated(world, finding, workflow_status=WorkflowStatus.SUPPRESSED, note_text="known issue, ignore",
              note_updated_by="alice")  # suppressed in the console, outside Jira

    outcome = hint(world, finding)

    issue = world.jira.issue(key)
    assert outcome.rule == 8 and issue.status == "To Do"
    assert "suppressed in Security Hub outside Jira" in issue.comments[-1]
    assert "could not move this ticket to Request risk acceptance" in issue.comments[-1]
    assert_in_step(world, finding)


def test_a_reissued_finding_takes_over_its_predecessors_ticket() -> None:
    world, old, key = linked()
    new = a_finding(id=REISSUED_ID, created_at=world.clock(), updated_at=world.clock())
    world.securityhub.put(new)

    outcome = only(sync_findings(world.context(), [new]))

    assert outcome.error is None and outcome.ticket_key == key
    assert len(world.jira.issues) == 1
    issue = world.jira.issue(key)
    assert issue.marker is not None and issue.marker.key == new.key
    assert f"re-issued this ticket's finding as {new.id}" in issue.comments[-1]
    assert world.securityhub.finding(new.key).user_defined_fields["jiraIssue"] == key
    old_link = world.store.link(world.tenant_id, old.key)
    assert old_link is not None and old_link.state is LinkState.BROKEN
    assert world.store.audit_of(world.tenant_id, new.key)[0].action == "AdoptTicket"


def deleted_while_not_escalated() -> tuple[FakeWorld, Finding, str]:
    """A linked finding no rule escalates any more, whose ticket someone deleted, after the sync that noticed."""
    world, finding, key = linked()
    evaluated(world, finding, severity=Severity.LOW)
    world.jira.delete(key)
    hint(world, finding)
    return world, finding, key


def test_a_deleted_ticket_breaks_the_link_and_says_so_on_the_finding() -> None:
    world, finding, key = deleted_while_not_escalated()

    link = world.store.link(world.tenant_id, finding.key)
    assert link is not None and link.state is LinkState.BROKEN
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.NEW and f"Ticket {key} was deleted" in (now.note_text or "")
    assert_in_step(world, finding)


def test_a_finding_whose_ticket_was_deleted_gets_a_new_ticket_when_it_escalates_again() -> None:
    """A BROKEN link's deleted ticket is not the pair's: a fresh claim creates the new ticket (it once was taken for
    an adopted one, so no create was sent and the finding was marked "Tracked in <deleted key>")."""
    world, finding, key = deleted_while_not_escalated()
    evaluated(world, finding, severity=Severity.HIGH)

    outcome = only(sync_hints(world.context(), [finding.identifier]))

    [issue] = world.jira.issues_of(finding.key)
    assert issue.key != key and outcome.ticket_key == issue.key
    assert world.securityhub.finding(finding.key).user_defined_fields["jiraIssue"] == issue.key


def test_a_deleted_ticket_is_replaced_while_the_finding_still_matches() -> None:
    """Rule 3: the deleted ticket's link is broken before the claim, so the new ticket is created at once (the
    claim once answered EXISTING for the still-LINKED link, and the pair failed on every sync, forever)."""
    world, finding, key = linked()
    world.jira.delete(key)

    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert outcome.error is None, outcome.error
    [issue] = world.jira.issues_of(finding.key)
    assert issue.key != key
    assert world.securityhub.finding(finding.key).user_defined_fields["jiraIssue"] == issue.key


def test_an_event_naming_a_finding_neither_side_knows_does_nothing() -> None:
    world = FakeWorld(POLICY)
    unknown = a_finding(id="arn:aws:securityhub:eu-west-1:111122223333:security-control/S3.8/finding/gone")

    assert sync_hints(world.context(), [unknown.identifier]) == []
    assert world.jira.writes == [] and world.store.audit_entries == []


def test_a_late_event_decides_on_the_finding_as_it_is_now() -> None:
    world, finding, key = linked()
    evaluated(world, finding, record_state=RecordState.ARCHIVED)  # what the event reported...
    evaluated(world, finding, record_state=RecordState.ACTIVE)  # ...and what Security Hub says by the time it runs

    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert (outcome.changed, outcome.error) == (False, None)
    assert world.jira.issue(key).status == "Open"
