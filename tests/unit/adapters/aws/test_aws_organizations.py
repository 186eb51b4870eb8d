"""The owner directory against moto's Organizations, reached through hubsync's role in the management account:
owner tags, account names, the cache (negative answers included) and every failure turning into "unknown"."""

from __future__ import annotations

import logging
from datetime import timedelta

import boto3
import pytest

from hubsync.adapters.aws_session import assumed_role_session
from hubsync.adapters.organizations import OwnerDirectory
from hubsync_sandbox import aws
from hubsync_sandbox.aws import AwsWorld
from tests.fixtures.securityhub import FakeClock

UNKNOWN_ACCOUNT = "999999999999"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def management_role(world: AwsWorld) -> boto3.Session:
    return assumed_role_session(world.organizations_role_arn, tenant="acme", external_id=world.external_id)


@pytest.fixture
def directory(aws_env: AwsWorld, clock: FakeClock) -> OwnerDirectory:
    return OwnerDirectory.for_session(management_role(aws_env), clock=clock, ttl=timedelta(hours=1))


def payments(world: AwsWorld) -> str:
    return world.workload_accounts[0].id


def untagged(world: AwsWorld) -> str:
    return world.workload_accounts[1].id


def retag(world: AwsWorld, account_id: str, owner: str) -> None:
    aws.client("organizations", world.endpoint_url).tag_resource(
        ResourceId=account_id, Tags=[{"Key": aws.OWNER_TAG, "Value": owner}]
    )


def test_owner_is_the_accounts_security_contact_tag(aws_env: AwsWorld, directory: OwnerDirectory):
    assert directory.owner_of(payments(aws_env)) == "alice@example.com"
    assert directory.owner_of(untagged(aws_env)) is None


def test_the_tag_key_is_configurable(aws_env: AwsWorld, clock: FakeClock):
    directory = OwnerDirectory.for_session(management_role(aws_env), tag_key="Name", clock=clock)

    assert directory.owner_of(payments(aws_env)) == "payments"


def test_answers_are_cached_until_the_ttl_runs_out(aws_env: AwsWorld, directory: OwnerDirectory, clock: FakeClock):
    account = untagged(aws_env)
    assert directory.owner_of(account) is None
    retag(aws_env, account, "bob@example.com")

    clock.advance(59 * 60)
    assert directory.owner_of(account) is None  # "no owner" is cached too
    assert directory.calls["ListTagsForResource"] == 1

    clock.advance(2 * 60)
    assert directory.owner_of(account) == "bob@example.com"
    assert directory.calls["ListTagsForResource"] == 2


def test_account_name_comes_from_the_organization_and_is_cached(aws_env: AwsWorld, directory: OwnerDirectory):
    assert directory.account_name(payments(aws_env)) == "payments"
    assert directory.account_name(payments(aws_env)) == "payments"
    assert directory.calls["DescribeAccount"] == 1


def test_an_account_outside_the_organization_has_no_owner(
    aws_env: AwsWorld, directory: OwnerDirectory, clock: FakeClock, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="hubsync.adapters.organizations"):
        assert directory.owner_of(UNKNOWN_ACCOUNT) is None
        assert directory.account_name(UNKNOWN_ACCOUNT) is None

    assert "TargetNotFoundException" in caplog.text
    assert "AccountNotFoundException" in caplog.text
    directory.owner_of(UNKNOWN_ACCOUNT)
    assert directory.calls["ListTagsForResource"] == 1  # a failure is not asked again at once...
    clock.advance(6 * 60)
    directory.owner_of(UNKNOWN_ACCOUNT)
    assert directory.calls["ListTagsForResource"] == 2  # ...but sooner than a real answer


def test_a_role_outside_the_management_account_gets_no_owner(aws_env: AwsWorld, clock: FakeClock):
    wrong_role = assumed_role_session(aws_env.securityhub_role_arn, tenant="acme", external_id=aws_env.external_id)
    directory = OwnerDirectory.for_session(wrong_role, clock=clock)

    assert directory.owner_of(payments(aws_env)) is None


def test_no_role_configured_means_no_owner(caplog: pytest.LogCaptureFixture):
    directory = OwnerDirectory.for_session(None)

    with caplog.at_level(logging.WARNING, logger="hubsync.adapters.organizations"):
        assert directory.owner_of("123456789012") is None
        assert directory.account_name("123456789012") is None

    assert "no role" in caplog.text


def test_an_unreachable_organizations_endpoint_means_no_owner(
    aws_env: AwsWorld, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://127.0.0.1:9")  # nothing listens on discard
    directory = OwnerDirectory.for_session(management_role(aws_env), max_attempts=2, clock=clock)

    assert directory.owner_of(payments(aws_env)) is None
    assert directory.calls["ListTagsForResource"] == 3  # the first try and botocore's two retries


def test_a_malformed_account_id_is_not_sent(directory: OwnerDirectory):
    assert directory.owner_of("not-an-account") is None
    assert directory.calls == {}
