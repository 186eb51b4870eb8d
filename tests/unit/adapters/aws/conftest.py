"""A small AWS Organization in moto for the adapter tests: a security account and two workloads, one of them
tagged with its owner; and the environment hubsync's base identity runs with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubsync_sandbox import aws
from hubsync_sandbox.aws import AccountSpec, AwsWorld, MotoServer, build_organization


@pytest.fixture(scope="module")
def world() -> Iterator[AwsWorld]:
    moto = MotoServer().start()
    try:
        yield build_organization(
            moto.url,
            AccountSpec("security", "security@example.com", None),
            [
                AccountSpec("payments", "payments@example.com", "alice@example.com"),
                AccountSpec("sandbox", "sandbox@example.com", None),
            ],
            jira_secret={"token": "unused"},
        )
    finally:
        moto.stop()


@pytest.fixture
def aws_env(world: AwsWorld, monkeypatch: pytest.MonkeyPatch) -> AwsWorld:
    """hubsync's base identity (the management account) and moto's endpoints, the way the sandbox exports them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", aws.HOME_REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", world.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", world.endpoint_url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return world
