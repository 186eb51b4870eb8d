"""Authentication as Jira does it: API token (Cloud Basic), PAT (Data Center Bearer or Basic), Connect JWT."""

from __future__ import annotations

import time

import pytest
import requests

from hubsync_sandbox.jira import adf, seed
from hubsync_sandbox.jira.connect_jwt import CONTEXT_QSH, sign_hs256
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox

APP_KEY = "com.example.hubsync"
SECRET = "s3cret-shared-between-jira-and-the-app-0123456789"
FORGED_SECRET = "forged-secret-of-the-same-length-0123456789abcd"


def install_app(sandbox: JiraSandbox, enabled: bool = True) -> InstalledApp:
    app = InstalledApp(APP_KEY, "https://app.example.com", "client-key-1", SECRET, {"name": "hubsync"}, enabled)
    sandbox.world.connect_apps[APP_KEY] = app
    return app


def jwt_get(sandbox: JiraSandbox, path_and_query: str, token: str) -> requests.Response:
    return sandbox.anonymous().get(f"{sandbox.url}{path_and_query}", headers={"Authorization": f"JWT {token}"})


def assert_401(response: requests.Response, fragment: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["errors"] == {}
    assert fragment in body["errorMessages"][0]


# -- Cloud: email + API token ------------------------------------------------------------------------------


def test_cloud_api_token_authenticates_the_bot_by_account_id(jira_cloud: JiraSandbox) -> None:
    me = jira_cloud.session().get(f"{jira_cloud.rest}/myself")
    assert me.status_code == 200
    assert me.json()["accountId"] == jira_cloud.world.user_by_login(seed.SANDBOX_JIRA_USER).account_id
    assert me.json()["accountType"] == "atlassian"
    assert "name" not in me.json()  # GDPR strict mode: no user names on Cloud


@pytest.mark.parametrize(
    ("auth", "fragment"),
    [
        ((seed.SANDBOX_JIRA_USER, "wrong-token"), "Invalid credentials"),
        ((seed.SANDBOX_JIRA_USER, seed.SANDBOX_JIRA_PASSWORD), "Invalid credentials"),  # passwords are retired
        ((seed.SANDBOX_JIRA_USERNAME, seed.SANDBOX_JIRA_API_TOKEN), "Invalid credentials"),  # login is the email
        (None, "Client must be authenticated"),
    ],
)
def test_cloud_refuses_wrong_or_missing_credentials(
    jira_cloud: JiraSandbox, auth: tuple[str, str] | None, fragment: str
) -> None:
    assert_401(requests.get(f"{jira_cloud.rest}/myself", auth=auth, timeout=5), fragment)


def test_cloud_refuses_a_personal_access_token(jira_cloud: JiraSandbox) -> None:
    response = jira_cloud.anonymous().get(
        f"{jira_cloud.rest}/myself", headers={"Authorization": f"Bearer {seed.SANDBOX_JIRA_PAT}"}
    )
    assert_401(response, "OAuth 2.0")


# -- Data Center: PAT (Bearer), or Basic with the password or the PAT ----------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {seed.SANDBOX_JIRA_PAT}"},
        {"Authorization": requests.auth._basic_auth_str(seed.SANDBOX_JIRA_USERNAME, seed.SANDBOX_JIRA_PASSWORD)},
        {"Authorization": requests.auth._basic_auth_str(seed.SANDBOX_JIRA_USERNAME, seed.SANDBOX_JIRA_PAT)},
    ],
)
def test_data_center_accepts_pat_and_password(jira_dc: JiraSandbox, headers: dict[str, str]) -> None:
    me = requests.get(f"{jira_dc.rest}/myself", headers=headers, timeout=5)
    assert me.status_code == 200, me.text
    assert me.json()["name"] == seed.SANDBOX_JIRA_USERNAME
    assert me.json()["key"] == seed.SANDBOX_JIRA_USERNAME


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": requests.auth._basic_auth_str(seed.SANDBOX_JIRA_USERNAME, "wrong")},
        {"Authorization": requests.auth._basic_auth_str(seed.SANDBOX_JIRA_USER, seed.SANDBOX_JIRA_PASSWORD)},
        {"Authorization": "Basic !!!"},
        {},
    ],
)
def test_data_center_refuses_wrong_or_missing_credentials(jira_dc: JiraSandbox, headers: dict[str, str]) -> None:
    response = requests.get(f"{jira_dc.rest}/issue/createmeta/SEC/issuetypes", headers=headers, timeout=5)
    assert response.status_code == 401


def test_server_info_is_public_but_wrong_credentials_are_not(jira_any: JiraSandbox) -> None:
    assert requests.get(f"{jira_any.rest}/serverInfo", timeout=5).status_code == 200
    assert requests.get(f"{jira_any.rest}/serverInfo", auth=("x", "y"), timeout=5).status_code == 401


