"""Rule 3 with the real store and the Jira simulator: a ticket someone deletes in Jira is replaced by one new ticket
while its finding still matches the rules, and the finding names the new ticket."""

from __future__ import annotations

import pytest

from hubsync.domain.finding import Finding, marker_label
from hubsync.domain.link import LinkState
from hubsync.service.sync import sync_findings, sync_hints
from hubsync_sandbox.demo import Demo


@pytest.mark.parametrize("demo", ["cloud", "datacenter"], indirect=True)
def test_a_deleted_ticket_is_replaced_once_while_the_finding_still_matches(
    demo: Demo, new_critical_finding: Finding
) -> None:
    finding = new_critical_finding
    [created] = sync_findings(demo.ctx, [finding])
    assert created.error is None and created.ticket_key
    demo.world.delete_issue(created.ticket_key, demo.world.user_by_name("ssecurity"))

    [replaced] = sync_hints(demo.ctx, [finding.identifier])
    [again] = sync_hints(demo.ctx, [finding.identifier])

    assert replaced.error is None and replaced.rule == 3
    assert replaced.ticket_key and replaced.ticket_key != created.ticket_key
    assert demo.world.search_keys(f'labels = "{marker_label(finding.key)}"') == [replaced.ticket_key]
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)
    assert link is not None and link.state is LinkState.LINKED and link.ticket_key == replaced.ticket_key
    current = demo.ctx.securityhub.get([finding.identifier])[finding.key]
    assert current.user_defined_fields["jiraIssue"] == replaced.ticket_key
    assert again.error is None and not again.actions  # converged: nothing more to do
