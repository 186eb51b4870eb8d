"""One finding, one ticket, exactly once: a creation interrupted after Jira's create is adopted, not repeated;
a creation in progress elsewhere is left alone; the normal path spends no Jira search on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubsync.adapters.store.models import LinkRow
from hubsync.domain.finding import Finding, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.rendering import Document
from hubsync.sandbox.demo import Demo
from hubsync.service.ports import TicketDraft
from hubsync.service.sync import FINDING_PROPERTY, sync_findings, sync_hints


def tickets_marked_for(demo: Demo, finding: Finding) -> list[str]:
    return demo.world.search_keys(f'labels = "{marker_label(finding.key)}"')


def claim(demo: Demo, finding: Finding, claimed_at: datetime) -> None:
    with demo.store.transaction() as uow:
        assert uow.links.claim(demo.ctx.tenant_id, finding.identifier, finding.secondary_key).owned
    with demo.store.engine.begin() as connection:  # time passes: the claim's lease runs out (or not)
        connection.execute(
            sa.update(LinkRow).where(LinkRow.finding_key == finding.key).values(claimed_at=claimed_at)
        )


def test_a_creation_interrupted_after_jiras_create_is_adopted(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    claim(demo, finding, claimed_at=datetime.now(UTC) - timedelta(hours=1))
    # The crashed attempt had already created the ticket, with its marker, before it could record it.
    created = demo.ctx.jira.create_tickets(
        [
            TicketDraft(
                project_key="SEC", issue_type="Task", summary="created before the crash",
                description=Document.paragraph("created before the crash"), priority="Highest",
                labels=("security-hub", marker_label(finding.key)), assignee=None,
                properties={FINDING_PROPERTY: {"id": finding.id, "productArn": finding.product_arn,
                                               "key": finding.key}},
            )
        ]
    )
    crashed_key = created[0].key

    [outcome] = sync_findings(demo.ctx, [finding])

    assert outcome.error is None
    assert tickets_marked_for(demo, finding) == [crashed_key]
    with demo.store.read() as uow:
        link = uow.links.get(demo.ctx.tenant_id, finding.key)
    assert link is not None and link.state is LinkState.LINKED and link.ticket_key == crashed_key
    current = demo.ctx.securityhub.get([finding.identifier])[finding.key]
    assert current.user_defined_fields["jiraIssue"] == crashed_key


def test_a_claim_that_crashed_before_jira_is_created_once(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    claim(demo, finding, claimed_at=datetime.now(UTC) - timedelta(hours=1))

    [outcome] = sync_findings(demo.ctx, [finding])

    assert outcome.error is None
    assert len(tickets_marked_for(demo, finding)) == 1


def test_a_creation_in_progress_elsewhere_is_left_alone(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    claim(demo, finding, claimed_at=datetime.now(UTC))

    [outcome] = sync_findings(demo.ctx, [finding])

    assert outcome.error and "another sync" in outcome.error
    assert tickets_marked_for(demo, finding) == []
    assert "find_by_markers" not in demo.ctx.jira.request_counts


def test_the_normal_path_spends_no_search_and_repeats_nothing(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    first = sync_hints(demo.ctx, [finding.identifier])
    # the same event delivered twice more, late: hubsync decides on the finding as it is now
    again = sync_hints(demo.ctx, [finding.identifier, finding.identifier])
    late = sync_hints(demo.ctx, [finding.identifier])

    assert [o.rule for o in first] == [1]
    assert again[0].actions == () and late[0].actions == ()
    assert len(tickets_marked_for(demo, finding)) == 1
    assert "find_by_markers" not in demo.ctx.jira.request_counts