# -- Connect JWT (app -> Jira) -------------------------------------------------------------------------------


def test_connect_jwt_acts_as_the_apps_user(jira_cloud: JiraSandbox) -> None:
    install_app(jira_cloud)
    token = sign_hs256("GET", "/rest/api/3/myself", APP_KEY, SECRET)
    me = jwt_get(jira_cloud, "/rest/api/3/myself", token)
    assert me.status_code == 200, me.text
    assert me.json()["accountType"] == "app"
    assert me.json()["displayName"] == "hubsync"


def test_connect_jwt_qsh_covers_the_query_string_as_received(jira_cloud: JiraSandbox) -> None:
    install_app(jira_cloud)
    path = "/rest/api/3/user/assignable/search?query=ali&project=SEC"
    token = sign_hs256("GET", path, APP_KEY, SECRET)
    found = jwt_get(jira_cloud, path, token)
    assert found.status_code == 200, found.text
    assert [u["displayName"] for u in found.json()] == ["Alice Developer"]

    in_query = jira_cloud.anonymous().get(f"{jira_cloud.url}{path}&jwt={token}")
    assert in_query.status_code == 200, in_query.text  # the jwt parameter itself is left out of the qsh

    other_query = jwt_get(jira_cloud, "/rest/api/3/user/assignable/search?query=bob&project=SEC", token)
    assert_401(other_query, "query string hash")


def test_changes_made_with_connect_jwt_are_made_by_the_app_user(jira_cloud: JiraSandbox) -> None:
    install_app(jira_cloud)
    events: list[dict] = []
    jira_cloud.world.listeners.append(events.append)
    body = {"fields": {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": "from the app",
                       "description": adf.document("d")}}
    token = sign_hs256("POST", "/rest/api/3/issue", APP_KEY, SECRET)
    created = jira_cloud.anonymous().post(f"{jira_cloud.rest}/issue", json=body,
                                          headers={"Authorization": f"JWT {token}"})
    assert created.status_code == 201, created.text
    assert events[0]["user"]["accountType"] == "app"
    assert events[0]["issue"]["fields"]["reporter"]["accountType"] == "app"


@pytest.mark.parametrize(
    ("make_token", "fragment"),
    [
        (lambda: sign_hs256("GET", "/rest/api/3/myself", APP_KEY, SECRET, now=time.time() - 3600), "expired"),
        (lambda: sign_hs256("GET", "/rest/api/3/myself", APP_KEY, FORGED_SECRET), "signature"),
        (lambda: sign_hs256("GET", "/rest/api/3/myself", "com.example.unknown", SECRET), "unknown JWT issuer"),
        (lambda: sign_hs256("GET", "/rest/api/3/serverInfo", APP_KEY, SECRET), "query string hash"),
        (lambda: sign_hs256("POST", "/rest/api/3/myself", APP_KEY, SECRET), "query string hash"),
        (lambda: sign_hs256("GET", "/rest/api/3/myself", APP_KEY, SECRET, qsh=CONTEXT_QSH), "context JWT"),
        (lambda: "not.a.jwt", "malformed"),
    ],
)
def test_connect_jwt_refusals(jira_cloud: JiraSandbox, make_token, fragment: str) -> None:
    install_app(jira_cloud)
    assert_401(jwt_get(jira_cloud, "/rest/api/3/myself", make_token()), fragment)


def test_a_disabled_app_cannot_call(jira_cloud: JiraSandbox) -> None:
    install_app(jira_cloud, enabled=False)
    token = sign_hs256("GET", "/rest/api/3/myself", APP_KEY, SECRET)
    assert_401(jwt_get(jira_cloud, "/rest/api/3/myself", token), "disabled")


# -- authorisation -------------------------------------------------------------------------------------------


def test_a_user_without_edit_permission_gets_403_on_edits(jira_cloud: JiraSandbox) -> None:
    bot = jira_cloud.session()
    fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "s"}
    assert bot.post(f"{jira_cloud.rest}/issue", json={"fields": fields}).status_code == 201
    viewer = requests.Session()
    viewer.auth = (seed.SANDBOX_JIRA_VIEWER_EMAIL, seed.SANDBOX_JIRA_VIEWER_API_TOKEN)
    assert viewer.get(f"{jira_cloud.rest}/issue/OPS-1").status_code == 200
    edit = viewer.put(f"{jira_cloud.rest}/issue/OPS-1", json={"fields": {"summary": "t"}})
    assert edit.status_code == 403
    assert edit.json()["errorMessages"] == ["You do not have permission to edit issues in this project."]
    prop = viewer.put(f"{jira_cloud.rest}/issue/OPS-1/properties/k", json={"v": 1})
    assert prop.status_code == 403
    create = viewer.post(f"{jira_cloud.rest}/issue", json={"fields": fields})
    assert create.status_code == 400  # Jira documents a missing create permission as a 400
    viewer.close()
