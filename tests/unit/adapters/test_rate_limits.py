"""Client-side rate budgets: the token bucket on a fake clock, the budgets' keys and settings, Security Hub's
documented rates spent through a botocore hook (against the simulator, which throttles at the same rates), and
every AWS request reported to the API-call metrics."""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from prometheus_client import REGISTRY

from hubsync.adapters import rate_limits
from hubsync.adapters.aws_session import account_of, observe_calls
from hubsync.adapters.rate_limits import (
    UNLIMITED,
    Budgets,
    Rate,
    RateSettings,
    TokenBucket,
    aws_rate,
    jira_rate,
    throttle_aws_requests,
)
from hubsync.config import ConfigError, Settings
from tests.fixtures.securityhub import ADMIN, LINKED_REGION, MEMBER, FakeClock, SecurityHubSandbox, make_finding


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def waits(bucket: TokenBucket, count: int) -> list[float]:
    return [round(bucket.reserve(), 6) for _ in range(count)]


# -- the bucket ------------------------------------------------------------------------------------------------------
def test_a_full_bucket_lets_the_burst_less_one_go_at_once_then_books_tokens_at_the_rate() -> None:
    clock = FakeTime()
    bucket = TokenBucket(Rate(10, 4), clock)

    assert waits(bucket, 6) == [0, 0, 0, 0.1, 0.2, 0.3]  # 3 of the 4: one token of headroom stays unspent


def test_tokens_come_back_with_time_up_to_the_burst() -> None:
    clock = FakeTime()
    bucket = TokenBucket(Rate(2, 3), clock, headroom=0)
    assert waits(bucket, 3) == [0, 0, 0]

    clock.now += 1.0  # two tokens
    assert waits(bucket, 3) == [0, 0, 0.5]
    clock.now += 60.0  # never more than the burst
    assert waits(bucket, 4) == [0, 0, 0, 0.5]


def test_a_pause_holds_everyone_back_then_resumes_at_the_rate_from_empty() -> None:
    clock = FakeTime()
    bucket = TokenBucket(Rate(10, 30), clock)
    bucket.pause(2.0)

    assert bucket.paused_for() == 2.0
    assert waits(bucket, 3) == [2.0, 2.1, 2.2]
    bucket.pause(0.5)  # a shorter pause does not shorten the one in force
    assert bucket.paused_for() == 2.0
    clock.now += 2.0
    assert bucket.paused_for() == 0
    assert waits(bucket, 1) == [0.3]  # still behind the three booked during the pause


def test_an_unlimited_bucket_never_waits_except_for_a_pause() -> None:
    clock = FakeTime()
    bucket = TokenBucket(UNLIMITED, clock)
    assert waits(bucket, 100) == [0] * 100

    bucket.pause(3.0)
    assert waits(bucket, 2) == [3.0, 3.0]


def test_configuring_a_budget_applies_to_its_holders() -> None:
    clock = FakeTime()
    budgets = Budgets(lambda _key: UNLIMITED, clock)
    bucket = budgets.bucket("https://acme.atlassian.net")
    assert waits(bucket, 50) == [0] * 50

    assert budgets.configure("https://acme.atlassian.net", Rate(5, 2)) is bucket
    assert waits(bucket, 3) == [0, 0.2, 0.4]  # starts full: 2 - 1 headroom = 1 at once


