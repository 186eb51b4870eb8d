"""`POST /rest/api/3/permissions/check` on the simulated Cloud site: which global permissions a person holds (the
site admins hold ADMINISTER, nothing else is granted), who may ask about whom, and Jira's refusals. Every exchange
is checked against Atlassian's OpenAPI document by the `jira_cloud` fixture."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hubsync.adapters.jira import ConnectJwt
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.model import User
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox

APP_KEY = "com.example.hubsync"
SHARED_SECRET = "shared-secret-from-the-installed-callback-0123456789"
SOFIA_TOKEN = "sandbox-api-token-sofia"


def person(sandbox: JiraSandbox, email: str) -> User:
    user = sandbox.world.user_by_email(email)
    assert user is not None
    return user


def as_app(sandbox: JiraSandbox, body: dict[str, Any]) -> requests.Response:
    """The call as hubsync's server makes it: signed with the Connect app's shared secret."""
    if APP_KEY not in sandbox.world.connect_apps:
        sandbox.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, "https://hubsync.example.com", "client-key-1",
                                                           SHARED_SECRET, {"name": "hubsync"})
    return requests.post(f"{sandbox.rest}/permissions/check", json=body, timeout=10,
                         auth=ConnectJwt(APP_KEY, SHARED_SECRET, sandbox.url))


def as_sofia(sandbox: JiraSandbox, body: dict[str, Any]) -> requests.Response:
    """The call as the site admin makes it, with an API token of her own."""
    person(sandbox, seed.SANDBOX_JIRA_ADMIN_EMAIL).api_token = SOFIA_TOKEN
    return requests.post(f"{sandbox.rest}/permissions/check", json=body, timeout=10,
                         auth=(seed.SANDBOX_JIRA_ADMIN_EMAIL, SOFIA_TOKEN))


def admin_check(user: User, *permissions: str) -> dict[str, Any]:
    return {"accountId": user.account_id, "globalPermissions": list(permissions or ["ADMINISTER"])}


def test_the_site_admin_holds_administer_and_a_developer_does_not(jira_cloud: JiraSandbox) -> None:
    sofia = person(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)
    alice = person(jira_cloud, "alice@example.com")

    admin = as_app(jira_cloud, admin_check(sofia))
    developer = as_app(jira_cloud, admin_check(alice))

    assert (admin.status_code, admin.json()) == (200, {"globalPermissions": ["ADMINISTER"], "projectPermissions": []})
    assert (developer.status_code, developer.json()) == (200, {"globalPermissions": [], "projectPermissions": []})


def test_only_administer_is_ever_granted(jira_cloud: JiraSandbox) -> None:
    sofia = person(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)

    answer = as_app(jira_cloud, admin_check(sofia, "USER_PICKER", "ADMINISTER", "SYSTEM_ADMIN", "BULK_CHANGE"))

    assert answer.json()["globalPermissions"] == ["ADMINISTER"]
    assert as_app(jira_cloud, {"accountId": sofia.account_id}).json()["globalPermissions"] == []  # nothing asked


def test_a_deactivated_admin_holds_nothing(jira_cloud: JiraSandbox) -> None:
    sofia = person(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)
    sofia.active = False

    assert as_app(jira_cloud, admin_check(sofia)).json()["globalPermissions"] == []


def test_without_an_account_id_the_answer_is_about_the_caller(jira_cloud: JiraSandbox) -> None:
    bot = jira_cloud.session().post(f"{jira_cloud.rest}/permissions/check", json={"globalPermissions": ["ADMINISTER"]})
    sofia = as_sofia(jira_cloud, {"globalPermissions": ["ADMINISTER"]})

    assert bot.json()["globalPermissions"] == []
    assert sofia.json()["globalPermissions"] == ["ADMINISTER"]


def test_only_admins_and_apps_may_ask_about_someone_else(jira_cloud: JiraSandbox) -> None:
    sofia = person(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)
    alice = person(jira_cloud, "alice@example.com")
    bot = person(jira_cloud, seed.SANDBOX_JIRA_USER)

    refused = jira_cloud.session().post(f"{jira_cloud.rest}/permissions/check", json=admin_check(sofia))
    about_itself = jira_cloud.session().post(f"{jira_cloud.rest}/permissions/check", json=admin_check(bot))

    assert refused.status_code == 403
    assert refused.json()["errorMessages"] == ["Only Jira administrators can perform this operation."]
    assert about_itself.status_code == 200
    assert as_sofia(jira_cloud, admin_check(alice)).json()["globalPermissions"] == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"globalPermissions": ["ADMINISTER", "MAKE_COFFEE"]}, {"MAKE_COFFEE": "Unrecognized permission"}),
        ({"accountId": "5b10a2844c20165700ede21g", "globalPermissions": ["ADMINISTER"]}, None),
        ({"globalPermissions": ["ADMINISTER"], "projectPermissions": [{"permissions": ["EDIT_ISSUES"]}]}, None),
        ({"globalPermissions": "ADMINISTER"}, None),
        ({"accountId": 42, "globalPermissions": ["ADMINISTER"]}, None),
    ],
    ids=["unknown-permission", "unknown-account", "project-permissions", "not-a-list", "account-not-a-string"],
)
def test_what_jira_cannot_answer_is_a_400(
    jira_cloud: JiraSandbox, body: dict[str, Any], expected: dict[str, str] | None
) -> None:
    answer = as_app(jira_cloud, body)

    assert answer.status_code == 400
    if expected is not None:
        assert answer.json()["errors"] == expected
    else:
        assert answer.json()["errorMessages"]


def test_an_unsigned_caller_is_not_told(jira_cloud: JiraSandbox) -> None:
    sofia = person(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL)

    answer = jira_cloud.anonymous().post(f"{jira_cloud.rest}/permissions/check", json=admin_check(sofia))

    assert answer.status_code == 401


def test_data_center_has_no_such_operation(jira_dc: JiraSandbox) -> None:
    answer = jira_dc.session().post(f"{jira_dc.rest}/permissions/check", json={"globalPermissions": ["ADMINISTER"]})

    assert answer.status_code == 404
