"""The convergence properties of `decide()` (tests/unit/domain/test_decide_convergence.py) over findings read from
OCSF: generated new-Security-Hub findings go through the OCSF parser, then meet the same tickets, links and
policies, with the ticket and link naming the OCSF finding."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hubsync.adapters.securityhub.ocsf import parse_finding
from hubsync.domain.finding import Finding
from hubsync.domain.link import Link
from hubsync.domain.ticket import FindingMarker, Ticket
from tests.unit.domain.domain_values import EVALUATED
from tests.unit.domain.test_decide_convergence import (
    MOMENTS,
    TITLES,
    assert_acts_only_on_what_exists,
    assert_deciding_again_is_empty,
    assert_escalating_again_is_empty,
    links,
    policies,
    tickets,
)

ACCOUNT = "111122223333"
PRODUCT = "arn:aws:securityhub:eu-west-1::productv2/aws/securityhub"
METADATA_UID = "7e" * 32
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
IDENTITY = parse_finding({
    "metadata": {"uid": METADATA_UID, "product": {"uid": PRODUCT}},
    "cloud": {"account": {"uid": ACCOUNT}}, "finding_info": {"title": "", "modified_time": 0},
})


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


compliances = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"control": st.just("S3.8"), "standards": st.just([FSBP])},
        optional={"status_id": st.sampled_from([0, 1, 2, 3, 99]), "status": st.sampled_from(["Pass", "Fail", "Other"])},
    ),
)
finding_infos = st.fixed_dictionaries(
    {
        "uid": st.just(f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:security-control/S3.8/finding/0f1e"),
        "title": st.sampled_from(TITLES),
        "created_time_dt": st.just((EVALUATED - timedelta(days=3)).isoformat()),
    },
    optional={"desc": st.just("Checks whether a bucket blocks public access."),
              "types": st.just(["Posture Management"])},
).flatmap(lambda info: st.sampled_from(MOMENTS).flatmap(lambda moment: st.sampled_from([
    {**info, "modified_time_dt": moment.isoformat()},
    {**info, "modified_time": _epoch_ms(moment)},
])))
ocsf_dicts = st.fixed_dictionaries(
    {
        "class_uid": st.sampled_from([2002, 2003, 2004, 2006]),
        "metadata": st.fixed_dictionaries({
            "version": st.sampled_from(["1.5.0", "1.6.0", "1.7.0", "1.8.0", "1.9.0"]),
            "uid": st.just(METADATA_UID),
            "product": st.just({"name": "Security Hub", "vendor_name": "AWS", "uid": PRODUCT}),
        }),
        "cloud": st.just({"provider": "AWS", "region": "eu-west-1", "account": {"uid": ACCOUNT}}),
        "finding_info": finding_infos,
        "resources": st.just([{"type": "AWS::S3::Bucket", "uid": "orders-data", "uid_alt": "arn:aws:s3:::orders-data",
                               "region": "eu-west-1"}]),
    },
    optional={
        "activity_id": st.sampled_from([1, 2, 3]),
        "status_id": st.sampled_from([0, 1, 2, 3, 4, 5, 99]),
        "status": st.sampled_from(["New", "In Progress", "Suppressed", "Resolved", "Archived", "Other"]),
        "severity_id": st.sampled_from([0, 2, 4, 5, 6, 99]),
        "severity": st.sampled_from(["High", "Critical", "Other"]),
        "compliance": compliances,
        "comment": st.sampled_from(["accepted by the platform team", "Tracked in SEC-12"]),
    },
).map(lambda data: {key: value for key, value in data.items() if value is not None})

findings = st.one_of(st.none(), ocsf_dicts.map(parse_finding))


def _naming(finding: Finding | None):
    """Tickets and links name the OCSF finding, as the service finds them for it (by marker and by key)."""
    named = finding or IDENTITY

    def ticket_of(ticket: Ticket | None) -> Ticket | None:
        if ticket is None:
            return None
        return replace(ticket, marker=FindingMarker(named.id, named.product_arn, named.key))

    def link_of(link: Link | None) -> Link | None:
        if link is None:
            return None
        return replace(link, finding_key=named.key, finding_id=named.id, product_arn=named.product_arn,
                       secondary_key=named.secondary_key)

    return ticket_of, link_of


def _pairs(finding: Finding | None):
    ticket_of, link_of = _naming(finding)
    return st.tuples(st.just(finding), tickets.map(ticket_of), links.map(link_of))


states = findings.flatmap(_pairs)


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
