"""The wire: rate limits honoured through Retry-After, Jira's errors passed on in its own words, and each way of
signing in — API token, personal access token, and a Connect app's per-request JWT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hubsync.adapters.jira import ApiToken, ConnectJwt, JiraClient, JiraError, PersonalAccessToken
from hubsync.adapters.jira.auth import relative_url
from hubsync.domain.plan import MoveTicket
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox
from tests.unit.adapters.jira.conftest import draft

APP_KEY = "com.example.hubsync"
SHARED_SECRET = "shared-secret-from-the-installed-callback-0123456789"


def test_429_is_retried_after_the_wait_jira_asks_for(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: list[float]
) -> None:
    jira = client_of(jira_any)
    jira_any.control("POST", "faults", json={"status": 429, "retry_after": 3, "count": 2})

    [created] = jira.create_tickets([draft(1)])

    assert created.key is not None
    assert sleeps == [3.0, 3.0]
    assert jira.request_counts == {"create_tickets": 3}
    assert len(jira_any.world.issues) == 1


def test_429_without_retry_after_backs_off(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: list[float]
) -> None:
    jira_any.control("POST", "faults", json={"status": 429, "count": 3})

    assert client_of(jira_any).find_user("alice@example.com") is not None
    assert sleeps == [1.0, 2.0, 4.0]


def test_503_is_retried_only_when_jira_says_when(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: list[float]
) -> None:
    jira = client_of(jira_any)
    jira_any.control("POST", "faults", json={"status": 503, "retry_after": 1, "count": 1})
    assert jira.find_user("alice@example.com") is not None
    jira_any.control("POST", "faults", json={"status": 503, "count": 1})

    with pytest.raises(JiraError) as raised:
        jira.find_user("bob@example.com")

    assert raised.value.status == 503
    assert raised.value.messages == ["Service unavailable."]
    assert sleeps == [1.0]


def test_retries_are_bounded(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient], sleeps: list[float]
) -> None:
    jira = client_of(jira_any, max_retries=2)
    jira_any.control("POST", "faults", json={"status": 429, "retry_after": 1})

    with pytest.raises(JiraError, match=r"Jira answered 429 to GET /user/search: Rate limit exceeded\."):
        jira.find_user("alice@example.com")

    assert len(sleeps) == 2
    assert jira.request_counts == {"find_user": 3}


def test_jiras_errors_come_back_in_its_own_words(
    jira_any: JiraSandbox, client_of: Callable[..., JiraClient]
) -> None:
    jira = client_of(jira_any)
    [created] = jira.create_tickets([draft(1)])
    assert created.key is not None

    with pytest.raises(JiraError) as raised:
        jira.edit(created.key, priority="Whenever")
    with pytest.raises(JiraError) as missing:
        gone = replace(jira.get_tickets([created.key])[created.key], key="SEC-999")  # deleted since it was read
        jira.move(gone, MoveTicket(disposition=Disposition.FIXED), Policy("SEC").disposition_of_status)

    assert raised.value.status == 400
    assert raised.value.messages == ["priority: Specify a valid 'priority' name"]
    assert missing.value.status == 404
    assert "Issue does not exist or you do not have permission to see it." in str(missing.value)


def test_edit_changes_summary_and_priority(jira_any: JiraSandbox, client_of: Callable[..., JiraClient]) -> None:
    jira = client_of(jira_any)
    [created] = jira.create_tickets([draft(1)])
    assert created.key is not None

    jira.edit(created.key, summary="AWS Security Issue :: 111122223333 :: eu-west-1 :: renamed", priority="Lowest")
    jira.edit(created.key)  # nothing to change: no request

    ticket = jira.get_tickets([created.key])[created.key]
    assert (ticket.summary.rsplit(" ", 1)[1], ticket.priority) == ("renamed", "Lowest")
    assert jira.request_counts["edit"] == 1


def test_wrong_credentials_are_refused(jira_any: JiraSandbox) -> None:
    auth = ApiToken(jira_any.login, "wrong") if jira_any.flavour == "cloud" else PersonalAccessToken("wrong")
    jira = JiraClient(jira_any.url, jira_any.flavour, auth)

    with pytest.raises(JiraError) as raised:
        jira.get_tickets(["SEC-1"])

    assert raised.value.status == 401


def test_a_connect_app_signs_every_request_with_its_own_key(jira_cloud: JiraSandbox) -> None:
    app = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1", SHARED_SECRET, {"name": "hubsync"})
    jira_cloud.world.connect_apps[APP_KEY] = app
    jira = JiraClient(jira_cloud.url, "cloud", ConnectJwt(APP_KEY, SHARED_SECRET, jira_cloud.url), sleep=lambda _: None)

    [created] = jira.create_tickets([draft(1)])
    assert created.key is not None
    jira.comment(created.key, "Signed, sealed, delivered.")
    tickets = jira.get_tickets([created.key, "SEC-404"])  # a query string with quotes, commas and spaces

    assert list(tickets) == [created.key]
    issue = jira_cloud.world.issues[created.key]
    assert issue.reporter.name == f"addon_{APP_KEY}"  # Jira acts as the app's own user
    assert issue.comments[0].author.name == f"addon_{APP_KEY}"


def test_a_connect_token_signed_with_another_secret_is_refused(jira_cloud: JiraSandbox) -> None:
    app = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1", SHARED_SECRET, {"name": "hubsync"})
    jira_cloud.world.connect_apps[APP_KEY] = app
    forged = ConnectJwt(APP_KEY, "not-the-shared-secret-but-just-as-long-0123", jira_cloud.url)
    jira = JiraClient(jira_cloud.url, "cloud", forged)

    with pytest.raises(JiraError, match="Connect JWT rejected"):
        jira.find_user("alice@example.com")


@pytest.mark.parametrize(
    ("base_url", "url", "relative"),
    [
        ("https://acme.atlassian.net", "https://acme.atlassian.net/rest/api/3/myself", "/rest/api/3/myself"),
        ("https://jira.acme.com/jira/", "https://jira.acme.com/jira/rest/api/2/search?a=1", "/rest/api/2/search?a=1"),
        ("https://jira.acme.com/jira", "https://jira.acme.com/jira", "/"),
        ("https://jira.acme.com/jira", "https://jira.acme.com/jiraffe/x", "/jiraffe/x"),
    ],
)
def test_the_query_hash_covers_the_path_below_the_sites_context_path(base_url: str, url: str, relative: str) -> None:
    assert relative_url(base_url, url) == relative


def test_credentials_never_show_in_logs() -> None:
    shown = repr([ApiToken("bot@example.com", "t0ken"), PersonalAccessToken("p4t"), ConnectJwt("k", "s3cret", "u")])
    assert not any(secret in shown for secret in ("t0ken", "p4t", "s3cret"))
