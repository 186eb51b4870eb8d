"""A Jira site's rate budget: one per site across clients, paused by a 429's Retry-After or by an answer saying no
requests remain, spent at a configured rate (against the simulator's rate limit: no 429), and every request
reported to the API-call metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from flask import Flask, jsonify
from prometheus_client import REGISTRY

from hubsync.adapters import rate_limits
from hubsync.adapters.jira import ApiToken, JiraClient, JiraError
from hubsync.adapters.jira.transport import JiraTransport, seconds_until_reset
from hubsync.adapters.rate_limits import Budgets, Rate
from hubsync_sandbox.httpserver import BackgroundServer
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import Sleeps


def transport_for(sandbox: JiraSandbox, sleep: Callable[[float], None] = time.sleep, **options: object):
    return JiraTransport(sandbox.url, sandbox.world.api_version, ApiToken(sandbox.login, sandbox.secret),
                         sleep=sleep, **options)  # type: ignore[arg-type]


def calls(operation: str, status: str) -> float:
    labels = {"service": "jira", "operation": operation, "status": status}
    return REGISTRY.get_sample_value("hubsync_api_calls_total", labels) or 0.0


def test_a_429_pauses_every_client_of_the_site(
    jira_cloud: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: Sleeps
) -> None:
    impatient = client_of(jira_cloud, max_retries=0)
    other = client_of(jira_cloud)
    jira_cloud.control("POST", "faults", json={"status": 429, "retry_after": 5, "count": 1})

    with pytest.raises(JiraError):
        impatient.find_user("alice@example.com")  # refused, not retried: the site is paused all the same
    assert sleeps == []

    assert other.find_user("alice@example.com") is not None
    assert sleeps == [5.0]
    assert other.find_user("bob@example.com") is not None  # the pause is over
    assert sleeps == [5.0]


def test_a_request_that_waited_its_turn_also_waits_out_a_pause_begun_meanwhile(
    jira_cloud: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: Sleeps
) -> None:
    jira = client_of(jira_cloud)
    budget = rate_limits.JIRA_BUDGETS.bucket(rate_limits.jira_site_key(jira_cloud.url))
    budget.pause(3)  # this request's turn comes in 3 s ...
    sleep = sleeps.append

    def another_thread_meets_a_429(seconds: float) -> None:
        sleep(seconds)
        if len(sleeps) == 1:
            budget.pause(2)  # ... and while it waits, another thread's request is told to hold off 2 s more

    jira._http._sleep = another_thread_meets_a_429  # type: ignore[attr-defined]

    assert jira.find_user("alice@example.com") is not None
    assert sleeps == [3.0, 2.0]


def test_sites_have_budgets_of_their_own(
    jira_sandbox: Callable[..., JiraSandbox], client_of: Callable[..., JiraClient], sleeps: Sleeps
) -> None:
    paused, free = jira_sandbox("cloud"), jira_sandbox("cloud")
    paused.control("POST", "faults", json={"status": 429, "retry_after": 5, "count": 1})

    with pytest.raises(JiraError):
        client_of(paused, max_retries=0).find_user("alice@example.com")
    assert client_of(free).find_user("alice@example.com") is not None

    assert sleeps == []


def test_a_configured_budget_paces_the_sites_requests(jira_cloud: JiraSandbox, sleeps: Sleeps) -> None:
    rate_limits.JIRA_BUDGETS.configure(rate_limits.jira_site_key(jira_cloud.url), Rate(4, 3))
    first, second = transport_for(jira_cloud, sleeps.append), transport_for(jira_cloud, sleeps.append)

    for transport in (first, second, first, second, first):
        transport.call("server_info", "GET", "/serverInfo")

    assert sleeps == [0.25, 0.25, 0.25]  # 2 at once (a token of headroom), then 4 a second


def test_no_requests_left_pauses_the_site_until_the_reset(client_of: Callable[..., JiraClient], sleeps: Sleeps):
    """Jira Data Center's answers carry the bucket's state; one that says the bucket is empty holds the next
    request back until it refills."""
    app = Flask("exhausted-jira")
    answers = iter([("0", "7"), ("3", "0")])

    @app.get("/rest/api/2/myself")
    def myself():
        remaining, retry_after = next(answers)
        response = jsonify(name="hubsync")
        response.headers.update({"X-RateLimit-Remaining": remaining, "Retry-After": retry_after,
                                 "X-RateLimit-Limit": "3"})
        return response

    server = BackgroundServer(app).start()
    try:
        jira = JiraTransport(server.url, "2", ApiToken("bot", "secret"), sleep=sleeps.append)
        jira.call("myself", "GET", "/myself")
        assert sleeps == []
        jira.call("myself", "GET", "/myself")
        assert sleeps == [7.0]
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "3", "RateLimit-Reset": "9"}, 3.0),  # Retry-After speaks first
        ({"RateLimit-Reset": "9"}, 9.0),
        ({"X-RateLimit-Reset": "<in 2 minutes>"}, 120.0),
        ({"Retry-After": "<HTTP date in 30 s>"}, 30.0),
        ({"X-RateLimit-Reset": "2026-01-31T09:15"}, None),  # no zone: cannot tell when
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_when_the_budget_comes_back(headers: dict[str, str], seconds: float | None) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    spelled = {
        name: value.replace("<in 2 minutes>", (now + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        .replace("<HTTP date in 30 s>", format_datetime(now + timedelta(seconds=30), usegmt=True))
        for name, value in headers.items()
    }
    found = seconds_until_reset(spelled)
    if seconds is None:
        assert found is None
    else:
        assert found == pytest.approx(seconds, abs=1.5)


# -- against the simulator's rate limit, in real time ------------------------------------------------------------------
@pytest.fixture
def real_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(rate_limits, "JIRA_BUDGETS", Budgets(lambda _site: rate_limits.UNLIMITED))
    yield


def test_spending_the_sites_budget_at_its_rate_meets_no_429(real_time: None, jira_cloud: JiraSandbox) -> None:
    jira_cloud.control("POST", "rate-limit", json={"rate": 20, "burst": 5})
    rate_limits.JIRA_BUDGETS.configure(rate_limits.jira_site_key(jira_cloud.url), Rate(20, 5))
    jira = transport_for(jira_cloud)
    refused_before = calls("server_info", "429")
    started = time.monotonic()

    for _ in range(24):
        jira.call("server_info", "GET", "/serverInfo")

    assert time.monotonic() - started >= (24 - 4) / 20 - 0.05
    assert calls("server_info", "429") == refused_before
    assert jira.requests_made == {"server_info": 24}


def test_a_429_from_the_sites_rate_limit_is_waited_out(real_time: None, jira_cloud: JiraSandbox) -> None:
    jira_cloud.control("POST", "rate-limit", json={"rate": 5, "burst": 1})
    jira = transport_for(jira_cloud)
    refused_before, answered_before = calls("server_info", "429"), calls("server_info", "200")
    started = time.monotonic()

    jira.call("server_info", "GET", "/serverInfo")
    jira.call("server_info", "GET", "/serverInfo")  # 429 with Retry-After: 1, then answered

    assert time.monotonic() - started >= 1.0
    assert calls("server_info", "429") - refused_before == 1
    assert calls("server_info", "200") - answered_before == 2
    assert jira.requests_made == {"server_info": 3}
