"""Sync, new findings: a finding the policy escalates gets exactly one ticket, drafted from the finding, the policy
and its account's owner, and the finding says which ticket tracks it. Run on in-memory fakes of every port."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.domain.finding import Finding, Resource, Severity, WorkflowStatus, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.policy import Policy
from hubsync.service.sync import Outcome, sync_findings, sync_hints, sync_links
from tests.fakes import FakeOutage, FakeWorld
from tests.unit.domain.domain_values import POLICY, a_finding

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
OWNER = "dana@example.com"  # the account's SecurityContactID tag
DANA = "5b10ac8d82e05b22cc7d4ef5"  # her Jira accountId
SUMMARY = "AWS Security Issue :: 111122223333 :: eu-west-1 :: S3 general purpose buckets should block public access"


def a_world(*findings: Finding, policy: Policy = POLICY) -> FakeWorld:
    world = FakeWorld(policy)
    world.securityhub.put(*findings)
    return world.with_owner(ACCOUNT, OWNER, DANA)


def numbered(count: int, account: str = ACCOUNT) -> list[Finding]:
    """`count` findings of one control on as many buckets."""
    return [
        a_finding(
            id=f"arn:aws:securityhub:eu-west-1:{account}:security-control/S3.8/finding/{account}-{n:04d}",
            account_id=account,
            resources=(Resource("AwsS3Bucket", f"arn:aws:s3:::bucket-{account}-{n}", "eu-west-1", "aws"),),
        )
        for n in range(count)
    ]


def only(outcomes: list[Outcome]) -> Outcome:
    [outcome] = outcomes
    return outcome


def test_a_matching_finding_gets_one_ticket_drafted_from_the_finding_the_policy_and_the_owner_tag() -> None:
    finding = a_finding()
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding]))

    [issue] = world.jira.issues
    assert outcome.error is None and outcome.changed and outcome.ticket_key == issue.key
    assert (issue.project_key, issue.issue_type, issue.status) == ("SEC", "Task", "Open")
    assert issue.summary == SUMMARY
    assert issue.priority == "High"  # HIGH, in the policy's priority scheme
    assert issue.assignee == DANA  # the owner tag's email, as Jira knows her
    assert set(issue.labels) == {"security-hub", marker_label(finding.key)}
    assert issue.properties["hubsync.finding"] == {
        "id": finding.id, "productArn": finding.product_arn, "key": finding.key,
    }
    assert finding.resources[0].id in issue.description.to_text()


def test_the_finding_is_marked_notified_with_its_tickets_key() -> None:
    finding = a_finding()
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding]))

    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.NOTIFIED
    assert now.user_defined_fields == {"jiraIssue": outcome.ticket_key}
    assert now.note_updated_by == "hubsync" and f"Tracked in {outcome.ticket_key}" in (now.note_text or "")
    link = world.store.link(world.tenant_id, finding.key)
    assert link is not None and (link.state, link.ticket_key) == (LinkState.LINKED, outcome.ticket_key)
    lozenge = world.jira.issue(outcome.ticket_key or "").lozenge  # what the issue glance shows
    assert lozenge is not None and lozenge.label == "NOTIFIED"


@pytest.mark.parametrize("again", ["the same page", "an event naming it", "a reconcile of its link"])
def test_a_second_sync_changes_nothing(again: str) -> None:
    finding = a_finding()
    world = a_world(finding)
    sync_findings(world.context(), [finding])
    writes, updates = list(world.jira.writes), list(world.securityhub.updates)
    audit, version = len(world.store.audit_entries), world.store.version(world.tenant_id, finding.key)

    current = world.securityhub.finding(finding.key)
    ctx = world.context()
    if again == "the same page":
        outcomes = sync_findings(ctx, [current])
    elif again == "an event naming it":
        outcomes = sync_hints(ctx, [finding.identifier])
    else:
        outcomes = sync_links(ctx, list(world.store.links(world.tenant_id).values()))

    assert [(o.changed, o.error) for o in outcomes] == [(False, None)]
    assert world.jira.writes == writes and world.securityhub.updates == updates
    assert len(world.store.audit_entries) == audit
    assert world.store.version(world.tenant_id, finding.key) == version


def test_the_same_finding_twice_in_a_page_gets_one_ticket() -> None:
    finding = a_finding()
    world = a_world(finding)

    sync_findings(world.context(), [finding])
    sync_findings(world.context(), [finding])  # a late copy of the same page, with the finding as it was

    assert len(world.jira.issues_of(finding.key)) == 1


def test_a_finding_no_rule_escalates_gets_no_ticket() -> None:
    finding = a_finding(severity=Severity.LOW)
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding]))

    assert outcome.rule == 2 and not outcome.changed
    assert world.jira.issues == [] and world.securityhub.updates == []
    assert world.store.links(world.tenant_id) == {}


def test_a_finding_escalated_by_hand_gets_a_ticket_whatever_the_rules() -> None:
    finding = a_finding(severity=Severity.LOW)
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding], by_hand=frozenset({finding.key})))

    [issue] = world.jira.issues
    assert outcome.error is None and issue.priority == "Low"
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.NOTIFIED
    assert f"Escalated by hand to Jira: tracked in {issue.key}" in (now.note_text or "")


def test_an_account_without_an_owner_tag_gets_the_default_assignee_and_says_why() -> None:
    finding = a_finding(account_id=OTHER_ACCOUNT)
    world = a_world(finding, policy=replace(POLICY, default_assignee="secteam-lead"))

    only(sync_findings(world.context(), [finding]))

    [issue] = world.jira.issues
    assert issue.assignee == "secteam-lead"
    assert "hubsync-unassigned" in issue.labels
    assert f"AWS account {OTHER_ACCOUNT} has no SecurityContactID tag" in issue.description.to_text()


def test_an_owner_lookup_that_fails_fails_only_that_finding_and_the_next_sync_creates_its_ticket() -> None:
    [ours] = numbered(1)
    [theirs] = numbered(1, account=OTHER_ACCOUNT)
    world = a_world(ours, theirs).with_owner(OTHER_ACCOUNT, "lee@example.com", "lee-account-id")
    world.owners.failing[OTHER_ACCOUNT] = FakeOutage("Organizations is throttling")

    outcomes = {o.finding_key: o for o in sync_findings(world.context(), [ours, theirs])}

    assert outcomes[ours.key].error is None and len(world.jira.issues_of(ours.key)) == 1
    failed = outcomes[theirs.key]
    assert failed.error is not None and f"owner of AWS account {OTHER_ACCOUNT}" in failed.error and failed.transient
    assert world.jira.issues_of(theirs.key) == []
    assert world.store.link(world.tenant_id, theirs.key) is None  # no claim left behind to wait out
    assert world.securityhub.finding(theirs.key).workflow_status is WorkflowStatus.NEW

    del world.owners.failing[OTHER_ACCOUNT]
    retried = only(sync_hints(world.context(), [theirs.identifier]))

    assert retried.error is None
    [issue] = world.jira.issues_of(theirs.key)
    assert issue.assignee == "lee-account-id"
    assert len(world.jira.issues) == 2


def test_jira_refusing_one_draft_fails_that_finding_alone() -> None:
    ours, refused = numbered(2)
    world = a_world(ours, refused)
    world.jira.refuse_draft = lambda draft: "labels: too long" if marker_label(refused.key) in draft.labels else None

    outcomes = {o.finding_key: o for o in sync_findings(world.context(), [ours, refused])}

    assert outcomes[ours.key].error is None and len(world.jira.issues_of(ours.key)) == 1
    assert "Jira refused the ticket: labels: too long" in (outcomes[refused.key].error or "")
    assert not outcomes[refused.key].transient  # the draft itself is wrong: retrying as it is will not help
    assert world.store.link(world.tenant_id, refused.key) is None
    assert world.securityhub.finding(refused.key).workflow_status is WorkflowStatus.NEW

    world.jira.refuse_draft = None
    only(sync_hints(world.context(), [refused.identifier]))

    assert len(world.jira.issues_of(refused.key)) == 1


def test_a_finding_update_security_hub_refuses_is_written_by_the_next_sync_without_a_second_ticket() -> None:
    finding = a_finding()
    world = a_world(finding)
    world.securityhub.reject(finding.key, "ConcurrentUpdateError", transient=True)

    outcome = only(sync_findings(world.context(), [finding]))

    assert outcome.error is not None and "ConcurrentUpdateError" in outcome.error and outcome.transient
    [issue] = world.jira.issues
    assert world.securityhub.finding(finding.key).workflow_status is WorkflowStatus.NEW

    world.securityhub.accept(finding.key)
    retried = only(sync_hints(world.context(), [finding.identifier]))

    assert retried.error is None and world.jira.issues == [issue]
    now = world.securityhub.finding(finding.key)
    assert now.workflow_status is WorkflowStatus.NOTIFIED and now.user_defined_fields["jiraIssue"] == issue.key


def test_a_dry_run_decides_and_changes_nothing() -> None:
    finding = a_finding()
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding], dry_run=True))

    assert outcome.rule == 1 and "CreateTicket" in outcome.actions and outcome.error is None
    assert world.jira.writes == [] and world.securityhub.updates == []
    assert world.store.links(world.tenant_id) == {} and world.store.audit_entries == []
    assert world.store.serialized_calls == []  # nor does it wait for the syncs that do change things


def test_a_dry_run_of_a_linked_pair_plans_the_close_and_leaves_the_ticket_open() -> None:
    finding = a_finding()
    world = a_world(finding)
    key = only(sync_findings(world.context(), [finding])).ticket_key or ""
    world.securityhub.put(replace(world.securityhub.finding(finding.key), compliance_status="PASSED",
                                  updated_at=world.clock.advance(60)))
    writes, updates, audit = list(world.jira.writes), list(world.securityhub.updates), world.store.audit_entries

    outcome = only(sync_links(world.context(), list(world.store.links(world.tenant_id).values()), dry_run=True))

    assert outcome.rule == 4 and "MoveTicket" in outcome.actions
    assert world.jira.issue(key).status == "Open"
    assert world.jira.writes == writes and world.securityhub.updates == updates
    assert world.store.audit_entries == audit


def test_every_applied_plan_is_on_the_audit_timeline_with_its_rule_and_outcome() -> None:
    finding = a_finding()
    world = a_world(finding)

    outcome = only(sync_findings(world.context(), [finding]))

    [entry] = world.store.audit_of(world.tenant_id, finding.key)
    assert (entry.rule, entry.outcome, entry.ticket_key) == (1, "ok", outcome.ticket_key)
    assert "CreateTicket" in entry.action and "escalation rule 'high and up'" in entry.reason
    assert entry.before is not None and entry.before["workflow"] == "NEW"


def test_a_failed_attempt_is_on_the_audit_timeline_with_its_error() -> None:
    [finding] = numbered(1, account=OTHER_ACCOUNT)
    world = a_world(finding)
    world.owners.failing[OTHER_ACCOUNT] = FakeOutage("AccessDenied", transient=False)

    only(sync_findings(world.context(), [finding]))

    [entry] = world.store.audit_of(world.tenant_id, finding.key)
    assert entry.outcome == "failed" and entry.after is not None and "AccessDenied" in entry.after["error"]


def test_many_new_findings_are_created_in_bulk_and_updated_in_batches() -> None:
    findings = numbered(120)
    world = a_world(*findings)

    outcomes = sync_findings(world.context(), findings)

    assert all(o.error is None for o in outcomes)
    assert len(world.jira.issues) == 120
    assert world.jira.create_requests == 3  # 50 + 50 for the first 100, then 20
    assert len(world.securityhub.update_calls) == 2  # the findings' updates handed over once per batch of 100
    assert {world.securityhub.finding(f.key).user_defined_fields["jiraIssue"] for f in findings} == {
        issue.key for issue in world.jira.issues
    }
