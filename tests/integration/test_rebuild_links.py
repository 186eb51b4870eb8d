"""Either side alone is enough: a link lost from the database is rebuilt from the ticket's marker on the next
reconcile, without a second ticket; a second ticket carrying the same marker is reported, not merged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hubsync.adapters.store.models import LinkRow
from hubsync.domain.finding import Finding, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.rendering import Document
from hubsync.sandbox.demo import Demo, running_demo
from hubsync.service.ports import TicketDraft
from hubsync.service.reconcile import reconcile
from hubsync.service.sync import FINDING_PROPERTY, sync_hints
from tests.fixtures.sandbox import SandboxContracts


@pytest.fixture(params=["cloud", "datacenter"])
def demo(request: pytest.FixtureRequest, sandbox_contracts: SandboxContracts) -> Iterator[Demo]:
    with running_demo(flavour=request.param, say=lambda _: None, wrap=sandbox_contracts.wrap) as running:
        yield running


def ticketed_finding(demo: Demo) -> tuple[Finding, str]:
    filters = {"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}],
               "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
               "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
    finding = next(f for f in demo.ctx.securityhub.findings(filters) if f.is_live)
    [outcome] = sync_hints(demo.ctx, [finding.identifier])
    assert outcome.ticket_key
    return finding, outcome.ticket_key


def test_a_lost_link_is_rebuilt_from_the_ticket(demo: Demo) -> None:
    finding, ticket_key = ticketed_finding(demo)
    with demo.store.engine.begin() as connection:  # a database restored from before the link was written
        connection.execute(sa.delete(LinkRow).where(LinkRow.finding_key == finding.key))

    report = reconcile(demo.ctx)

    assert not report.failed
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)
    assert link is not None and link.state is LinkState.LINKED and link.ticket_key == ticket_key
    assert demo.world.search_keys(f'labels = "{marker_label(finding.key)}"') == [ticket_key]
    assert reconcile(demo.ctx).changed == []


def test_a_second_ticket_with_the_same_marker_is_reported(demo: Demo) -> None:
    finding, ticket_key = ticketed_finding(demo)
    [copy] = demo.ctx.jira.create_tickets([
        TicketDraft(project_key="SEC", issue_type="Task", summary="a copy made by hand",
                    description=Document.paragraph("copy"), priority=None,
                    labels=("security-hub", marker_label(finding.key)), assignee=None,
                    properties={FINDING_PROPERTY: {"id": finding.id, "productArn": finding.product_arn,
                                                   "key": finding.key}})
    ])

    report = reconcile(demo.ctx)

    [duplicate] = [o for o in report.failed if o.ticket_key == copy.key]
    assert ticket_key in (duplicate.error or "")
    with demo.store.read() as uow:
        assert uow.links.get(demo.ctx.tenant_id, finding.key).ticket_key == ticket_key
