"""Assumed-role sessions against moto's STS: the role, the session name, endpoints from the environment, and
botocore refreshing the keys before they expire (judged by an injected clock, so no test waits)."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from hubsync.adapters import rate_limits
from hubsync.adapters.aws_session import assumed_role_session, session_name
from hubsync.adapters.rate_limits import Budgets, aws_rate
from hubsync.adapters.securityhub import SecurityHubClient
from hubsync_sandbox import aws
from hubsync_sandbox.aws import AwsWorld
from tests.fixtures.securityhub import AGGREGATION_REGION, FakeClock, SecurityHubSandbox, make_finding


def caller_arn(session: boto3.Session) -> str:
    return session.client("sts").get_caller_identity()["Arn"]


def access_key(session: boto3.Session) -> str:
    return session.get_credentials().get_frozen_credentials().access_key


def test_session_acts_as_the_tenant_role_with_a_named_session(aws_env: AwsWorld) -> None:
    session = assumed_role_session(
        aws_env.securityhub_role_arn, tenant="acme", external_id=aws_env.external_id, region=aws.HOME_REGION
    )

    arn = caller_arn(session)

    assert arn == (
        f"arn:aws:sts::{aws_env.security_account.id}:assumed-role/{aws.SECURITYHUB_ROLE_NAME}/hubsync-acme"
    )


def test_session_name_is_safe_for_sts() -> None:
    assert session_name("acme") == "hubsync-acme"
    assert session_name("https://acme.atlassian.net/") == "hubsync-https---acme.atlassian.net-"
    assert len(session_name("x" * 100)) == 64


def test_building_a_session_calls_nothing_until_it_is_used(aws_env: AwsWorld) -> None:
    requests: Counter[str] = Counter()
    session = assumed_role_session(aws_env.securityhub_role_arn, tenant="acme", requests=requests)
    assert requests == {}

    caller_arn(session)
    caller_arn(session)

    assert requests == {"AssumeRole": 1}


def test_keys_are_refreshed_before_they_expire(aws_env: AwsWorld) -> None:
    clock = FakeClock()
    requests: Counter[str] = Counter()
    session = assumed_role_session(
        aws_env.securityhub_role_arn, tenant="acme", external_id=aws_env.external_id, clock=clock, requests=requests
    )
    first = access_key(session)

    clock.advance(30 * 60)  # half an hour left: still good
    assert access_key(session) == first
    clock.advance(25 * 60)  # five minutes left: botocore must renew before using them
    renewed = access_key(session)

    assert renewed != first
    assert requests == {"AssumeRole": 2}
    assert caller_arn(session).endswith("/hubsync-acme")


def test_expired_keys_are_replaced_before_the_next_request(aws_env: AwsWorld) -> None:
    clock = FakeClock()
    session = assumed_role_session(aws_env.securityhub_role_arn, tenant="acme", duration_seconds=900, clock=clock)
    first = access_key(session)

    clock.advance(901)

    assert access_key(session) != first
    assert caller_arn(session).endswith("/hubsync-acme")


def test_duration_outside_sts_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="duration_seconds"):
        assumed_role_session("arn:aws:iam::111111111111:role/x", tenant="acme", duration_seconds=600)


def test_securityhub_client_through_the_assumed_role(
    aws_env: AwsWorld, securityhub: SecurityHubSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", securityhub.url)
    finding = make_finding()
    securityhub.client().batch_import_findings(Findings=[finding])
    session = assumed_role_session(aws_env.securityhub_role_arn, tenant="acme", external_id=aws_env.external_id)

    client = SecurityHubClient.for_session(session, region=AGGREGATION_REGION)

    assert [f.id for f in client.findings({})] == [finding["Id"]]


def test_a_tenants_session_spends_its_accounts_budget(
    aws_env: AwsWorld, securityhub: SecurityHubSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", securityhub.url)
    slept: list[float] = []
    monkeypatch.setattr(rate_limits, "AWS_BUDGETS", Budgets(aws_rate, clock=lambda: 0.0, sleep=slept.append))
    sessions = [
        assumed_role_session(aws_env.securityhub_role_arn, tenant="acme", external_id=aws_env.external_id)
        for _ in range(2)
    ]
    clients = [SecurityHubClient.for_session(session, region=AGGREGATION_REGION) for session in sessions]

    for client in clients:  # two clients of one account: one budget (and time stands still)
        for _ in range(3):
            list(client.findings({}))

    assert slept == pytest.approx([1 / 3])  # the 6th request: 5 went at once
