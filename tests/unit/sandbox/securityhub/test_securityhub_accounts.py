"""Who sees which findings (administrator and members, aggregation and linked Regions), GetAdministratorAccount,
DescribeHub, and custom action targets."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from hubsync_sandbox.securityhub import SecurityHubSimulator
from tests.fixtures.securityhub import (
    ADMIN,
    AGGREGATION_REGION,
    LINKED_REGION,
    MEMBER,
    OTHER_MEMBER,
    SecurityHubSandbox,
    make_finding,
)


def seed_two_accounts_two_regions(sandbox: SecurityHubSandbox) -> None:
    for region in (AGGREGATION_REGION, LINKED_REGION):
        accounts = (MEMBER, OTHER_MEMBER)
        findings = [make_finding(Title=f"{account} {region}", AwsAccountId=account) for account in accounts]
        assert sandbox.client(region=region).batch_import_findings(Findings=findings)["SuccessCount"] == 2


def visible_titles(client: Any) -> set[str]:
    return {f["Title"] for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]}


def test_the_administrator_in_the_aggregation_region_sees_everything(securityhub: SecurityHubSandbox) -> None:
    seed_two_accounts_two_regions(securityhub)
    assert visible_titles(securityhub.client()) == {
        f"{account} {region}" for account in (MEMBER, OTHER_MEMBER) for region in (AGGREGATION_REGION, LINKED_REGION)
    }


def test_a_linked_region_sees_only_its_own_findings(securityhub: SecurityHubSandbox) -> None:
    seed_two_accounts_two_regions(securityhub)
    assert visible_titles(securityhub.client(region=LINKED_REGION)) == {f"{MEMBER} {LINKED_REGION}",
                                                                         f"{OTHER_MEMBER} {LINKED_REGION}"}


def test_a_member_sees_only_its_own_findings(securityhub: SecurityHubSandbox) -> None:
    seed_two_accounts_two_regions(securityhub)
    assert visible_titles(securityhub.client(account_id=MEMBER)) == {f"{MEMBER} {AGGREGATION_REGION}",
                                                                      f"{MEMBER} {LINKED_REGION}"}
    in_linked = securityhub.client(region=LINKED_REGION, account_id=OTHER_MEMBER)
    assert visible_titles(in_linked) == {f"{OTHER_MEMBER} {LINKED_REGION}"}


def test_without_aggregation_each_region_stands_alone(securityhub_factory: Any) -> None:
    sandbox = securityhub_factory(aggregation_region=None)
    seed_two_accounts_two_regions(sandbox)
    assert len(visible_titles(sandbox.client())) == 2


def test_a_region_where_security_hub_is_not_enabled(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client(region="ap-southeast-2")
    with pytest.raises(client.exceptions.InvalidAccessException, match="not subscribed"):
        client.get_findings()


def test_get_administrator_account(securityhub: SecurityHubSandbox) -> None:
    answer = securityhub.client().get_administrator_account()
    assert "Administrator" not in answer
    administrator = securityhub.client(account_id=MEMBER).get_administrator_account()["Administrator"]
    assert administrator["AccountId"] == ADMIN
    assert administrator["MemberStatus"] == "ENABLED"
    assert administrator["InvitedAt"].tzinfo is not None


def test_describe_hub(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client(region=LINKED_REGION)
    hub = client.describe_hub()
    assert hub["HubArn"] == f"arn:aws:securityhub:{LINKED_REGION}:{ADMIN}:hub/default"
    assert hub["ControlFindingGenerator"] == "SECURITY_CONTROL"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_hub(HubArn=f"arn:aws:securityhub:{LINKED_REGION}:{MEMBER}:hub/default")


def test_simulator_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        SecurityHubSimulator("admin", [], ["us-east-1"])
    with pytest.raises(ValueError, match="aggregation Region"):
        SecurityHubSimulator(ADMIN, [], ["us-east-1"], aggregation_region="eu-west-1")


# -- custom action targets --------------------------------------------------------------------------
def test_create_describe_delete_action_targets(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    arn = client.create_action_target(Name="Send to Jira", Description="Escalate", Id="SendToJira")["ActionTargetArn"]
    assert arn == f"arn:aws:securityhub:{AGGREGATION_REGION}:{ADMIN}:action/custom/SendToJira"
    assert client.describe_action_targets()["ActionTargets"] == [
        {"ActionTargetArn": arn, "Name": "Send to Jira", "Description": "Escalate"}
    ]
    assert client.describe_action_targets(ActionTargetArns=[arn])["ActionTargets"][0]["Name"] == "Send to Jira"
    assert client.delete_action_target(ActionTargetArn=arn)["ActionTargetArn"] == arn
    assert client.describe_action_targets()["ActionTargets"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_action_target(ActionTargetArn=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_action_targets(ActionTargetArns=[arn])


def test_action_targets_belong_to_their_account_and_region(securityhub: SecurityHubSandbox) -> None:
    admin = securityhub.client()
    arn = admin.create_action_target(Name="Send", Description="d", Id="Send")["ActionTargetArn"]
    assert securityhub.client(region=LINKED_REGION).describe_action_targets()["ActionTargets"] == []
    member = securityhub.client(account_id=MEMBER)
    with pytest.raises(member.exceptions.ResourceNotFoundException):
        member.delete_action_target(ActionTargetArn=arn)
    own = member.create_action_target(Name="Send", Description="d", Id="Send")["ActionTargetArn"]
    assert own == f"arn:aws:securityhub:{AGGREGATION_REGION}:{MEMBER}:action/custom/Send"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Name": "x" * 21, "Description": "d", "Id": "a"}, "Name must be 1 to 20 characters"),
        ({"Name": "n", "Description": "d", "Id": "has-dash"}, "Id must be 1 to 20 alphanumeric"),
        ({"Name": "n", "Description": "d", "Id": "a" * 21}, "Id must be 1 to 20 alphanumeric"),
        ({"Name": "n", "Description": " ", "Id": "a"}, "Description must be a non-empty string"),
    ],
)
def test_action_target_validation(securityhub: SecurityHubSandbox, fields: dict[str, str], message: str) -> None:
    client = securityhub.client()
    with pytest.raises(client.exceptions.InvalidInputException, match=message):
        client.create_action_target(**fields)


def test_duplicate_ids_conflict_and_50_is_the_quota(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    for number in range(50):
        client.create_action_target(Name=f"a{number}", Description="d", Id=f"a{number}")
    with pytest.raises(client.exceptions.ResourceConflictException):
        client.create_action_target(Name="again", Description="d", Id="a0")
    with pytest.raises(client.exceptions.LimitExceededException, match="50 custom actions"):
        client.create_action_target(Name="one more", Description="d", Id="extra")
    other_region = securityhub.client(region=LINKED_REGION)
    other_region.create_action_target(Name="extra", Description="d", Id="extra")


def test_describe_action_targets_pages(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    for number in range(5):
        client.create_action_target(Name=f"a{number}", Description="d", Id=f"a{number}")
    pages = client.get_paginator("describe_action_targets").paginate(PaginationConfig={"PageSize": 2})
    assert [t["Name"] for page in pages for t in page["ActionTargets"]] == [f"a{n}" for n in range(5)]
    with pytest.raises(ClientError, match="NextToken"):
        client.describe_action_targets(NextToken="bogus")
