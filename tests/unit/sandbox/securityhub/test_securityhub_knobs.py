"""Throttling at Security Hub's documented rates, fault injection and request counters per operation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.securityhub import LINKED_REGION, MEMBER, FakeClock, SecurityHubSandbox, make_finding


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttled(securityhub_factory: Any, clock: FakeClock) -> SecurityHubSandbox:
    sandbox = securityhub_factory(clock=clock)
    assert sandbox.control("POST", "/_sandbox/throttling", json={"enabled": True}).status_code == 200
    return sandbox


def error_code(call: Any) -> str | None:
    try:
        call()
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        return exc.response["Error"]["Code"]
    return None


def burst(call: Any, attempts: int) -> list[str | None]:
    return [error_code(call) for _ in range(attempts)]


def test_throttling_is_off_by_default(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    assert burst(client.get_findings, 10) == [None] * 10
    assert securityhub.control("GET", "/_sandbox/throttling").json() == {"enabled": False, "error_code": None}


def test_get_findings_allows_a_burst_of_6_then_3_per_second(throttled: SecurityHubSandbox, clock: FakeClock) -> None:
    client = throttled.client()
    assert burst(client.get_findings, 7) == [None] * 6 + ["LimitExceededException"]
    clock.advance(1)
    assert burst(client.get_findings, 4) == [None] * 3 + ["LimitExceededException"]
    clock.advance(10)
    assert burst(client.get_findings, 7) == [None] * 6 + ["LimitExceededException"]  # the bucket holds 6 at most


def test_other_operations_allow_a_burst_of_30_then_10_per_second(
    throttled: SecurityHubSandbox, clock: FakeClock
) -> None:
    client = throttled.client()
    finding = make_finding()
    assert burst(lambda: client.batch_import_findings(Findings=[finding]), 31) == [None] * 30 + [
        "LimitExceededException"
    ]
    clock.advance(0.5)
    assert burst(client.get_administrator_account, 31) == [None] * 30 + ["LimitExceededException"]
    assert burst(lambda: client.batch_import_findings(Findings=[finding]), 6) == [None] * 5 + [
        "LimitExceededException"
    ]


def test_buckets_are_per_operation_account_and_region(throttled: SecurityHubSandbox) -> None:
    admin = throttled.client()
    assert burst(admin.get_findings, 7)[-1] == "LimitExceededException"
    assert error_code(admin.describe_hub) is None
    assert error_code(throttled.client(account_id=MEMBER).get_findings) is None
    assert error_code(throttled.client(region=LINKED_REGION).get_findings) is None


def test_operations_without_a_declared_throttle_answer_too_many_requests(throttled: SecurityHubSandbox) -> None:
    client = throttled.client()
    assert burst(client.describe_action_targets, 31)[-1] == "TooManyRequestsException"


def test_the_throttling_error_name_can_be_forced(throttled: SecurityHubSandbox) -> None:
    knob = {"enabled": True, "error_code": "TooManyRequestsException"}
    assert throttled.control("POST", "/_sandbox/throttling", json=knob).json() == knob
    client = throttled.client()
    assert burst(client.get_findings, 7)[-1] == "TooManyRequestsException"
    unknown_name = {"enabled": True, "error_code": "Nope"}
    assert throttled.control("POST", "/_sandbox/throttling", json=unknown_name).status_code == 400
    assert throttled.control("POST", "/_sandbox/throttling", json={}).status_code == 400


def test_boto3_retries_a_throttled_call(throttled: SecurityHubSandbox, clock: FakeClock) -> None:
    """What hubsync relies on: botocore treats the 429 as a throttle and tries again."""
    client = throttled.client(retries={"total_max_attempts": 2, "mode": "standard"})
    burst(client.get_findings, 6)
    with pytest.raises(ClientError) as raised:
        client.get_findings()
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1


def test_injected_faults_use_the_operation_s_error_names(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    assert securityhub.control("POST", "/_sandbox/faults", json={"status": 429, "retry_after": 1, "count": 1}).ok
    with pytest.raises(ClientError) as raised:
        client.get_findings()
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"
    assert raised.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    for status, code in [(500, "InternalException"), (503, "ServiceUnavailableException")]:
        securityhub.control("POST", "/_sandbox/faults", json={"status": status, "count": 1})
        with pytest.raises(ClientError) as raised:
            client.describe_hub()
        response = raised.value.response
        assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert client.describe_hub()["HubArn"]


def test_requests_are_counted_by_operation(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    client.batch_import_findings(Findings=[make_finding()])
    client.get_findings()
    client.get_findings()
    with pytest.raises(ClientError):
        client.get_insights()
    counters = securityhub.control("GET", "/_sandbox/counters").json()
    assert counters == {"BatchImportFindings": 1, "GetFindings": 2, "UnknownOperation": 1}
    securityhub.control("DELETE", "/_sandbox/counters")
    assert securityhub.control("GET", "/_sandbox/counters").json() == {}
