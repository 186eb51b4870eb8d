"""Test connection for a tenant of the new Security Hub: DescribeSecurityHubV2, then one GetFindingsV2, each step
named, each failure saying what to do. moto has neither operation, so botocore's Stubber answers at the client
(it checks every request and answer against botocore's model of Security Hub)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hubsync.adapters.aws_setup import AwsSetup
from hubsync.domain.ports import AwsRoles
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant

REGION = "eu-west-1"
ROLE_ARN = "arn:aws:iam::222233334444:role/hubsync-securityhub"
ORGANIZATIONS_ROLE_ARN = "arn:aws:iam::999988887777:role/hubsync-organizations-read"
HUB_ARN = "arn:aws:securityhub:eu-west-1:222233334444:hubv2/0123456789abcdef"
V2 = SecurityHubGeneration.V2
TENANT = Tenant(id="t1", name="acme", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                auth_mode=AuthMode.API_TOKEN, external_id="external-id", securityhub_generation=V2)
ENABLED_STEP, FINDING_STEP = "See that the new Security Hub is enabled", "Read one finding (OCSF)"


class StubbedSessions:
    """What `AwsSetup` takes as its session factory: every session hands out the same stubbed clients."""

    def __init__(self) -> None:
        self.clients = {name: boto3.client(name, region_name=REGION, aws_access_key_id="test",
                                           aws_secret_access_key="test")
                        for name in ("sts", "securityhub", "organizations")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}

    def __call__(self, role_arn: str, session_name: str, **_: Any) -> StubbedSessions:
        return self

    def client(self, name: str, **_: Any) -> Any:
        return self.clients[name]

    def assumed(self) -> None:
        self.stubs["sts"].add_response("get_caller_identity", {
            "UserId": "AROAEXAMPLE:t1", "Account": "222233334444",
            "Arn": "arn:aws:sts::222233334444:assumed-role/hubsync-securityhub/t1"})


@pytest.fixture
def aws() -> Iterator[StubbedSessions]:
    sessions = StubbedSessions()
    for stub in sessions.stubs.values():
        stub.activate()
    yield sessions
    for stub in sessions.stubs.values():
        stub.assert_no_pending_responses()  # every call the test expected was made
        stub.deactivate()


def _ocsf_finding(**overrides: Any) -> dict[str, Any]:
    return {"finding_info": {"uid": "f-1", "title": "S3 general purpose buckets should block public access"},
            "cloud": {"account": {"uid": "111122223333"}, "region": "eu-west-1"}, **overrides}


def _check(aws: StubbedSessions, organizations_role_arn: str | None = None,
           generation: SecurityHubGeneration = V2) -> list[tuple[str, bool | None, str]]:
    report = AwsSetup(aws).check_connection(TENANT, AwsRoles(ROLE_ARN, organizations_role_arn, REGION), "Owner",
                                            generation)
    return [(step.name, step.ok, step.detail) for step in report.steps]


def test_an_enabled_hub_with_findings_passes_and_the_findings_account_is_the_one_whose_tag_is_read(
    aws: StubbedSessions,
) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_response("describe_security_hub_v2", {"HubV2Arn": HUB_ARN}, {})
    aws.stubs["securityhub"].add_response("get_findings_v2", {"Findings": [_ocsf_finding()]}, {"MaxResults": 1})
    aws.stubs["organizations"].add_response(
        "list_tags_for_resource", {"Tags": [{"Key": "Owner", "Value": "alice@example.com"}]},
        {"ResourceId": "111122223333"})

    steps = _check(aws, ORGANIZATIONS_ROLE_ARN)

    assert [(name, ok) for name, ok, _ in steps] == [
        ("Assume the Security Hub role", True), (ENABLED_STEP, True), (FINDING_STEP, True),
        ("Read one account tag", True)]
    assert steps[1][2] == f"enabled in {REGION} ({HUB_ARN})"
    assert steps[2][2] == "read 'S3 general purpose buckets should block public access' (111122223333, eu-west-1)"
    assert steps[3][2] == "account 111122223333: Owner = alice@example.com"


def test_a_hub_not_enabled_in_the_region_fails_its_step_and_skips_the_read(aws: StubbedSessions) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_client_error("describe_security_hub_v2", "ResourceNotFoundException",
                                              "Security Hub V2 is not enabled", 404)

    steps = _check(aws)

    assert [(name, ok) for name, ok, _ in steps] == [
        ("Assume the Security Hub role", True), (ENABLED_STEP, False), (FINDING_STEP, None),
        ("Read one account tag", None)]
    assert steps[1][2] == ("the new Security Hub is not enabled in eu-west-1: enable it there, or choose Security "
                           "Hub CSPM")
    assert steps[2][2] == "skipped: the new Security Hub is not reachable"


def test_a_role_that_may_not_read_names_both_actions_to_grant(aws: StubbedSessions) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_response("describe_security_hub_v2", {"HubV2Arn": HUB_ARN}, {})
    aws.stubs["securityhub"].add_client_error("get_findings_v2", "AccessDeniedException", "not authorized", 403)

    [_, _, (name, ok, detail), _] = _check(aws)

    assert (name, ok) == (FINDING_STEP, False)
    assert detail == ("the role may not read the new Security Hub's findings: grant it securityhub:GetFindings and "
                      "securityhub:GetFindingsV2 (AccessDeniedException: not authorized)")


def test_a_role_that_may_not_describe_the_hub_names_that_action(aws: StubbedSessions) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_client_error("describe_security_hub_v2", "AccessDeniedException", "denied", 403)

    [_, (_, ok, detail), _, _] = _check(aws)

    assert ok is False
    assert detail.startswith("the role may not call securityhub:DescribeSecurityHubV2")


def test_a_hub_with_no_findings_yet_answers_and_the_tag_step_reads_the_administrators_account(
    aws: StubbedSessions,
) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_response("describe_security_hub_v2", {"HubV2Arn": HUB_ARN}, {})
    aws.stubs["securityhub"].add_response("get_findings_v2", {"Findings": []}, {"MaxResults": 1})
    aws.stubs["organizations"].add_response("list_tags_for_resource", {"Tags": []}, {"ResourceId": "222233334444"})

    steps = _check(aws, ORGANIZATIONS_ROLE_ARN)

    assert steps[2] == (FINDING_STEP, True, "the new Security Hub in eu-west-1 answered, but has no findings yet")
    assert steps[3][1] is True


def test_a_findings_fields_of_the_wrong_type_are_not_read_as_text(aws: StubbedSessions) -> None:
    """Finding fields are hostile: a title or account that is not text is not shown, nor used to read a tag."""
    aws.assumed()
    aws.stubs["securityhub"].add_response("describe_security_hub_v2", {"HubV2Arn": HUB_ARN}, {})
    aws.stubs["securityhub"].add_response(
        "get_findings_v2", {"Findings": [{"finding_info": {"title": ["a", "list"]}, "cloud": {"account": "oops"}}]},
        {"MaxResults": 1})
    aws.stubs["organizations"].add_response("list_tags_for_resource", {"Tags": []}, {"ResourceId": "222233334444"})

    steps = _check(aws, ORGANIZATIONS_ROLE_ARN)

    assert steps[2] == (FINDING_STEP, True, "read 'a finding' (?, ?)")


def test_a_role_that_cannot_be_assumed_skips_both_security_hub_steps(aws: StubbedSessions) -> None:
    aws.stubs["sts"].add_client_error("get_caller_identity", "AccessDenied", "not allowed to assume", 403)

    steps = _check(aws)

    assert [(name, ok) for name, ok, _ in steps] == [
        ("Assume the Security Hub role", False), (ENABLED_STEP, None), (FINDING_STEP, None),
        ("Read one account tag", None)]


def test_a_cspm_tenant_still_reads_an_asff_finding(aws: StubbedSessions) -> None:
    aws.assumed()
    aws.stubs["securityhub"].add_response("get_findings", {"Findings": []}, {"MaxResults": 1})

    steps = _check(aws, generation=SecurityHubGeneration.CSPM)

    assert [name for name, _, _ in steps] == ["Assume the Security Hub role", "Read one finding",
                                              "Read one account tag"]
