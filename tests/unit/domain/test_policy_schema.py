"""The policy as an admin saves it: defaults, round trips, and messages that say what to fix and where."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from hubsync.domain.finding import Severity
from hubsync.domain.policy import DEFAULT_PRIORITIES, DEFAULT_STATUS_DISPOSITIONS, EscalationRule, Policy
from hubsync.domain.policy_schema import InvalidPolicy, dump_policy, load_policy
from hubsync.domain.ticket import Disposition
from tests.unit.domain.domain_values import a_finding


def problems(data) -> list[str]:
    with pytest.raises(InvalidPolicy) as raised:
        load_policy(data)
    return raised.value.lines


def test_a_project_key_alone_gives_the_default_policy():
    assert load_policy({"project_key": "SEC"}) == Policy("SEC")


def test_a_full_policy_loads_with_rules_that_differ_per_region():
    policy = load_policy({
        "project_key": "SECOPS",
        "issue_type": "Bug",
        "rules": [
            {"name": "critical in Europe", "min_severity": "CRITICAL", "regions": ["eu-west-1", "eu-central-1"]},
            {"name": "all high in the US", "min_severity": "HIGH", "regions": ["us-east-1"]},
            {"security_control_ids": ["S3.8", "EC2.19"], "account_ids": ["111122223333"]},
            {"products": ["GuardDuty", "arn:aws:securityhub:us-east-1::product/aws/inspector"],
             "generator_ids": ["AWSInspector"]},
        ],
        "status_dispositions": {"Won't fix": "ACCEPTED", "Done": "FIXED"},
        "priorities": {"CRITICAL": "P1", "HIGH": "P2", "MEDIUM": "P3", "LOW": "P4", "INFORMATIONAL": "P5"},
        "labels": ["security-hub", "aws"],
        "default_assignee": "5b10ac8d82e05b22cc7d4ef5",
        "owner_tag_key": "Owner",
        "risk_request_status": "Awaiting risk acceptance",
        "risk_acceptance_days": None,
    })

    assert policy.rules[0] == EscalationRule("critical in Europe", min_severity=Severity.CRITICAL,
                                             regions=("eu-west-1", "eu-central-1"))
    assert policy.rules[2].name == "rule 3"  # unnamed rules get a name an audit entry can show
    high_ec2 = a_finding(security_control_id="EC2.2", severity=Severity.HIGH)
    assert policy.escalation_rule_for(high_ec2) is None  # in eu-west-1: only critical ones there
    assert policy.escalation_rule_for(replace(high_ec2, region="us-east-1")).name == (
        "all high in the US"
    )
    assert policy.escalation_rule_for(a_finding(severity=Severity.LOW)).name == "rule 3"
    assert policy.status_dispositions == {"Won't fix": Disposition.ACCEPTED, "Done": Disposition.FIXED}
    assert policy.priorities[Severity.CRITICAL] == "P1"
    assert policy.risk_acceptance_days is None


def test_dump_spells_out_every_setting_and_loads_back_the_same():
    policy = load_policy({"project_key": "SEC", "rules": [{"name": "r", "min_severity": "HIGH"}]})

    dumped = dump_policy(policy)

    assert json.loads(json.dumps(dumped)) == dumped  # plain JSON
    assert dumped["priorities"] == {severity.value: name for severity, name in DEFAULT_PRIORITIES.items()}
    assert dumped["status_dispositions"] == {name: d.value for name, d in DEFAULT_STATUS_DISPOSITIONS.items()}
    assert dumped["rules"][0]["min_severity"] == "HIGH"
    assert load_policy(dumped) == policy


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "project_key: is required"),
        ({"project_key": ""}, "project_key: a Jira project key is required"),
        ({"project_key": "sec ops"}, "project_key: 'sec ops' is not a Jira project key: capital letters and digits, "
                                     "e.g. SEC"),
        ({"project_key": "SEC", "rules": [{"min_severity": "URGENT"}]},
         "rules[0].min_severity: must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"),
        ({"project_key": "SEC", "rules": [{}, {}, {"account_ids": ["1234"]}]},
         "rules[2].account_ids[0]: an AWS account id is 12 digits"),
        ({"project_key": "SEC", "rules": [{"regions": ["us-east-1", "Ireland"]}]},
         "rules[0].regions[1]: 'Ireland' is not an AWS Region name (us-east-1)"),
        ({"project_key": "SEC", "priorities": {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low",
                                               "INFORMATIONAL": "Lowest"}},
         "priorities: CRITICAL is missing"),
        ({"project_key": "SEC", "priorities": {**{s.value: "x" for s in Severity}, "URGENT": "Highest"}},
         "priorities: 'URGENT' is not a severity; use one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"),
        ({"project_key": "SEC", "status_dispositions": {"Closed": "DONE"}},
         "status_dispositions.Closed: 'DONE' is not a disposition; use one of OPEN, FIXED, ACCEPTED, FALSE_POSITIVE, "
         "EXPIRED"),
        ({"project_key": "SEC", "status_dispositions": {"Gone": "MISSING"}},
         "status_dispositions.Gone: 'MISSING' is not a disposition; use one of OPEN, FIXED, ACCEPTED, "
         "FALSE_POSITIVE, EXPIRED"),
        ({"project_key": "SEC", "labels": ["security hub"]},
         "labels[0]: a Jira label is one word: no spaces, not empty"),
        ({"project_key": "SEC", "issue_type": "  "}, "issue_type: must not be empty"),
        ({"project_key": "SEC", "risk_acceptance_days": 0},
         "risk_acceptance_days: must be at least 1 day, or null for acceptances that never expire"),
        ({"project_key": "SEC", "min_severity": "HIGH"}, "min_severity: is not a setting hubsync knows"),
        ({"project_key": "SEC", "rules": [{"severity": "HIGH"}]},
         "rules[0].severity: is not a rule setting hubsync knows"),
    ],
    ids=["no project key", "empty project key", "malformed project key", "unknown severity", "short account id",
         "not a Region", "missing priority", "unknown severity in priorities", "unknown disposition",
         "MISSING is not a status disposition", "label with a space", "blank issue type", "zero days",
         "setting at the wrong level", "misspelt rule setting"],
)
def test_an_invalid_policy_says_what_is_wrong_and_where(data, message):
    assert message in problems(data)


def test_every_problem_is_reported_at_once():
    lines = problems({"project_key": "", "rules": [{"account_ids": ["1"], "regions": ["moon-1"]}]})

    assert len(lines) == 3


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "ap-southeast-5", "cn-northwest-1", "us-gov-west-1",
                                    "il-central-1", "mx-central-1"])
def test_region_names_of_every_partition_are_accepted(region):
    assert load_policy({"project_key": "SEC", "rules": [{"regions": [region]}]}).rules[0].regions == (region,)


def test_a_policy_must_be_an_object():
    with pytest.raises(InvalidPolicy, match="a policy must be a JSON object"):
        load_policy(["SEC"])  # type: ignore[arg-type]
