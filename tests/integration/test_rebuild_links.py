"""Either side alone is enough: a link lost from the database is rebuilt from the ticket's marker on the next
reconcile, without a second ticket; a second ticket carrying the same marker is reported, not merged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hubsync.adapters.store.models import LinkRow
from hubsync.domain.document import Document
from hubsync.domain.finding import Finding, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.ports import TicketDraft
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker
from hubsync.service.reconcile import reconcile
from hubsync.service.sync import sync_hints
from hubsync_sandbox.demo import Demo

pytestmark = pytest.mark.parametrize("demo", ["cloud", "datacenter"], indirect=True)


def ticketed(demo: Demo, finding: Finding) -> tuple[Finding, str]:
    [outcome] = sync_hints(demo.ctx, [finding.identifier])
    assert outcome.ticket_key
    return finding, outcome.ticket_key


def test_a_lost_link_is_rebuilt_from_the_ticket(demo: Demo, new_critical_finding: Finding) -> None:
    finding, ticket_key = ticketed(demo, new_critical_finding)
    with demo.store.engine.begin() as connection:  # a database restored from before the link was written
        connection.execute(sa.delete(LinkRow).where(LinkRow.finding_key == finding.key))

    report = reconcile(demo.ctx)

    assert not report.failed
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)
    assert link is not None and link.state is LinkState.LINKED and link.ticket_key == ticket_key
    assert demo.world.search_keys(f'labels = "{marker_label(finding.key)}"') == [ticket_key]
    assert reconcile(demo.ctx).changed == []


def test_a_second_ticket_with_the_same_marker_is_reported(demo: Demo, new_critical_finding: Finding) -> None:
    finding, ticket_key = ticketed(demo, new_critical_finding)
    [copy] = demo.ctx.jira.create_tickets([
        TicketDraft(project_key="SEC", issue_type="Task", summary="a copy made by hand",
                    description=Document.paragraph("copy"), priority=None,
                    labels=("security-hub", marker_label(finding.key)), assignee=None,
                    properties={MARKER_PROPERTY: FindingMarker(finding.id, finding.product_arn,
                                                               finding.key).to_property()})
    ])

    report = reconcile(demo.ctx)

    [duplicate] = [o for o in report.failed if o.ticket_key == copy.key]
    assert ticket_key in (duplicate.error or "")
    with demo.store.read() as uow:
        assert uow.links.get(demo.ctx.tenant_id, finding.key).ticket_key == ticket_key
