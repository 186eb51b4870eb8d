"""The convergence properties of `decide()` (tests/unit/domain/test_decide_convergence.py) over findings read from
OCSF: generated new-Security-Hub findings (tests/unit/domain/ocsf_findings.py) go through the OCSF parser, then meet
the same tickets, links and policies, with the ticket and link naming the OCSF finding. Applying a plan writes such a
finding as BatchUpdateFindingsV2 does (status and comment only, no note author), which the last two properties check
against the document Security Hub would then return."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hubsync.adapters.securityhub.client_v2 import STATUS_ID
from hubsync.adapters.securityhub.ocsf import parse_finding
from hubsync.domain.decide import decide
from hubsync.domain.finding import Finding, RecordState, WorkflowStatus
from hubsync.domain.plan import FindingUpdate, UpdateFinding
from tests.fakes.securityhub import updated
from tests.unit.domain.domain_values import NOW
from tests.unit.domain.ocsf_findings import (
    HUBSYNC_COMMENTS,
    JIRA_REQUESTS,
    an_ocsf_finding,
    naming,
    ocsf_documents,
    ocsf_findings,
    v2_updated,
)
from tests.unit.domain.plan_effects import apply
from tests.unit.domain.test_decide_convergence import (
    assert_acts_only_on_what_exists,
    assert_deciding_again_is_empty,
    assert_escalating_again_is_empty,
    links,
    policies,
    tickets,
)

GONE = parse_finding(an_ocsf_finding())  # whom the ticket and link name once Security Hub has deleted the finding


def _state(finding: Finding | None) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(tickets, links).map(lambda pair: (finding, *naming(finding or GONE, *pair)))


states = st.one_of(st.none(), ocsf_findings).flatmap(_state)


@settings(max_examples=1000, deadline=None)
@given(state=states, policy=policies, by_hand=st.booleans())
def test_applying_a_plan_to_an_ocsf_finding_then_deciding_again_gives_an_empty_plan(state, policy, by_hand):
    assert_deciding_again_is_empty(*state, policy, by_hand)


@settings(max_examples=500, deadline=None)
@given(state=states, policy=policies)
def test_escalating_an_ocsf_finding_by_hand_again_writes_nothing(state, policy):
    assert_escalating_again_is_empty(*state, policy)


@settings(max_examples=500, deadline=None)
@given(state=states, policy=policies)
def test_a_plan_never_writes_an_ocsf_finding_that_is_gone_or_a_ticket_that_is_missing(state, policy):
    assert_acts_only_on_what_exists(*state, policy)


updates = st.builds(
    FindingUpdate,
    workflow=st.sampled_from([None, *WorkflowStatus]),
    note=st.sampled_from([None, *HUBSYNC_COMMENTS, *JIRA_REQUESTS, "x" * 600]),
    user_defined_fields=st.sampled_from([{}, {"jiraIssue": "SEC-12"}]),
    verification_state=st.sampled_from([None, "FALSE_POSITIVE"]),
)


@settings(max_examples=500, deadline=None)
@given(document=ocsf_documents, update=updates)
def test_the_properties_write_an_ocsf_finding_as_security_hub_then_returns_it(document, update):
    """On a live record (the only kind hubsync writes), the fake's write is the document BatchUpdateFindingsV2
    leaves, read again: the status and the comment (cut to 512 characters), nothing else."""
    finding = parse_finding(document)
    assume(finding.record_state is RecordState.ACTIVE)
    status_id = STATUS_ID[update.workflow] if update.workflow else None

    assert updated(finding, update) == parse_finding(v2_updated(document, status_id, _cut(update.note)))


@settings(max_examples=300, deadline=None)
@given(document=ocsf_documents, pair=st.tuples(tickets, links), policy=policies, by_hand=st.booleans())
def test_a_plan_written_into_the_ocsf_document_then_read_again_decides_nothing(document, pair, policy, by_hand):
    """The whole round trip, archived records too: the plan's finding updates written into the document as
    BatchUpdateFindingsV2 writes them, the document read again by the parser, and decided again."""
    finding = parse_finding(document)
    ticket, link = naming(finding, *pair)
    plan = decide(finding, ticket, link, policy, NOW, escalated_by_hand=by_hand)
    _, ticket, link = apply(plan, finding, ticket, link, policy)
    for action in plan.actions:
        if isinstance(action, UpdateFinding):
            update = action.for_ticket(ticket.key if ticket else "")
            document = v2_updated(document, STATUS_ID[update.workflow] if update.workflow else None, _cut(update.note))

    again = decide(parse_finding(document), ticket, link, policy, NOW)

    assert again.is_empty, f"first: {plan}\nthen: {again}"


def _cut(comment: str | None) -> str | None:
    """The comment as Security Hub keeps it: 512 characters at most (hubsync cuts a longer one with an ellipsis)."""
    return comment if comment is None or len(comment) <= 512 else comment[:511] + "\u2026"
