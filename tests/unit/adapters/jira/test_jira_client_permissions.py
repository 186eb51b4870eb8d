"""`JiraClient.is_site_admin`: asked of Jira Cloud as hubsync's Connect app (`POST /permissions/check`), remembered
for a short while, never remembered when Jira could not answer."""

from __future__ import annotations

import pytest

from hubsync.adapters.jira import ApiToken, ConnectJwt, JiraClient, JiraError
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox

APP_KEY = "com.example.hubsync"
SHARED_SECRET = "shared-secret-from-the-installed-callback-0123456789"


def app_client(sandbox: JiraSandbox, now: list[float] | None = None, **options: object) -> JiraClient:
    """The client hubsync's server has for a Connect tenant: every call signed as the app."""
    sandbox.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1",
                                                       SHARED_SECRET, {"name": "hubsync"})
    clock = now if now is not None else [0.0]
    return JiraClient(sandbox.url, "cloud", ConnectJwt(APP_KEY, SHARED_SECRET, sandbox.url), sleep=lambda _: None,
                      monotonic=lambda: clock[0], **options)  # type: ignore[arg-type]


def account_id(sandbox: JiraSandbox, email: str) -> str:
    user = sandbox.world.user_by_email(email)
    assert user is not None
    return user.account_id


def test_the_site_admin_is_one_and_a_developer_is_not(jira_cloud: JiraSandbox) -> None:
    jira = app_client(jira_cloud)

    assert jira.is_site_admin(account_id(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)) is True
    assert jira.is_site_admin(account_id(jira_cloud, "alice@example.com")) is False
    assert jira.request_counts["is_site_admin"] == 2


def test_an_answer_is_remembered_for_a_while_then_asked_again(jira_cloud: JiraSandbox) -> None:
    now = [0.0]
    jira = app_client(jira_cloud, now, admin_ttl_s=60)
    sofia_id = account_id(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)
    sofia = jira_cloud.world.user_by_account_id(sofia_id)
    assert sofia is not None

    answers = [jira.is_site_admin(sofia_id) for _ in range(3)]
    sofia.site_admin = False  # her admin rights are revoked
    now[0] = 59
    still_remembered = jira.is_site_admin(sofia_id)
    now[0] = 61
    after = jira.is_site_admin(sofia_id)

    assert answers == [True, True, True]
    assert (still_remembered, after) == (True, False)
    assert jira.request_counts["is_site_admin"] == 2


def test_a_failed_question_raises_and_is_not_remembered(jira_cloud: JiraSandbox) -> None:
    jira = app_client(jira_cloud)
    sofia_id = account_id(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)
    jira_cloud.control("POST", "faults", json={"status": 500, "count": 1})

    with pytest.raises(JiraError) as raised:
        jira.is_site_admin(sofia_id)

    assert raised.value.status == 500
    assert jira.is_site_admin(sofia_id) is True  # asked again, not a remembered failure
    assert jira.request_counts["is_site_admin"] == 2


def test_a_caller_jira_does_not_let_ask_gets_jiras_refusal(jira_cloud: JiraSandbox) -> None:
    """An API-token user who is not an admin may not ask about others; only Connect apps and admins may."""
    jira = JiraClient(jira_cloud.url, "cloud", ApiToken(jira_cloud.login, jira_cloud.secret))

    with pytest.raises(JiraError) as raised:
        jira.is_site_admin(account_id(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL))

    assert raised.value.status == 403


@pytest.mark.parametrize("nobody", ["", "   "])
def test_no_account_id_is_nobody_and_costs_no_request(jira_cloud: JiraSandbox, nobody: str) -> None:
    """Jira would answer an empty accountId about the caller: hubsync's own app user."""
    jira = app_client(jira_cloud)

    assert jira.is_site_admin(nobody) is False
    assert jira.request_counts == {}


def test_data_center_cannot_be_asked(jira_dc: JiraSandbox) -> None:
    jira = JiraClient(jira_dc.url, "datacenter", ApiToken(jira_dc.login, jira_dc.secret))

    with pytest.raises(ValueError, match="Jira Cloud"):
        jira.is_site_admin("alice")
    assert jira.request_counts == {}
