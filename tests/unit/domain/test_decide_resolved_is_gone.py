"""The rules for a finding whose RESOLVED means gone (the new Security Hub, OCSF): Security Hub's Resolved closes the
ticket, while hubsync's own Resolved, written when the ticket was fixed, awaits Security Hub's next word as in CSPM."""

from __future__ import annotations

from datetime import timedelta

from hubsync.domain.decide import decide
from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.plan import MoveTicket, UpdateFinding
from hubsync.domain.ticket import Disposition
from tests.unit.domain.domain_values import EVALUATED, NOW, POLICY, a_finding, a_link, a_ticket

LATER = EVALUATED + timedelta(hours=12)


def resolved(**changes):
    return a_finding(workflow_status=WorkflowStatus.RESOLVED, resolved_is_gone=True, **changes)


def fixed_link():
    return a_link(seen_disposition=Disposition.FIXED, fixed_at_updated_at=EVALUATED,
                  written_workflow=WorkflowStatus.RESOLVED)


def test_a_resolved_finding_gets_no_ticket():
    plan = decide(resolved(), None, None, POLICY, NOW)

    assert (plan.rule, plan.reason) == (2, "finding is resolved: no ticket")


def test_a_cspm_finding_resolved_by_someone_is_still_live():
    finding = a_finding(workflow_status=WorkflowStatus.RESOLVED)

    assert finding.is_live and not resolved().is_live


def test_security_hub_resolving_the_finding_closes_its_open_ticket():
    plan = decide(resolved(updated_at=LATER), a_ticket(), a_link(), POLICY, NOW)

    assert plan.rule == 4
    [move] = [action for action in plan.actions if isinstance(action, MoveTicket)]
    assert move.disposition is Disposition.FIXED
    assert move.comment == "Security Hub marked this finding resolved. Closing the ticket."
    assert not any(isinstance(action, UpdateFinding) and action.workflow for action in plan.actions)


def test_hubsyncs_own_resolved_awaits_security_hubs_next_word():
    plan = decide(resolved(), a_ticket("Resolved"), fixed_link(), POLICY, NOW)

    assert plan.rule is None and "awaiting re-evaluation" in plan.reason
    assert plan.is_empty


def test_an_update_after_the_fix_reopens_the_ticket_though_the_finding_is_still_resolved():
    plan = decide(resolved(updated_at=LATER), a_ticket("Resolved"), fixed_link(), POLICY, NOW)

    assert plan.rule == 6
    [move] = [action for action in plan.actions if isinstance(action, MoveTicket)]
    assert move.disposition is Disposition.OPEN


def test_a_ticket_reopened_in_jira_notifies_the_finding_hubsync_resolved_rather_than_closing_again():
    plan = decide(resolved(), a_ticket("Allocated for fix"), fixed_link(), POLICY, NOW)

    assert plan.rule == 11
    [update] = [action for action in plan.actions if isinstance(action, UpdateFinding)]
    assert update.workflow is WorkflowStatus.NOTIFIED


def test_hubsyncs_own_resolved_on_a_passing_control_is_gone():
    plan = decide(resolved(compliance_status="PASSED"), a_ticket("Resolved"), fixed_link(), POLICY, NOW)

    assert plan.rule == 5 and "passed" in plan.reason
