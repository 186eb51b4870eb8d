"""Every row of the rules table (DESIGN.md), by name, plus echoes, stale snapshots and reorderings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hubsync.domain.decide import decide
from hubsync.domain.finding import RecordState, Severity, WorkflowStatus
from hubsync.domain.link import LinkState
from hubsync.domain.plan import TICKET_KEY, CommentOnTicket, CreateTicket, EditTicket, MoveTicket, UpdateFinding
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition
from tests.unit.domain.domain_values import EVALUATED, KEY, NOW, POLICY, a_finding, a_link, a_ticket
from tests.unit.domain.plan_effects import CREATED_KEY, apply

LATER = EVALUATED + timedelta(hours=12)  # a later evaluation by Security Hub
TICKET = "SEC-77"  # the key a plan's notes are written with here (`note`)


def updates(plan):
    return [action for action in plan.actions if isinstance(action, UpdateFinding)]


def note(update: UpdateFinding) -> str:
    """The update's note as Security Hub gets it, once the ticket's key (`TICKET`) is known."""
    assert update.note is not None
    return update.note.render(TICKET)


def moves(plan):
    return [action for action in plan.actions if isinstance(action, MoveTicket)]


# --- rule 1: no link, live NEW finding matching a rule, or escalated by hand → create ---------------------


def test_rule_01_new_matching_finding_creates_a_ticket_and_notifies_the_finding():
    finding = a_finding()

    plan = decide(finding, None, None, POLICY, NOW)

    assert plan.rule == 1
    assert plan.actions[0] == CreateTicket(escalated_by_hand=False)
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED
    assert update.user_defined_fields == {"jiraIssue": TICKET_KEY}
    assert update.note.names_ticket and "high and up" in note(update)
    assert plan.link.state is LinkState.LINKED and plan.link.ticket_key is None
    assert plan.link.finding_key == finding.key
    assert plan.link.seen_updated_at == EVALUATED
    assert plan.link.written_workflow is WorkflowStatus.NOTIFIED
    assert plan.link.seen_disposition is Disposition.OPEN
    assert (plan.link.rendered_severity, plan.link.rendered_title) == ("HIGH", finding.title)


def test_rule_01_escalated_by_hand_creates_a_ticket_whatever_the_workflow_and_the_rules():
    finding = a_finding(severity=Severity.LOW, workflow_status=WorkflowStatus.SUPPRESSED)

    plan = decide(finding, None, None, POLICY, NOW, escalated_by_hand=True)

    assert plan.rule == 1
    assert plan.actions[0] == CreateTicket(escalated_by_hand=True)
    assert updates(plan)[0].workflow is WorkflowStatus.NOTIFIED


def test_rule_01_a_second_click_on_a_linked_finding_names_the_existing_ticket_in_its_note():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, note_updated_by="alice", note_text="looking")
    link = a_link(seen_updated_at=EVALUATED, seen_disposition=Disposition.OPEN,
                  written_workflow=WorkflowStatus.NOTIFIED)

    plan = decide(finding, a_ticket(), link, POLICY, NOW, escalated_by_hand=True)

    assert plan.rule == 1 and KEY in plan.reason
    assert not any(isinstance(action, CreateTicket) for action in plan.actions)
    [update] = updates(plan)
    assert update.workflow is None and note(update) == f"Escalated by hand again: already tracked in {TICKET}"
    assert update.user_defined_fields == {"jiraIssue": TICKET_KEY}


def test_rule_01_a_second_click_writes_once_then_converges():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, note_updated_by="alice", note_text="looking")
    link = a_link(seen_updated_at=EVALUATED, seen_disposition=Disposition.OPEN,
                  written_workflow=WorkflowStatus.NOTIFIED)
    first = decide(finding, a_ticket(), link, POLICY, NOW, escalated_by_hand=True)

    after = apply(first, finding, a_ticket(), link)

    assert after[0].note_text == f"Escalated by hand again: already tracked in {KEY}"
    assert decide(*after, POLICY, NOW, escalated_by_hand=True).is_empty  # a third click writes nothing


@pytest.mark.parametrize("note", [f"Tracked in {KEY} (hubsync rule 'high and up')",
                                  f"Escalated by hand to Jira: tracked in {KEY}"])
def test_rule_01_a_second_click_writes_nothing_when_hubsyncs_note_already_names_the_ticket(note):
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, note_updated_by="hubsync", note_text=note)
    link = a_link(seen_updated_at=EVALUATED, seen_disposition=Disposition.OPEN,
                  written_workflow=WorkflowStatus.NOTIFIED)

    assert decide(finding, a_ticket(), link, POLICY, NOW, escalated_by_hand=True).is_empty


def test_rule_01_a_note_naming_another_ticket_with_the_same_prefix_does_not_count():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, note_updated_by="hubsync",
                        note_text=f"Tracked in {KEY}3")
    link = a_link(seen_updated_at=EVALUATED, seen_disposition=Disposition.OPEN,
                  written_workflow=WorkflowStatus.NOTIFIED)

    plan = decide(finding, a_ticket(), link, POLICY, NOW, escalated_by_hand=True)

    assert [note(update) for update in updates(plan)] == [f"Escalated by hand again: already tracked in {TICKET}"]


def test_rule_01_a_second_click_while_a_rule_writes_a_note_adds_no_second_note():
    finding = a_finding(workflow_status=WorkflowStatus.NEW, updated_at=LATER)  # rule 11 notifies it

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW, escalated_by_hand=True)

    assert plan.rule == 11
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED and update.note.names_ticket


@pytest.mark.parametrize("link", [a_link(state=LinkState.BROKEN), a_link(state=LinkState.CLAIMED)],
                         ids=["broken link", "claim found no ticket"])
def test_rule_01_a_broken_link_or_an_unresolved_claim_counts_as_no_link(link):
    plan = decide(a_finding(), None, link, POLICY, NOW)

    assert plan.rule == 1
    assert isinstance(plan.actions[0], CreateTicket)


def test_rule_01_a_claim_resolved_to_its_ticket_is_adopted_not_created_again():
    claim = a_link(state=LinkState.CLAIMED, ticket_key=None)
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED)

    plan = decide(finding, a_ticket(), claim, POLICY, NOW)

    assert not plan.actions
    assert plan.link.state is LinkState.LINKED and plan.link.ticket_key == KEY


# --- rule 2: no link, anything else → nothing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "by_hand"),
    [
        (a_finding(severity=Severity.MEDIUM), False),
        (a_finding(workflow_status=WorkflowStatus.NOTIFIED), False),
        (a_finding(workflow_status=WorkflowStatus.SUPPRESSED), False),
        (a_finding(record_state=RecordState.ARCHIVED), False),
        (a_finding(compliance_status="PASSED"), False),
        (a_finding(record_state=RecordState.ARCHIVED), True),
        (None, False),
    ],
    ids=["below the rule's severity", "already notified", "suppressed", "archived", "passed",
         "archived, escalated by hand", "gone from Security Hub"],
)
def test_rule_02_a_finding_that_is_not_escalated_gets_no_ticket(finding, by_hand):
    plan = decide(finding, None, None, POLICY, NOW, escalated_by_hand=by_hand)

    assert plan.rule == 2
    assert plan.is_empty


def test_rule_02_without_escalation_rules_nothing_escalates_on_its_own():
    plan = decide(a_finding(severity=Severity.CRITICAL), None, None, Policy("SEC"), NOW)

    assert plan.rule == 2 and plan.is_empty


# --- rule 3: linked ticket deleted --------------------------------------------------------------------------


def test_rule_03_deleted_ticket_breaks_the_link_and_sets_the_finding_new_again():
    finding = a_finding(severity=Severity.LOW, workflow_status=WorkflowStatus.NOTIFIED)  # matches no rule now

    plan = decide(finding, None, a_link(), POLICY, NOW)

    assert plan.rule == 3
    assert plan.link.state is LinkState.BROKEN
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NEW
    assert f"{KEY} was deleted" in note(update)
    assert KEY in plan.reason


def test_rule_03_deleted_ticket_of_a_finding_that_still_matches_gets_a_new_ticket_at_once():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED)

    plan = decide(finding, None, a_link(), POLICY, NOW)

    assert plan.rule == 3
    assert isinstance(plan.actions[0], CreateTicket)
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED
    assert KEY in note(update) and update.note.names_ticket
    assert plan.link.state is LinkState.LINKED and plan.link.ticket_key is None


def test_rule_03_deleted_ticket_of_a_finding_escalated_by_hand_gets_a_new_ticket_whatever_the_rules():
    finding = a_finding(severity=Severity.LOW, workflow_status=WorkflowStatus.NOTIFIED)  # matches no rule

    plan = decide(finding, None, a_link(), POLICY, NOW, escalated_by_hand=True)

    assert plan.rule == 3 and "by hand" in plan.reason
    assert plan.actions[0] == CreateTicket(escalated_by_hand=True)


def test_rule_03_deleted_ticket_of_a_gone_finding_only_breaks_the_link():
    plan = decide(None, None, a_link(), POLICY, NOW)

    assert plan.rule == 3
    assert plan.actions == ()
    assert plan.link.state is LinkState.BROKEN


def test_rule_03_after_the_link_broke_a_finding_that_matches_no_rule_stays_without_ticket():
    finding = a_finding(severity=Severity.LOW)
    first = decide(finding, None, a_link(), POLICY, NOW)

    after = apply(first, finding, None, a_link())

    assert decide(*after, POLICY, NOW).is_empty


# --- rules 4 and 5: finding gone ---------------------------------------------------------------------------


def test_rule_04_archived_finding_closes_the_open_ticket_with_a_comment():
    finding = a_finding(record_state=RecordState.ARCHIVED, workflow_status=WorkflowStatus.NOTIFIED,
                        user_defined_fields={"jiraIssue": KEY})

    plan = decide(finding, a_ticket("Allocated for fix"), a_link(), POLICY, NOW)

    assert plan.rule == 4
    [move] = moves(plan)
    assert move.disposition is Disposition.FIXED
    assert "archived" in move.comment
    assert updates(plan) == []  # an archived finding is the provider's; nothing to resolve
    assert plan.link.seen_disposition is Disposition.FIXED


@pytest.mark.parametrize("status", ["Allocated for fix", "Resolved"])
def test_rules_04_05_a_gone_finding_that_never_got_its_tickets_name_gets_it(status):
    """The finding went away between its ticket's creation and its own update (a crash, a throttled update): it
    is marked as every escalated finding is, so either side still names the other."""
    finding = a_finding(record_state=RecordState.ARCHIVED, workflow_status=WorkflowStatus.NEW)
    link = a_link(seen_disposition=Policy("SEC").disposition_of(a_ticket(status)))

    plan = decide(finding, a_ticket(status), link, POLICY, NOW)

    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED
    assert update.user_defined_fields == {"jiraIssue": TICKET_KEY}
    marked = replace(finding, workflow_status=WorkflowStatus.NOTIFIED, user_defined_fields={"jiraIssue": KEY})
    assert decide(marked, a_ticket("Resolved"), plan.link, POLICY, NOW).actions == ()


def test_rule_04_passed_finding_closes_the_ticket_and_resolves_the_finding():
    finding = a_finding(compliance_status="PASSED", workflow_status=WorkflowStatus.NOTIFIED)

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 4
    assert "passes" in moves(plan)[0].comment
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.RESOLVED
    assert update.user_defined_fields == {"jiraIssue": TICKET_KEY}


def test_rule_04_finding_deleted_from_security_hub_closes_an_expired_ticket():
    plan = decide(None, a_ticket("Risk approval expired"), a_link(seen_disposition=Disposition.EXPIRED), POLICY, NOW)

    assert plan.rule == 4
    assert "no longer has this finding" in moves(plan)[0].comment


@pytest.mark.parametrize("status", ["Resolved", "Risk approved", "Accepted false positive", "Done"])
def test_rule_05_gone_finding_leaves_a_decided_ticket_alone(status):
    finding = a_finding(record_state=RecordState.ARCHIVED, workflow_status=WorkflowStatus.RESOLVED,
                        user_defined_fields={"jiraIssue": KEY})
    link = a_link(seen_disposition=Policy("SEC").disposition_of(a_ticket(status)))

    plan = decide(finding, a_ticket(status), link, POLICY, NOW)

    assert plan.rule == 5
    assert plan.actions == ()


# --- rule 6: recurrence -------------------------------------------------------------------------------------


def fixed_link(**changes):
    return a_link(seen_disposition=Disposition.FIXED, fixed_at_updated_at=EVALUATED,
                  written_workflow=WorkflowStatus.RESOLVED, **changes)


def test_rule_06_a_later_evaluation_that_still_fails_reopens_the_fixed_ticket():
    finding = a_finding(workflow_status=WorkflowStatus.RESOLVED, updated_at=LATER)

    plan = decide(finding, a_ticket("Resolved"), fixed_link(), POLICY, NOW)

    assert plan.rule == 6
    [move] = moves(plan)
    assert move.disposition is Disposition.OPEN
    assert "recurred at 2025-06-01 18:00 UTC" in move.comment
    assert updates(plan)[0].workflow is WorkflowStatus.NOTIFIED
    assert plan.link.fixed_at_updated_at is None and plan.link.seen_disposition is Disposition.OPEN


def test_rule_06_workflow_reset_to_new_by_security_hub_reopens_the_fixed_ticket():
    finding = a_finding(workflow_status=WorkflowStatus.NEW)

    plan = decide(finding, a_ticket("Resolved"), fixed_link(), POLICY, NOW)

    assert plan.rule == 6
    assert "reset to NEW" in plan.reason


# --- rule 7: risk accepted or false positive ----------------------------------------------------------------


def test_rule_07_risk_accepted_suppresses_the_finding_with_who_accepted_it_where():
    ticket = a_ticket("Risk approved", status_changed_by="Sam Security")

    plan = decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), ticket, a_link(), POLICY, NOW)

    assert plan.rule == 7
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.SUPPRESSED
    assert note(update) == f"Risk accepted in {TICKET} by Sam Security"
    assert update.verification_state is None
    assert plan.link.accepted_until == NOW + timedelta(days=365)


def test_rule_07_accepted_false_positive_suppresses_and_marks_it_a_false_positive():
    ticket = a_ticket("Accepted false positive", status_changed_by="Sam Security")

    plan = decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), ticket, a_link(), POLICY, NOW)

    assert plan.rule == 7
    [update] = updates(plan)
    assert (update.workflow, update.verification_state) == (WorkflowStatus.SUPPRESSED, "FALSE_POSITIVE")
    assert "False positive accepted" in note(update)
    assert plan.link.accepted_until is None


def test_rule_07_a_suppression_made_in_the_console_is_taken_over_once_jira_accepts_the_risk():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_updated_by="alice")

    plan = decide(finding, a_ticket("Risk approved"), a_link(written_workflow=WorkflowStatus.NOTIFIED), POLICY, NOW)

    assert plan.rule == 7
    assert plan.link.written_workflow is WorkflowStatus.SUPPRESSED


# --- rule 8: suppressed outside Jira → request risk acceptance ----------------------------------------------


def test_rule_08_suppression_in_the_console_becomes_a_request_for_risk_acceptance():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_updated_by="alice",
                        note_text="accepted by the platform team")

    plan = decide(finding, a_ticket("Allocated for fix"), a_link(), POLICY, NOW)

    assert plan.rule == 8
    [move] = moves(plan)
    assert move.status == POLICY.risk_request_status and move.disposition is None
    assert "alice" in move.comment and "accepted by the platform team" in move.comment
    assert plan.link.risk_requested_at == NOW
    assert updates(plan) == []  # the suppression stands until Jira decides


def test_rule_08_the_request_is_made_once_even_where_the_workflow_has_no_such_status():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED)
    ticket = a_ticket("To Do")
    first = decide(finding, ticket, a_link(), POLICY, NOW)

    after = apply(first, finding, ticket, a_link())  # no "Request risk acceptance" status: the ticket stays

    assert after[1].status == "To Do"
    assert decide(*after, POLICY, NOW + timedelta(hours=1)).is_empty


# --- rule 9: suppressed by hubsync, ticket open or expired → notified ---------------------------------------


def test_rule_09_reopened_ticket_brings_the_suppressed_finding_back_to_notified():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_updated_by="hubsync")
    link = a_link(written_workflow=WorkflowStatus.SUPPRESSED, seen_disposition=Disposition.ACCEPTED)

    plan = decide(finding, a_ticket("Request risk acceptance", status_changed_by="Sam Security"), link, POLICY, NOW)

    assert plan.rule == 9
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED
    assert note(update) == f"Risk no longer accepted: {TICKET} was reopened by Sam Security"


def test_rule_09_expired_risk_approval_brings_the_finding_back_to_notified():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED)
    link = a_link(written_workflow=WorkflowStatus.SUPPRESSED, seen_disposition=Disposition.EXPIRED)

    plan = decide(finding, a_ticket("Risk approval expired"), link, POLICY, NOW)

    assert plan.rule == 9
    assert "expired" in note(updates(plan)[0])


def test_rule_09_a_request_for_risk_acceptance_that_was_not_approved_unsuppresses_the_finding():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_updated_by="alice")
    link = a_link(risk_requested_at=NOW - timedelta(days=1))
    ticket = a_ticket("Risk not approved", status_changed_at=NOW - timedelta(hours=1), status_changed_by="Sam")

    plan = decide(finding, ticket, link, POLICY, NOW)

    assert plan.rule == 9
    assert note(updates(plan)[0]) == f"Risk acceptance not approved in {TICKET} by Sam"
    assert plan.link.risk_requested_at is None


def test_rule_09_a_pending_request_waits_for_the_security_engineer():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_updated_by="alice")
    link = a_link(risk_requested_at=NOW - timedelta(days=1))
    ticket = a_ticket("Request risk acceptance", status_changed_at=NOW - timedelta(hours=20))

    assert decide(finding, ticket, link, POLICY, NOW).is_empty


# --- rule 10: fixed ticket → resolved finding ----------------------------------------------------------------


def test_rule_10_fixed_ticket_resolves_the_finding_awaiting_re_evaluation():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED)

    plan = decide(finding, a_ticket("Resolved"), a_link(), POLICY, NOW)

    assert plan.rule == 10
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.RESOLVED
    assert note(update) == f"Fixed in {TICKET}, awaiting re-evaluation"
    assert plan.link.fixed_at_updated_at == EVALUATED
    assert plan.link.seen_disposition is Disposition.FIXED


def test_rule_10_a_stock_done_status_counts_as_fixed():
    plan = decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), a_ticket("Done"), a_link(), POLICY, NOW)

    assert plan.rule == 10


# --- rule 11: open ticket, finding NEW or RESOLVED → notified ------------------------------------------------


@pytest.mark.parametrize("workflow", [WorkflowStatus.NEW, WorkflowStatus.RESOLVED])
def test_rule_11_open_ticket_keeps_the_finding_notified(workflow):
    plan = decide(a_finding(workflow_status=workflow, updated_at=LATER), a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 11
    [update] = updates(plan)
    assert update.workflow is WorkflowStatus.NOTIFIED
    assert update.user_defined_fields == {"jiraIssue": TICKET_KEY}


# --- rule 12: severity or title changed → ticket follows -----------------------------------------------------


def test_rule_12_raised_severity_raises_the_priority_with_a_comment():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, severity=Severity.CRITICAL)

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 12
    edit, comment = plan.actions
    assert edit == EditTicket(summary=None, priority="Highest")
    assert isinstance(comment, CommentOnTicket) and "HIGH \u2192 CRITICAL" in comment.text
    assert plan.link.rendered_severity == "CRITICAL"


def test_rule_12_new_title_rewrites_the_summary():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, title="S3 buckets should block public access")

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 12
    assert plan.actions[0].summary.endswith(":: S3 buckets should block public access")
    assert plan.actions[0].priority is None


def test_rule_12_comes_along_with_the_rule_that_matched_first():
    finding = a_finding(workflow_status=WorkflowStatus.NEW, severity=Severity.CRITICAL, updated_at=LATER)

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 11
    assert {type(action) for action in plan.actions} == {UpdateFinding, EditTicket, CommentOnTicket}


def test_rule_12_a_ticket_adopted_without_memory_is_not_edited():
    plan = decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), a_ticket(), None, POLICY, NOW)

    assert plan.actions == ()
    assert plan.link.rendered_severity == "HIGH" and plan.link.ticket_key == KEY


# --- rule 13: risk acceptance expired --------------------------------------------------------------------------


def test_rule_13_risk_acceptance_past_its_expiry_is_marked_expired_and_the_finding_notified():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED)
    link = a_link(written_workflow=WorkflowStatus.SUPPRESSED, seen_disposition=Disposition.ACCEPTED,
                  accepted_until=NOW - timedelta(minutes=1))

    plan = decide(finding, a_ticket("Risk approved"), link, POLICY, NOW)

    assert plan.rule == 13
    [move] = moves(plan)
    assert move.disposition is Disposition.EXPIRED
    assert updates(plan)[0].workflow is WorkflowStatus.NOTIFIED
    assert plan.link.seen_disposition is Disposition.EXPIRED and plan.link.accepted_until is None


def test_rule_13_acceptances_never_expire_when_the_policy_says_so():
    policy = replace(POLICY, risk_acceptance_days=None)
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED)
    link = a_link(written_workflow=WorkflowStatus.SUPPRESSED, seen_disposition=Disposition.ACCEPTED)

    assert decide(finding, a_ticket("Risk approved"), link, policy, NOW + timedelta(days=4000)).is_empty


# --- echoes, stale snapshots, reorderings ----------------------------------------------------------------------


def test_echo_of_our_own_update_decides_to_an_empty_plan():
    finding = a_finding()
    created = decide(finding, None, None, POLICY, NOW)
    finding_after, ticket, link = apply(created, finding, None, None)

    # Security Hub sends our BatchUpdateFindings back as an Imported event: same provider UpdatedAt.
    echo = decide(finding_after, ticket, link, POLICY, NOW + timedelta(seconds=5))

    assert finding_after.updated_at == finding.updated_at
    assert echo.is_empty
    assert link.ticket_key == CREATED_KEY


def test_a_stale_snapshot_of_the_finding_is_ignored():
    stale = a_finding(workflow_status=WorkflowStatus.NEW, updated_at=EVALUATED - timedelta(hours=1))

    plan = decide(stale, a_ticket(), a_link(), POLICY, NOW)

    assert plan.is_empty and "stale" in plan.reason


def test_jira_and_security_hub_changes_converge_whatever_order_they_are_processed_in():
    """The ticket is accepted in Jira while Security Hub re-evaluates the finding: both orders end the same."""
    finding, ticket, link = a_finding(workflow_status=WorkflowStatus.NOTIFIED), a_ticket(), a_link()
    accepted, evaluated = a_ticket("Risk approved"), replace(finding, updated_at=LATER)

    jira_first = apply(decide(finding, accepted, link, POLICY, NOW), finding, accepted, link)
    jira_first = apply(decide(evaluated, accepted, jira_first[2], POLICY, NOW), evaluated, accepted, jira_first[2])
    hub_first = apply(decide(evaluated, ticket, link, POLICY, NOW), evaluated, ticket, link)
    hub_first = apply(decide(evaluated, accepted, hub_first[2], POLICY, NOW), evaluated, accepted, hub_first[2])

    assert jira_first[0].workflow_status is hub_first[0].workflow_status is WorkflowStatus.SUPPRESSED
    assert jira_first[2] == hub_first[2]


def test_the_whole_story_of_a_finding_fixed_then_recurring_then_passing():
    finding = a_finding()
    state = apply(decide(finding, None, None, POLICY, NOW), finding, None, None)
    assert state[1].status == "Open" and state[0].workflow_status is WorkflowStatus.NOTIFIED

    state = (state[0], replace(state[1], status="Resolved", status_category=a_ticket("Resolved").status_category),
             state[2])
    state = apply(decide(*state, POLICY, NOW), *state)
    assert state[0].workflow_status is WorkflowStatus.RESOLVED

    still_failing = replace(state[0], updated_at=LATER)
    state = apply(decide(still_failing, *state[1:], POLICY, NOW), still_failing, *state[1:])
    assert state[1].status == "Allocated for fix" and state[0].workflow_status is WorkflowStatus.NOTIFIED

    passed = replace(state[0], compliance_status="PASSED", workflow_status=WorkflowStatus.RESOLVED,
                     updated_at=LATER + timedelta(hours=12))
    state = apply(decide(passed, *state[1:], POLICY, NOW), passed, *state[1:])
    assert state[1].status == "Resolved"
    assert decide(*state, POLICY, NOW).is_empty


def test_notes_stay_within_security_hubs_512_characters_once_the_key_is_in():
    long_rule = replace(POLICY, rules=(replace(POLICY.rules[0], name="r" * 600),))
    accepted = a_ticket("Risk approved", status_changed_by="S" * 600)

    notes = [
        updates(decide(a_finding(), None, None, long_rule, NOW))[0].note,
        updates(decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), accepted, a_link(), POLICY, NOW))[0].note,
    ]

    written = [text.render("SECURITYFINDINGS-123456") for text in notes if text is not None]
    assert len(written) == 2 and all(len(text) <= 512 for text in written)
    assert all(text.endswith("\u2026") for text in written)
