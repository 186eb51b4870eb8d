"""The issue glance's lozenge: drawn in the create call itself and redrawn when the finding's status changes — and
never sent where hubsync is not a Connect app (no glance to draw on)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hubsync.adapters.jira import JiraClient
from hubsync.bootstrap import GLANCE_STATUS_PROPERTY
from hubsync.domain.finding import WorkflowStatus
from hubsync.domain.rendering import workflow_lozenge
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import draft


def test_a_new_ticket_carries_its_lozenge_from_the_create_call_and_follows_the_finding(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any, glance_property=GLANCE_STATUS_PROPERTY)

    notified = workflow_lozenge(WorkflowStatus.NOTIFIED)
    created = jira.create_tickets([replace(draft(n), lozenge=notified) for n in (1, 2)])
    jira.show_lozenge(created[0].key, workflow_lozenge(WorkflowStatus.SUPPRESSED))

    shown = [jira_any.world.issues[c.key].properties[GLANCE_STATUS_PROPERTY] for c in created]
    assert shown == [
        {"type": "lozenge", "value": {"label": "SUPPRESSED", "type": "moved"}},
        {"type": "lozenge", "value": {"label": "NOTIFIED", "type": "inprogress"}},
    ]
    assert jira.request_counts == {"create_tickets": 1, "show_lozenge": 1}


def test_without_a_glance_nothing_is_sent(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)

    [created] = jira.create_tickets([replace(draft(1), lozenge=workflow_lozenge(WorkflowStatus.NOTIFIED))])
    jira.show_lozenge(created.key, workflow_lozenge(WorkflowStatus.RESOLVED))

    assert GLANCE_STATUS_PROPERTY not in jira_any.world.issues[created.key].properties
    assert jira.request_counts == {"create_tickets": 1}
