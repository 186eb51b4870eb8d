"""Sync, exactly once: Jira's create and our record of it cannot be one transaction, so a claim is taken before the
create and resolved after it. Whatever fails in between (Jira refusing, an answer lost, a crash, a bulk create cut
short, a sync losing its locks), every finding ends with exactly one ticket and nothing waits longer than it must.
Run on in-memory fakes of every port."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hubsync.domain.finding import Finding, Resource, WorkflowStatus
from hubsync.domain.link import LinkState
from hubsync.domain.sync_locks import SyncLockLost
from hubsync.service.sync import Outcome, sync_findings, sync_hints
from tests.fakes import CreateFault, FakeOutage, FakeWorld
from tests.fakes.store import CLAIM_HOLD
from tests.unit.domain.domain_values import POLICY, a_finding

ACCOUNT = "111122223333"
LATER = CLAIM_HOLD + timedelta(seconds=1)  # an interrupted attempt's claim may be taken over by then


class Crash(BaseException):
    """The worker process dies here (no `except Exception` catches it)."""


def a_world(*findings: Finding) -> FakeWorld:
    world = FakeWorld(POLICY)
    world.securityhub.put(*findings)
    world.jira.search_lag = timedelta(seconds=10)  # Jira's search shows a new ticket this late (< CLAIM_HOLD)
    return world.with_owner(ACCOUNT, "dana@example.com", "5b10ac8d82e05b22cc7d4ef5")


def numbered(count: int) -> list[Finding]:
    return [
        a_finding(
            id=f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:security-control/S3.8/finding/{n:04d}",
            resources=(Resource("AwsS3Bucket", f"arn:aws:s3:::bucket-{n}", "eu-west-1", "aws"),),
        )
        for n in range(count)
    ]


def only(outcomes: list[Outcome]) -> Outcome:
    [outcome] = outcomes
    return outcome


def assert_one_ticket_each(world: FakeWorld, findings: list[Finding]) -> None:
    """Every finding has exactly one ticket, its link names it, and the finding says so."""
    for finding in findings:
        [issue] = world.jira.issues_of(finding.key)
        link = world.store.link(world.tenant_id, finding.key)
        assert link is not None and (link.state, link.ticket_key) == (LinkState.LINKED, issue.key)
        now = world.securityhub.finding(finding.key)
        assert now.workflow_status is WorkflowStatus.NOTIFIED
        assert now.user_defined_fields["jiraIssue"] == issue.key
    assert len(world.jira.issues) == len(findings)


def test_a_create_interrupted_after_jira_made_the_ticket_adopts_it_instead_of_creating_twice() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.store.fail_next("transaction", Crash(), after=1)  # the claim commits; the link's save never happens

    with pytest.raises(Crash):
        sync_findings(world.context(), [finding])
    assert len(world.jira.issues) == 1  # the create had reached Jira
    claim = world.store.link(world.tenant_id, finding.key)
    assert claim is not None and claim.state is LinkState.CLAIMED

    world.advance(LATER)
    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert outcome.error is None
    assert_one_ticket_each(world, [finding])
    assert world.jira.create_requests == 1


def test_a_claim_within_its_hold_is_left_alone_and_says_when_to_retry() -> None:
    finding = a_finding()
    world = a_world(finding)
    claimed_at = world.clock()
    world.store.leave_claim(world.tenant_id, finding.identifier, claimed_at=claimed_at)

    world.advance(5)
    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert outcome.error is not None and "interrupted" in outcome.error
    assert outcome.transient and outcome.retry_at == claimed_at + CLAIM_HOLD
    assert world.jira.create_requests == 0


def test_an_interrupted_create_that_never_reached_jira_creates_the_ticket_once_its_claim_is_over() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.store.leave_claim(world.tenant_id, finding.identifier, claimed_at=world.clock())

    world.advance(LATER)
    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert outcome.error is None
    assert_one_ticket_each(world, [finding])


@pytest.mark.parametrize(("status", "transient"), [(429, True), (503, True), (400, False)])
def test_jira_refusing_the_create_gives_the_claim_back_and_the_next_sync_creates(status: int, transient: bool) -> None:
    finding = a_finding()
    world = a_world(finding)
    world.jira.create_faults = [CreateFault.refused(status)]

    outcome = only(sync_findings(world.context(), [finding]))

    assert outcome.error is not None and "Jira did not create the tickets" in outcome.error
    assert outcome.transient is transient
    assert world.jira.issues == []
    assert world.store.link(world.tenant_id, finding.key) is None  # the claim went back: no wait for the next try
    assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.NEW
    [entry] = world.store.audit_of(world.tenant_id, finding.key)
    assert entry.outcome == "failed"

    retried = only(sync_hints(world.context(), [finding.identifier]))  # at once: no clock moved

    assert retried.error is None
    assert_one_ticket_each(world, [finding])


def test_a_lost_create_answer_keeps_the_claim_and_never_makes_a_second_ticket() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.jira.create_faults = [CreateFault.lost_after_create()]

    outcome = only(sync_findings(world.context(), [finding]))

    assert outcome.error is not None and "answer to the create was lost" in outcome.error and outcome.transient
    claim = world.store.link(world.tenant_id, finding.key)
    assert claim is not None and claim.state is LinkState.CLAIMED
    assert len(world.jira.issues) == 1

    early = only(sync_hints(world.context(), [finding.identifier]))  # Jira's search may not show the ticket yet

    assert early.error is not None and early.transient and early.retry_at is not None
    assert world.jira.create_requests == 1

    world.advance(LATER)
    adopted = only(sync_hints(world.context(), [finding.identifier]))

    assert adopted.error is None
    assert_one_ticket_each(world, [finding])
    assert world.jira.create_requests == 1


def test_a_lost_create_request_that_never_reached_jira_creates_once_its_claim_is_over() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.jira.create_faults = [CreateFault.lost_before_create()]

    assert only(sync_findings(world.context(), [finding])).error is not None
    assert world.jira.issues == []

    world.advance(LATER)
    outcome = only(sync_hints(world.context(), [finding.identifier]))

    assert outcome.error is None
    assert_one_ticket_each(world, [finding])


def test_a_partial_bulk_create_records_the_tickets_made_and_gives_back_only_the_rest() -> None:
    findings = numbered(60)
    world = a_world(*findings)
    world.jira.create_faults = [None, CreateFault.refused(429)]  # the first 50 made, the next request rate limited

    outcomes = sync_findings(world.context(), findings)

    made, refused = findings[:50], findings[50:]
    by_key = {o.finding_key: o for o in outcomes}
    assert all(by_key[f.key].error is None for f in made)
    assert all(by_key[f.key].transient and "did not create" in (by_key[f.key].error or "") for f in refused)
    assert_one_ticket_each(world, made)
    for finding in refused:
        assert world.store.link(world.tenant_id, finding.key) is None
        assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.NEW

    retried = sync_findings(world.context(), [world.securityhub.finding(f.key) for f in findings])

    assert all(o.error is None for o in retried)
    assert_one_ticket_each(world, findings)


def test_a_bulk_create_whose_later_answer_is_lost_creates_nothing_twice() -> None:
    findings = numbered(60)
    world = a_world(*findings)
    world.jira.create_faults = [None, CreateFault.lost_after_create()]

    outcomes = sync_findings(world.context(), findings)

    assert all(o.error is not None and o.transient for o in outcomes)  # the call's answer is lost as a whole
    assert len(world.jira.issues) == 60

    world.advance(LATER)
    sync_hints(world.context(), [f.identifier for f in findings])

    assert_one_ticket_each(world, findings)
    assert world.jira.create_requests == 2


def test_a_sync_that_lost_its_locks_sends_no_create_and_gives_its_claims_back() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.store.locks_lost = True

    with pytest.raises(SyncLockLost):
        sync_findings(world.context(), [finding])

    assert world.jira.create_requests == 0
    assert world.store.link(world.tenant_id, finding.key) is None

    world.store.locks_lost = False
    assert only(sync_hints(world.context(), [finding.identifier])).error is None
    assert_one_ticket_each(world, [finding])


def test_locks_lost_between_two_create_requests_create_nothing_twice() -> None:
    findings = numbered(60)
    world = a_world(*findings)
    world.store.lose_locks_after(2)  # the check before the claims' create, and before its first request

    outcomes = sync_findings(world.context(), findings)

    assert len(world.jira.issues) == 50 and world.jira.create_requests == 1  # the second request was never sent
    assert all(o.error is not None and o.transient for o in outcomes)

    world.store.locks_lost = False
    world.advance(LATER)
    sync_hints(world.context(), [f.identifier for f in findings])

    assert_one_ticket_each(world, findings)


def test_a_failed_marker_search_keeps_the_interrupted_claim_and_gives_back_the_others() -> None:
    interrupted, fresh = numbered(2)
    world = a_world(interrupted, fresh)
    world.store.leave_claim(world.tenant_id, interrupted.identifier, claimed_at=world.clock())
    world.advance(LATER)
    world.jira.fail_next("find_by_markers", FakeOutage("Jira answered 503", status=503))

    with pytest.raises(FakeOutage):
        sync_findings(world.context(), [interrupted, fresh])

    assert world.jira.create_requests == 0
    kept = world.store.link(world.tenant_id, interrupted.key)
    assert kept is not None and kept.state is LinkState.CLAIMED  # its ticket may exist: not given back
    assert world.store.link(world.tenant_id, fresh.key) is None

    assert only(sync_hints(world.context(), [fresh.identifier])).error is None  # at once
    world.advance(LATER)
    assert only(sync_hints(world.context(), [interrupted.identifier])).error is None
    assert_one_ticket_each(world, [interrupted, fresh])
