"""DescribeSecurityHubV2 in the simulator through boto3: V2 is enabled where Security Hub is, and the /_sandbox/hubv2
knob turns it off in one account and Region, where AWS's "not enabled" answer comes back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from hubsync_sandbox.securityhub.asff import format_timestamp
from tests.fixtures.securityhub import (
    ADMIN,
    AGGREGATION_REGION,
    LINKED_REGION,
    MEMBER,
    FakeClock,
    SecurityHubSandbox,
)


def error_code(call: object) -> str:
    with pytest.raises(ClientError) as raised:
        call()  # type: ignore[operator]
    return str(raised.value.response["Error"]["Code"])


def test_the_administrator_has_v2_enabled_in_each_region(securityhub: SecurityHubSandbox) -> None:
    for region in (AGGREGATION_REGION, LINKED_REGION):
        hub = securityhub.client(region=region).describe_security_hub_v2()
        assert hub["HubV2Arn"].startswith(f"arn:aws:securityhub:{region}:{ADMIN}:hubv2/")
        assert hub["SubscribedAt"] == securityhub.sim.enabled_at
    member = securityhub.client(account_id=MEMBER).describe_security_hub_v2()
    assert f":{MEMBER}:hubv2/" in member["HubV2Arn"]


def test_where_v2_is_not_enabled_describe_answers_not_found_and_the_v2_reads_are_denied(
        securityhub: SecurityHubSandbox) -> None:
    answer = securityhub.control("POST", "/_sandbox/hubv2", json={"enabled": False, "region": AGGREGATION_REGION})
    assert answer.status_code == 200
    assert {"account_id": ADMIN, "region": AGGREGATION_REGION, "enabled": False} in answer.json()["hubs"]
    admin = securityhub.client()

    with pytest.raises(admin.exceptions.ResourceNotFoundException) as raised:
        admin.describe_security_hub_v2()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert AGGREGATION_REGION in raised.value.response["Error"]["Message"]
    assert error_code(lambda: admin.get_findings_v2(MaxResults=1)) == "AccessDeniedException"
    assert error_code(lambda: admin.batch_update_findings_v2(MetadataUids=["0" * 64], StatusId=2)) == (
        "AccessDeniedException")
    # Only that account and Region: the other Region, a member, and CSPM still answer.
    securityhub.client(region=LINKED_REGION).describe_security_hub_v2()
    securityhub.client(account_id=MEMBER).describe_security_hub_v2()
    admin.describe_hub()


def test_disabling_the_administrator_everywhere_then_enabling_it_again(
        securityhub_factory: Callable[..., SecurityHubSandbox]) -> None:
    clock = FakeClock()
    securityhub = securityhub_factory(clock=clock)
    assert securityhub.control("POST", "/_sandbox/hubv2", json={"enabled": False}).status_code == 200
    for region in (AGGREGATION_REGION, LINKED_REGION):
        assert error_code(securityhub.client(region=region).describe_security_hub_v2) == "ResourceNotFoundException"
    clock.advance(60)

    assert securityhub.control("POST", "/_sandbox/hubv2", json={"enabled": True}).status_code == 200

    hub = securityhub.client().describe_security_hub_v2()
    assert hub["SubscribedAt"] == format_timestamp(clock.now) != securityhub.sim.enabled_at


def test_a_region_security_hub_does_not_serve_has_no_v2_hub(securityhub: SecurityHubSandbox) -> None:
    assert error_code(securityhub.client(region="ap-south-1").describe_security_hub_v2) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "body",
    [{}, {"enabled": "no"}, {"enabled": False, "account_id": "999999999999"}, {"enabled": False, "region": "mars-1"},
     {"enabled": False, "everywhere": True}, {"enabled": False, "region": 1}],
)
def test_the_knob_refuses_what_it_cannot_do(securityhub: SecurityHubSandbox, body: dict[str, object]) -> None:
    answer = securityhub.control("POST", "/_sandbox/hubv2", json=body)
    assert answer.status_code == 400 and answer.json()["error"]
    assert all(hub["enabled"] for hub in securityhub.control("GET", "/_sandbox/hubv2").json()["hubs"])
