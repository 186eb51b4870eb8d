"""`decide()` on findings of the new Security Hub, read from OCSF documents by the adapter's parser: each story is
decided, applied as BatchUpdateFindingsV2 writes it (status and comment only: no user-defined fields, verification
state or note author), and decided again, which must give an empty plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hubsync.adapters.securityhub.ocsf import parse_finding
from hubsync.domain.decide import decide
from hubsync.domain.finding import Finding, RecordState, WorkflowStatus
from hubsync.domain.link import Link
from hubsync.domain.plan import CreateTicket, FindingUpdate, MoveTicket, Plan, UpdateFinding
from hubsync.domain.ticket import Disposition, Ticket
from tests.unit.domain.domain_values import EVALUATED, KEY, NOW, POLICY, a_link, a_ticket
from tests.unit.domain.ocsf_findings import an_ocsf_finding, epoch_ms, naming
from tests.unit.domain.plan_effects import CREATED_KEY, apply

LATER = EVALUATED + timedelta(hours=12)
TRACKED = f"Tracked in {KEY} (hubsync rule 'high and up')"


def ocsf(**changes: Any) -> Finding:
    return parse_finding(an_ocsf_finding(**changes))


def later(**changes: Any) -> Finding:
    """The finding as Security Hub reports it after a change of its own (modified twelve hours later)."""
    return ocsf(finding_info={"modified_time_dt": LATER.isoformat(), "modified_time": epoch_ms(LATER)}, **changes)


def pair(finding: Finding, ticket: Ticket | None = None, link: Link | None = None) -> tuple[Ticket | None, Link]:
    """An open ticket and the link rule 1 left, both naming `finding` (or the given ones, renamed)."""
    named_ticket, named_link = naming(finding, ticket or a_ticket(), link or a_link())
    assert named_link is not None
    return named_ticket, named_link


def settled(finding: Finding, ticket: Ticket | None, link: Link | None, **by_hand: bool) -> tuple[Plan, Finding]:
    """The first plan, and the finding once applied; asserts that deciding again is empty."""
    plan = decide(finding, ticket, link, POLICY, NOW, **by_hand)
    after = apply(plan, finding, ticket, link, POLICY)
    again = decide(*after, POLICY, NOW)
    assert again.is_empty, f"first: {plan}\nthen: {again}"
    assert after[0] is not None
    return plan, after[0]


def written(plan: Plan, ticket_key: str = KEY) -> list[FindingUpdate]:
    return [action.for_ticket(ticket_key) for action in plan.actions if isinstance(action, UpdateFinding)]


def moves(plan: Plan) -> list[MoveTicket]:
    return [action for action in plan.actions if isinstance(action, MoveTicket)]


def test_a_finding_read_from_ocsf_is_comment_only():
    finding = ocsf(comment="#jira")

    assert finding.comment_only and finding.note_updated_by is None and finding.asks_for_ticket


@pytest.mark.parametrize("comment", [TRACKED, "Passed in Security Hub; SEC-12 closed"])
def test_a_passing_control_closes_its_open_ticket_and_the_next_pass_writes_nothing(comment):
    finding = later(status_id=4, status="Resolved", compliance={"status_id": 1, "status": "Pass"}, comment=comment)

    plan, _ = settled(finding, *pair(finding))

    assert plan.rule == 4
    assert [move.disposition for move in moves(plan)] == [Disposition.FIXED]
    assert moves(plan)[0].comment == "The resource now passes the check in Security Hub. Closing the ticket."
    assert written(plan) == []  # the comment names the ticket: nothing stands in for jiraIssue to write


def test_a_gone_finding_whose_comment_lost_the_ticket_gets_it_back_once():
    finding = later(status_id=4, status="Resolved", compliance={"status_id": 1, "status": "Pass"},
                    comment="accepted by the platform team")

    plan, after = settled(finding, *pair(finding))

    assert [(update.workflow, update.note) for update in written(plan)] == [(None, f"Tracked in {KEY}")]
    assert after.note_text == f"Tracked in {KEY}" and after.user_defined_fields == {}


@pytest.mark.parametrize("closed", [{"status_id": 5, "status": "Archived"}, {"activity_id": 3}],
                         ids=["status Archived", "activity Close"])
def test_an_archived_finding_closes_its_ticket(closed):
    finding = later(comment=TRACKED, **closed)
    assert finding.record_state is RecordState.ARCHIVED

    plan, _ = settled(finding, *pair(finding))

    assert plan.rule == 4 and "archived" in plan.reason
    assert [move.disposition for move in moves(plan)] == [Disposition.FIXED]
    assert written(plan) == []


def test_a_return_to_new_after_the_ticket_was_fixed_reopens_it():
    finding = later(comment=f"Fixed in {KEY}, awaiting re-evaluation")  # status New again, failing
    fixed = a_link(seen_disposition=Disposition.FIXED, fixed_at_updated_at=EVALUATED,
                   written_workflow=WorkflowStatus.RESOLVED)

    plan, after = settled(finding, *pair(finding, a_ticket("Resolved"), fixed))

    assert plan.rule == 6
    assert [move.disposition for move in moves(plan)] == [Disposition.OPEN]
    assert [(update.workflow, update.note) for update in written(plan)] == [
        (WorkflowStatus.NOTIFIED, f"Recurred after the fix; {KEY} reopened")]
    assert after.workflow_status is WorkflowStatus.NOTIFIED


def test_a_risk_acceptance_suppresses_the_finding_and_converges():
    finding = ocsf(status_id=2, status="In Progress", comment=TRACKED)

    plan, after = settled(finding, *pair(finding, a_ticket("Risk approved", status_changed_by="Sam Security")))

    assert plan.rule == 7
    assert [(update.workflow, update.note) for update in written(plan)] == [
        (WorkflowStatus.SUPPRESSED, f"Risk accepted in {KEY} by Sam Security")]
    assert after.workflow_status is WorkflowStatus.SUPPRESSED


def test_a_false_positive_suppresses_the_finding_and_converges_without_a_verification_state():
    finding = ocsf(status_id=2, status="In Progress", comment=TRACKED)

    plan, after = settled(finding, *pair(finding, a_ticket("Accepted false positive", status_changed_by=None)))

    assert plan.rule == 7
    assert [(update.workflow, update.note) for update in written(plan)] == [
        (WorkflowStatus.SUPPRESSED, f"False positive accepted in {KEY}")]
    assert after.workflow_status is WorkflowStatus.SUPPRESSED
    assert after.verification_state is None and after.user_defined_fields == {}


def test_the_jira_tag_on_an_unmatched_live_finding_creates_a_ticket_and_hubsyncs_comment_replaces_it():
    finding = ocsf(severity_id=3, severity="Medium", comment="#jira the bucket holds card data")
    assert POLICY.escalation_rule_for(finding) is None

    plan, after = settled(finding, None, None)

    assert plan.rule == 1 and CreateTicket(escalated_by_hand=True) in plan.actions
    assert after.note_text == (
        f"Escalated by hand to Jira: tracked in {CREATED_KEY} (asked: \u201c#jira the bucket holds card data\u201d)")
    assert after.workflow_status is WorkflowStatus.NOTIFIED
    assert not after.asks_for_ticket and after.note_updated_by is None


def test_the_jira_tag_again_on_a_linked_finding_says_already_tracked_once():
    finding = ocsf(status_id=2, status="In Progress", comment="#jira is anyone on this?")

    plan, after = settled(finding, *pair(finding))

    assert [(update.workflow, update.note) for update in written(plan)] == [
        (None, f"Escalated by hand again: already tracked in {KEY} (asked: \u201c#jira is anyone on this?\u201d)")]
    assert not after.asks_for_ticket


@pytest.mark.parametrize("comment", [TRACKED, f"Escalated by hand again: already tracked in {KEY}"])
def test_escalating_by_hand_again_writes_nothing_when_the_comment_names_the_ticket(comment):
    finding = ocsf(status_id=2, status="In Progress", comment=comment)

    plan = decide(finding, *pair(finding), POLICY, NOW, escalated_by_hand=True)

    assert plan.is_empty, plan


def test_escalating_by_hand_again_names_the_ticket_when_the_comment_is_someone_elses():
    finding = ocsf(status_id=2, status="In Progress", comment="looking into it")

    plan, after = settled(finding, *pair(finding), escalated_by_hand=True)

    assert [update.note for update in written(plan)] == [f"Escalated by hand again: already tracked in {KEY}"]
    assert after.note_text == f"Escalated by hand again: already tracked in {KEY}"
