"""One finding, one ticket, exactly once: a creation interrupted after Jira's create is adopted, not repeated;
a creation in progress elsewhere is left alone; the normal path spends no Jira search on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from hubsync.adapters.store.links import DEFAULT_CLAIM_LEASE
from hubsync.adapters.store.models import LinkRow
from hubsync.domain.document import Document
from hubsync.domain.finding import Finding, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.ports import TicketDraft
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker
from hubsync.service.sync import sync_findings, sync_hints
from hubsync_sandbox.demo import Demo


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
                properties={MARKER_PROPERTY: FindingMarker(finding.id, finding.product_arn, finding.key).to_property()},
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


def test_a_claim_within_its_lease_is_left_alone_and_retried_when_it_runs_out(
    demo: Demo, new_critical_finding: Finding
) -> None:
    """An interrupted create may have reached Jira moments ago, before Jira's search shows it: the claim is not
    taken over (nor searched for) until its lease runs out, and the hint is told when that is, not failed."""
    finding = new_critical_finding
    claimed_at = datetime.now(UTC)
    claim(demo, finding, claimed_at=claimed_at)

    [outcome] = sync_findings(demo.ctx, [finding])

    assert outcome.error and "interrupted" in outcome.error
    assert outcome.transient
    assert outcome.retry_at == claimed_at + DEFAULT_CLAIM_LEASE
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


def fault(demo: Demo, **fault: object) -> None:
    """Inject a fault into the simulated Jira, as its control API takes it."""
    response = requests.post(f"{demo.world.base_url}/_sandbox/faults", json=fault, timeout=5)
    assert response.status_code < 300, response.text


def claims_of(demo: Demo, finding: Finding) -> list[str]:
    with demo.store.engine.connect() as connection:
        return list(connection.execute(
            sa.select(LinkRow.state).where(LinkRow.finding_key == finding.key)
        ).scalars())


def test_an_owner_lookup_jira_cannot_answer_leaves_no_claim_and_the_next_attempt_creates(
    demo: Demo, new_critical_finding: Finding
) -> None:
    """One 503 on the account owner's lookup used to leave the claim standing for its whole lease, so every later
    hint failed with "another sync is creating this finding's ticket" until it was dead-lettered."""
    finding = new_critical_finding
    fault(demo, status=503, path_prefix="/rest/api/3/user", count=100)

    [failed] = sync_hints(demo.ctx, [finding.identifier])

    assert failed.error and "owner" in failed.error and failed.transient
    assert claims_of(demo, finding) == []
    requests.delete(f"{demo.world.base_url}/_sandbox/faults", timeout=5)

    [created] = sync_hints(demo.ctx, [finding.identifier])

    assert created.error is None and created.rule == 1
    assert len(tickets_marked_for(demo, finding)) == 1


def test_a_create_jira_refuses_with_503_gives_the_claim_back(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    fault(demo, status=503, path_prefix="/rest/api/3/issue", count=100)

    [failed] = sync_hints(demo.ctx, [finding.identifier])

    assert failed.error and failed.transient
    assert claims_of(demo, finding) == []  # Jira did nothing: the next attempt need not search first


def test_a_create_whose_answer_is_lost_keeps_its_claim_until_jira_can_be_searched(
    demo: Demo, new_critical_finding: Finding
) -> None:
    """A 500 may follow a create that happened: the claim stays, so the next attempt looks for the marker (once
    Jira's search has caught up) instead of creating a second ticket."""
    finding = new_critical_finding
    fault(demo, status=500, path_prefix="/rest/api/3/issue", count=100)

    [failed] = sync_hints(demo.ctx, [finding.identifier])

    assert failed.error and failed.transient
    assert claims_of(demo, finding) == [LinkState.CLAIMED.value]


def test_a_claim_left_behind_is_kept_while_jira_cannot_be_searched_for_its_ticket(
    demo: Demo, new_critical_finding: Finding
) -> None:
    """An interrupted create may have made a ticket; until the marker search answers, the claim must stay, or the
    next attempt would start afresh and create a second one."""
    finding = new_critical_finding
    claim(demo, finding, claimed_at=datetime.now(UTC) - timedelta(hours=1))
    fault(demo, status=503, path_prefix="/rest/api/3/search", count=100)

    with pytest.raises(Exception, match="503"):  # nothing else in the batch to sync: the failure is the batch's
        sync_findings(demo.ctx, [finding])

    assert claims_of(demo, finding) == [LinkState.CLAIMED.value]
    assert tickets_marked_for(demo, finding) == []