def test_concurrent_bookings_never_share_a_token() -> None:
    clock = FakeTime()
    bucket = TokenBucket(Rate(100, 1), clock, headroom=0)
    booked: list[float] = []
    lock = threading.Lock()

    def book() -> None:
        for _ in range(50):
            wait = bucket.reserve()
            with lock:
                booked.append(round(wait, 6))

    threads = [threading.Thread(target=book) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(booked) == [round(n / 100, 6) for n in range(400)]


def test_rates_must_make_sense() -> None:
    with pytest.raises(ValueError, match="above 0"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="at least 1"):
        Rate(1, 0)
    assert Rate(10, 30).share(0.25) == Rate(2.5, 7)
    assert Rate(1, 1).share(0.5) == Rate(0.5, 1)
    with pytest.raises(ValueError, match="share"):
        Rate(10, 30).share(1.5)


# -- which budget ----------------------------------------------------------------------------------------------------
def rates_of(environ: dict[str, str]) -> RateSettings:
    """The budgets an environment sets, read as `bootstrap` reads them (`Settings`, which checks them)."""
    settings = Settings.from_environment(environ)
    return RateSettings(jira_rate=settings.jira_rate, jira_burst=settings.jira_burst, aws_share=settings.aws_rate_share)


def test_security_hubs_documented_rates_per_operation() -> None:
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "GetFindings"), rates_of({})) == Rate(3, 6)
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "BatchUpdateFindings"), rates_of({})) == Rate(10, 30)
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "BatchImportFindings"), rates_of({})) == Rate(10, 30)
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "CreateActionTarget"), rates_of({})) == Rate(10, 30)
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "BatchEnableStandards"), rates_of({})) == Rate(1, 1)
    assert aws_rate(("organizations", ADMIN, "us-east-1", "ListTagsForResource"), rates_of({})) == UNLIMITED
    share = rates_of({"HUBSYNC_AWS_RATE_SHARE": "0.5"})
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "GetFindings"), share) == Rate(1.5, 3)
    with pytest.raises(ConfigError, match="HUBSYNC_AWS_RATE_SHARE must be a number"):
        rates_of({"HUBSYNC_AWS_RATE_SHARE": "half"})


def test_a_jira_sites_budget_comes_from_the_environment() -> None:
    assert jira_rate("https://acme.atlassian.net", rates_of({})) == UNLIMITED
    assert jira_rate("https://acme.atlassian.net", rates_of({"HUBSYNC_JIRA_RATE": "10"})) == Rate(10, 20)
    assert jira_rate("x", rates_of({"HUBSYNC_JIRA_RATE": "2.5", "HUBSYNC_JIRA_BURST": "5"})) == Rate(2.5, 5)
    with pytest.raises(ConfigError, match="HUBSYNC_JIRA_RATE must be above 0"):
        rates_of({"HUBSYNC_JIRA_RATE": "-1"})


def test_configure_sets_the_budgets_of_clients_that_name_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limits, "_settings", rate_limits._settings)  # restored afterwards
    rate_limits.configure(jira_rate=2.5, jira_burst=5, aws_share=0.5)
    assert jira_rate("x") == Rate(2.5, 5)
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "GetFindings")) == Rate(1.5, 3)
    rate_limits.configure(jira_rate=None, jira_burst=None, aws_share=None)
    assert jira_rate("x") == UNLIMITED
    assert aws_rate(("securityhub", ADMIN, "us-east-1", "GetFindings")) == Rate(3, 6)


def test_the_account_is_read_from_the_role_arn() -> None:
    assert account_of("arn:aws:iam::111122223333:role/hubsync") == "111122223333"
    assert account_of("not-an-arn") == "not-an-arn"


# -- Security Hub, paced -----------------------------------------------------------------------------------------------
@pytest.fixture
def shared_time(securityhub_factory) -> tuple[SecurityHubSandbox, FakeClock, Budgets]:
    """A throttling simulator and client budgets on one fake clock, which the budgets' waits move forward."""
    clock = FakeClock()
    securityhub = securityhub_factory(clock=clock)
    securityhub.control("POST", "/_sandbox/throttling", json={"enabled": True})

    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    budgets = Budgets(aws_rate, clock=lambda: clock.now.timestamp(), sleep=sleep)
    return securityhub, clock, budgets


