"""A plan names the ticket with `TICKET_KEY`, a value of its own: the key goes there and nowhere else, so a text a
finding, a ticket or a policy carries ("{ticket}" in a title, say) is written as it is."""

from __future__ import annotations

from dataclasses import replace

from hubsync.domain.decide import NOTE_LIMIT, TICKET_KEY_ROOM, decide
from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.plan import (
    TICKET_KEY,
    CommentOnTicket,
    EditTicket,
    FindingUpdate,
    MoveTicket,
    TicketText,
    UpdateFinding,
)
from tests.unit.domain.domain_values import KEY, NOW, POLICY, a_finding, a_link, a_ticket

HOSTILE = "Bucket {ticket} is {ticket}lic"


def test_a_finding_title_reading_ticket_is_never_rewritten():
    finding = a_finding(workflow_status=WorkflowStatus.NOTIFIED, title=HOSTILE)

    plan = decide(finding, a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 12
    edit, comment = plan.actions
    assert isinstance(edit, EditTicket) and edit.summary is not None and edit.summary.endswith(f":: {HOSTILE}")
    assert isinstance(comment, CommentOnTicket) and f"\u201c{HOSTILE}\u201d" in comment.text
    assert plan.link is not None and plan.link.rendered_title == HOSTILE


def test_a_finding_note_reading_ticket_is_quoted_as_it_is():
    finding = a_finding(workflow_status=WorkflowStatus.SUPPRESSED, note_text=HOSTILE, note_updated_by="someone")

    plan = decide(finding, a_ticket(), a_link(written_workflow=WorkflowStatus.NOTIFIED), POLICY, NOW)

    [move] = [action for action in plan.actions if isinstance(action, MoveTicket)]
    assert move.comment is not None and f"\u201c{HOSTILE}\u201d" in move.comment


def test_only_the_marker_becomes_the_key_in_a_note_naming_a_person_or_a_rule():
    accepted = a_ticket("Risk approved", status_changed_by="{ticket} admin")
    hostile_rule = replace(POLICY, rules=(replace(POLICY.rules[0], name="{ticket}"),))

    [accepting] = [a for a in decide(a_finding(workflow_status=WorkflowStatus.NOTIFIED), accepted, a_link(), POLICY,
                                     NOW).actions if isinstance(a, UpdateFinding)]
    [creating] = [a for a in decide(a_finding(), None, None, hostile_rule, NOW).actions if isinstance(a, UpdateFinding)]

    assert accepting.for_ticket(KEY).note == f"Risk accepted in {KEY} by {{ticket}} admin"
    assert creating.for_ticket(KEY).note == f"Tracked in {KEY} (hubsync rule '{{ticket}}')"
    assert creating.for_ticket(KEY).user_defined_fields == {"jiraIssue": KEY}


def test_an_update_for_its_ticket_fills_the_markers_and_leaves_every_text():
    update = UpdateFinding(
        WorkflowStatus.NOTIFIED, TicketText.of("{ticket} is ", TICKET_KEY, " not {ticket}"),
        {"jiraIssue": TICKET_KEY, "other": "{ticket}"}, "TRUE_POSITIVE",
    )

    assert update.for_ticket("SEC-7") == FindingUpdate(
        WorkflowStatus.NOTIFIED, "{ticket} is SEC-7 not {ticket}", {"jiraIssue": "SEC-7", "other": "{ticket}"},
        "TRUE_POSITIVE",
    )
    assert UpdateFinding().for_ticket("SEC-7") == FindingUpdate()


def test_an_over_long_note_is_cut_in_its_text_never_in_the_key():
    long_rule = replace(POLICY, rules=(replace(POLICY.rules[0], name="r" * 600),))

    [update] = [a for a in decide(a_finding(), None, None, long_rule, NOW).actions if isinstance(a, UpdateFinding)]

    assert update.note is not None and update.note.names_ticket
    longest_key = "K" * TICKET_KEY_ROOM
    written = update.note.render(longest_key)
    assert len(written) == NOTE_LIMIT and written.endswith("\u2026") and longest_key in written
