"""Convergence: whatever state the pair is in, applying the plan and deciding again gives an empty plan.

`plan_effects.apply` is the simulation of what the service does with a plan; it asserts that every action acts on
something that exists.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.domain.decide import decide
from hubsync.domain.finding import HUBSYNC_AUTHOR as HUBSYNC
from hubsync.domain.finding import Finding, RecordState, Severity, WorkflowStatus
from hubsync.domain.link import Link, LinkState
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition, Ticket
from tests.unit.domain.domain_values import (
    EVALUATED,
    KEY,
    NOW,
    POLICY,
    STATUS_CATEGORIES,
    a_finding,
    a_link,
    a_ticket,
)
from tests.unit.domain.plan_effects import apply

TITLES = ("S3 general purpose buckets should block public access", "S3 buckets should block public access")
MOMENTS = (EVALUATED - timedelta(hours=1), EVALUATED, EVALUATED + timedelta(hours=1))


findings = st.one_of(
    st.none(),
    st.builds(
        a_finding,
        workflow_status=st.sampled_from(WorkflowStatus),
        record_state=st.sampled_from(RecordState),
        compliance_status=st.sampled_from(["FAILED", "PASSED", None]),
        severity=st.sampled_from([Severity.LOW, Severity.HIGH, Severity.CRITICAL]),
        title=st.sampled_from(TITLES),
        updated_at=st.sampled_from(MOMENTS),
        note_updated_by=st.sampled_from([None, HUBSYNC, "alice"]),
        note_text=st.sampled_from([None, "accepted by the platform team"]),
        verification_state=st.sampled_from([None, "FALSE_POSITIVE"]),
    ),
)
tickets = st.one_of(
    st.none(),
    st.builds(
        a_ticket,
        status=st.sampled_from(sorted(STATUS_CATEGORIES)),
        status_changed_at=st.sampled_from([NOW - timedelta(days=2), NOW - timedelta(hours=1)]),
        status_changed_by=st.sampled_from([None, "Sam Security"]),
    ),
)
links = st.one_of(
    st.none(),
    st.builds(
        a_link,
        state=st.sampled_from(LinkState),
        ticket_key=st.sampled_from([KEY, None]),
        seen_updated_at=st.sampled_from([None, *MOMENTS]),
        fixed_at_updated_at=st.sampled_from([None, *MOMENTS]),
        written_workflow=st.sampled_from([None, *WorkflowStatus]),
        seen_disposition=st.sampled_from([None, *Disposition]),
        accepted_until=st.sampled_from([None, NOW - timedelta(days=1), NOW + timedelta(days=1)]),
        rendered_severity=st.sampled_from([None, "HIGH", "CRITICAL"]),
        rendered_title=st.sampled_from([None, *TITLES]),
        risk_requested_at=st.sampled_from([None, NOW - timedelta(days=1), NOW - timedelta(minutes=30)]),
    ),
)
policies = st.sampled_from([POLICY, replace(POLICY, risk_acceptance_days=None), replace(POLICY, rules=())])


@settings(max_examples=1000, deadline=None)
@given(finding=findings, ticket=tickets, link=links, policy=policies, by_hand=st.booleans())
def test_applying_a_plan_then_deciding_again_gives_an_empty_plan(finding, ticket, link, policy, by_hand):
    assert_deciding_again_is_empty(finding, ticket, link, policy, by_hand)


@settings(max_examples=1000, deadline=None)
@given(finding=findings, ticket=tickets, link=links, policy=policies)
def test_clicking_the_custom_action_again_on_the_state_a_plan_left_writes_nothing(finding, ticket, link, policy):
    assert_escalating_again_is_empty(finding, ticket, link, policy)


@settings(max_examples=500, deadline=None)
@given(finding=findings, ticket=tickets, link=links, policy=policies)
def test_a_plan_never_writes_a_finding_that_is_gone_or_a_ticket_that_is_missing(finding, ticket, link, policy):
    assert_acts_only_on_what_exists(finding, ticket, link, policy)


# The properties themselves, for any finding generator (`test_ocsf_convergence` feeds them OCSF-derived findings).


def assert_deciding_again_is_empty(
    finding: Finding | None, ticket: Ticket | None, link: Link | None, policy: Policy, by_hand: bool
) -> None:
    plan = decide(finding, ticket, link, policy, NOW, escalated_by_hand=by_hand)
    after = apply(plan, finding, ticket, link, policy)

    again = decide(*after, policy, NOW)

    assert again.is_empty, f"first: {plan}\nthen: {again}"


def assert_escalating_again_is_empty(
    finding: Finding | None, ticket: Ticket | None, link: Link | None, policy: Policy
) -> None:
    plan = decide(finding, ticket, link, policy, NOW, escalated_by_hand=True)
    after = apply(plan, finding, ticket, link, policy)

    again = decide(*after, policy, NOW, escalated_by_hand=True)

    assert again.is_empty, f"first: {plan}\nthen: {again}"


def assert_acts_only_on_what_exists(
    finding: Finding | None, ticket: Ticket | None, link: Link | None, policy: Policy
) -> None:
    plan = decide(finding, ticket, link, policy, NOW)

    apply(plan, finding, ticket, link, policy)  # its assertions check what each action acts on
