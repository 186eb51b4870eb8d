"""The reconcile's safety net for manual escalation by note or comment (`#jira`): it reads the live findings that
ask for a ticket whatever the rules say, so a request reaches Jira even when no event announced it."""

from __future__ import annotations

from hubsync.domain.finding import HUBSYNC_AUTHOR, Severity, WorkflowStatus
from hubsync.service.reconcile import reconcile
from tests.fakes import FakeWorld
from tests.unit.domain.domain_values import POLICY, a_finding


def test_a_finding_no_rule_escalates_gets_its_ticket_when_its_note_asks() -> None:
    asked = a_finding(id="asked", severity=Severity.LOW, note_text="#Jira this bucket is ours", note_updated_by="sofia")
    quiet = a_finding(id="quiet", severity=Severity.LOW, note_text="looking into it", note_updated_by="sofia")
    world = FakeWorld(POLICY)
    world.securityhub.put(asked, quiet)

    report = reconcile(world.context())

    [created] = [o for o in report.outcomes if "CreateTicket" in o.actions]
    assert created.finding_key == asked.key and created.ticket_key
    after = world.securityhub.get([asked.identifier, quiet.identifier])
    assert after[asked.key].workflow_status is WorkflowStatus.NOTIFIED
    assert after[asked.key].note_text.startswith(f"Escalated by hand to Jira: tracked in {created.ticket_key}")
    assert after[asked.key].note_updated_by == HUBSYNC_AUTHOR
    assert after[quiet.key].workflow_status is WorkflowStatus.NEW and len(world.jira.issues) == 1
    assert reconcile(world.context()).changed == []


def test_a_gone_finding_that_asks_gets_no_ticket() -> None:
    passed = a_finding(severity=Severity.LOW, note_text="#jira", note_updated_by="sofia", compliance_status="PASSED")
    world = FakeWorld(POLICY)
    world.securityhub.put(passed)

    assert reconcile(world.context()).changed == [] and not world.jira.issues
