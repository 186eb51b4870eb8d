"""The Jira simulator's fault knobs and request counters, as a client sees them over HTTP."""

from __future__ import annotations

import time

from tests.fixtures.jira import JiraSandbox


def test_429_with_retry_after_for_the_next_n_requests(jira_cloud: JiraSandbox) -> None:
    assert jira_cloud.control("POST", "faults", json={"status": 429, "retry_after": 3, "count": 2}).status_code == 201
    bot = jira_cloud.session()
    answers = [bot.get(f"{jira_cloud.rest}/myself") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}


def test_5xx_for_a_share_of_requests(jira_dc: JiraSandbox) -> None:
    jira_dc.control("POST", "faults", json={"status": 503, "share": 0.5})
    bot = jira_dc.session()
    statuses = {bot.get(f"{jira_dc.rest}/myself").status_code for _ in range(40)}
    assert statuses == {200, 503}  # all 40 alike has probability 2**-39
    assert jira_dc.control("DELETE", "faults").status_code == 204
    assert {bot.get(f"{jira_dc.rest}/myself").status_code for _ in range(5)} == {200}


def test_latency_slows_requests_down(jira_cloud: JiraSandbox) -> None:
    jira_cloud.control("POST", "faults", json={"latency_ms": 150, "count": 1})
    bot = jira_cloud.session()
    started = time.monotonic()
    assert bot.get(f"{jira_cloud.rest}/serverInfo").status_code == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    bot.get(f"{jira_cloud.rest}/serverInfo")
    assert time.monotonic() - started < 0.15


def test_counters_count_by_method_and_path_template_and_reset(jira_cloud: JiraSandbox) -> None:
    bot = jira_cloud.session()
    for key in ("SEC-1", "SEC-2", "OPS-7"):
        bot.get(f"{jira_cloud.rest}/issue/{key}")
    bot.post(f"{jira_cloud.rest}/search/jql", json={"jql": "project = SEC"})
    assert jira_cloud.control("GET", "counters").json() == {
        "GET /rest/api/3/issue/<key>": 3,
        "POST /rest/api/3/search/jql": 1,
    }
    assert jira_cloud.control("DELETE", "counters").status_code == 204
    assert jira_cloud.control("GET", "counters").json() == {}


def test_faults_apply_before_authentication_like_an_edge_rate_limiter(jira_cloud: JiraSandbox) -> None:
    jira_cloud.control("POST", "faults", json={"status": 429, "count": 1})
    assert jira_cloud.anonymous().get(f"{jira_cloud.rest}/myself").status_code == 429
    assert jira_cloud.anonymous().get(f"{jira_cloud.rest}/myself").status_code == 401
