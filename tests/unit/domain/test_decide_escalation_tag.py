"""A note or comment that starts with `#jira` asks for a ticket whatever the rules say: the new Security Hub's
manual escalation (it has no custom actions), which works on CSPM notes too. hubsync's own note replaces the tag,
keeping the person's words, so deciding again is empty."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.domain.decide import decide
from hubsync.domain.finding import HUBSYNC_AUTHOR, Severity, WorkflowStatus, asks_for_ticket, names_ticket
from hubsync.domain.plan import CreateTicket, UpdateFinding
from tests.unit.domain.domain_values import KEY, NOW, POLICY, a_finding, a_link, a_ticket


@pytest.mark.parametrize("text", ["#jira", "#JIRA please fix", "  #Jira: the bucket is public", "#jira\nsee runbook"])
def test_a_note_starting_with_the_tag_asks_for_a_ticket(text):
    assert asks_for_ticket(text)


@pytest.mark.parametrize("text", [None, "", "jira", "please #jira", "# jira", "#jir"])
def test_other_notes_do_not(text):
    assert not asks_for_ticket(text)


def test_names_ticket_matches_the_whole_key_only():
    assert names_ticket("Tracked in SEC-12.", "SEC-12")
    assert not names_ticket("Tracked in SEC-123", "SEC-12")
    assert not names_ticket("Tracked in XSEC-12", "SEC-12")


def unmatched(**changes):
    """A live MEDIUM finding no rule of POLICY (HIGH and up) escalates."""
    return a_finding(severity=Severity.MEDIUM, **changes)


def test_the_tag_escalates_a_finding_no_rule_matches():
    finding = unmatched(note_text="#jira the bucket holds card data", note_updated_by="sofia")

    plan = decide(finding, None, None, POLICY, NOW)

    assert plan.rule == 1 and "escalated by hand" in plan.reason
    assert CreateTicket(escalated_by_hand=True) in plan.actions
    note = next(a for a in plan.actions if isinstance(a, UpdateFinding)).for_ticket(KEY).note
    assert note == f"Escalated by hand to Jira: tracked in {KEY} (asked: \u201c#jira the bucket holds card data\u201d)"
    assert not asks_for_ticket(note)


def test_without_the_tag_the_same_finding_gets_no_ticket():
    plan = decide(unmatched(note_text="looking into it", note_updated_by="sofia"), None, None, POLICY, NOW)

    assert plan.rule == 2 and not plan.actions


def test_hubsyncs_own_note_never_asks():
    finding = unmatched(note_text="#jira", note_updated_by=HUBSYNC_AUTHOR)

    assert not finding.asks_for_ticket
    assert decide(finding, None, None, POLICY, NOW).rule == 2


def test_the_tag_on_a_gone_finding_makes_no_ticket():
    finding = unmatched(note_text="#jira", note_updated_by="sofia", compliance_status="PASSED")

    assert decide(finding, None, None, POLICY, NOW).actions == ()


def test_the_tag_on_a_linked_finding_names_its_ticket_once():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, note_text="#jira again", note_updated_by="sofia",
                        user_defined_fields={"jiraIssue": KEY})

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    updates = [a for a in plan.actions if isinstance(a, UpdateFinding)]
    assert [u.for_ticket(KEY).note for u in updates] == [
        f"Escalated by hand again: already tracked in {KEY} (asked: \u201c#jira again\u201d)"]
    written = replace(finding, note_text=updates[0].for_ticket(KEY).note, note_updated_by=HUBSYNC_AUTHOR)
    again = decide(written, a_ticket(), plan.link or a_link(), POLICY, NOW)
    assert again.is_empty, again


def test_a_long_request_is_cut_in_its_words_never_in_the_key():
    finding = unmatched(note_text="#jira " + "x" * 600, note_updated_by="sofia")

    note = next(a for a in decide(finding, None, None, POLICY, NOW).actions if isinstance(a, UpdateFinding)).note

    assert note is not None
    longest_key = "SECURITYOP-1234567890123"  # a 10-letter project, 24 characters in all
    rendered = note.render(longest_key)
    assert len(rendered) <= 512 and longest_key in rendered and rendered.endswith("\u2026")