def test_requests_paced_by_the_budget_are_never_throttled(shared_time) -> None:
    securityhub, clock, budgets = shared_time
    client = securityhub.client()  # no retries: a throttled call would raise
    finding = make_finding()
    client.batch_import_findings(Findings=[finding])
    throttle_aws_requests(client.meta.events, ADMIN, budgets)
    started = clock.now

    for _ in range(20):
        client.get_findings(MaxResults=1)
    for n in range(40):
        client.batch_update_findings(FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
                                     Note={"Text": f"note {n}", "UpdatedBy": "hubsync"})

    # 5 GetFindings at once, 15 more at 3/s; BatchUpdateFindings' own budget: 29 at once, 11 more at 10/s
    assert (clock.now - started).total_seconds() == pytest.approx(15 / 3 + 11 / 10)
    counted = securityhub.sim.knobs.counters()
    assert counted == {"BatchImportFindings": 1, "GetFindings": 20, "BatchUpdateFindings": 40}


def test_without_the_budget_the_simulator_throttles(shared_time) -> None:
    securityhub, _clock, _budgets = shared_time
    client = securityhub.client()

    with pytest.raises(ClientError, match="LimitExceededException"):
        for _ in range(7):
            client.get_findings(MaxResults=1)


def test_each_region_and_account_has_its_own_budget(shared_time) -> None:
    securityhub, clock, budgets = shared_time
    home, linked = securityhub.client(), securityhub.client(region=LINKED_REGION)
    for client in (home, linked):
        throttle_aws_requests(client.meta.events, ADMIN, budgets)
    other_account = securityhub.client(account_id=MEMBER)
    throttle_aws_requests(other_account.meta.events, MEMBER, budgets)
    started = clock.now

    for client in (home, linked, other_account):
        for _ in range(5):
            client.get_findings(MaxResults=1)

    assert clock.now == started  # 5 each, all within their own bursts
    home.get_findings(MaxResults=1)
    assert (clock.now - started).total_seconds() == pytest.approx(1 / 3)


# -- metrics -----------------------------------------------------------------------------------------------------------
def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_aws_request_is_counted_by_status_and_timed(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    observe_calls(client.meta.events)
    observe_calls(client.meta.events)  # once is enough: no double counting
    ok = {"service": "securityhub", "operation": "GetFindings", "status": "200"}
    throttled = {**ok, "status": "429"}
    before = Counter({key: sample("hubsync_api_calls_total", **labels) for key, labels in
                      {"ok": ok, "throttled": throttled}.items()})
    timed_before = sample("hubsync_api_call_seconds_count", service="securityhub", operation="GetFindings")

    client.get_findings(MaxResults=1)
    client.get_findings(MaxResults=1)
    securityhub.control("POST", "/_sandbox/throttling", json={"enabled": True})
    with pytest.raises(ClientError):
        for _ in range(7):
            client.get_findings(MaxResults=1)

    assert sample("hubsync_api_calls_total", **ok) - before["ok"] == 8
    assert sample("hubsync_api_calls_total", **throttled) - before["throttled"] == 1
    timed = sample("hubsync_api_call_seconds_count", service="securityhub", operation="GetFindings")
    assert timed - timed_before == 9
    assert math.isfinite(sample("hubsync_api_call_seconds_sum", service="securityhub", operation="GetFindings"))


def test_a_request_with_no_answer_counts_as_an_error() -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client("securityhub", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))
    observe_calls(client.meta.events)
    before = sample("hubsync_api_calls_total", service="securityhub", operation="GetFindings", status="error")

    with pytest.raises(Exception, match="Could not connect"):
        client.get_findings()

    after = sample("hubsync_api_calls_total", service="securityhub", operation="GetFindings", status="error")
    assert after - before == 1


def test_wait_spent_in_the_budget_is_not_latency(shared_time) -> None:
    securityhub, clock, budgets = shared_time
    client = securityhub.client()
    throttle_aws_requests(client.meta.events, ADMIN, budgets)
    observe_calls(client.meta.events)
    before = sample("hubsync_api_call_seconds_sum", service="securityhub", operation="GetFindings")

    for _ in range(8):  # 3 of them wait 1/3 s each on the fake clock, which latency never sees
        client.get_findings(MaxResults=1)

    spent = sample("hubsync_api_call_seconds_sum", service="securityhub", operation="GetFindings") - before
    assert (clock.now - FakeClock().now) >= timedelta(seconds=1)
    assert spent < 1.0  # real seconds of 8 loopback requests
