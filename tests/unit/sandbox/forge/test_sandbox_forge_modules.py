"""The other calls Forge makes to the remote: the post function, scheduled triggers, pre-uninstall, invokeRemote."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from hubsync_sandbox.forge import ForgeError, Installation
from hubsync_sandbox.jira.model import User
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import APP_ID, Received


def test_a_transition_runs_the_post_function_placed_on_its_project(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    placed = forge_site.forge.add_post_function("test-postfn", "SEC", configuration='{"sync": true}')
    issue = forge_site.create(alice, "SEC")
    other = forge_site.create(alice, "OPS")
    forge_site.world.edit_issue(issue.key, {"summary": "Not a transition"}, alice)
    transition = forge_site.world.transitions(issue.key)[0]
    from_status = issue.status
    forge_site.world.transition_issue(issue.key, transition.id, alice)
    forge_site.world.transition_issue(other.key, forge_site.world.transitions(other.key)[0].id, alice)

    deliveries = [d for d in forge_site.settle() if d["kind"] == "post-function"]
    assert [(d["moduleKey"], d["endpointKey"], d["outcome"]) for d in deliveries] == [
        ("test-postfn", "postfn-ep", "delivered")]
    [received] = forge_site.remote.calls("/forge/post-function")
    body = received.body
    assert body["issue"]["key"] == issue.key
    assert body["transition"]["transitionId"] == transition.id
    assert body["transition"]["transitionName"] == transition.name
    assert body["transition"]["from"] == {"id": from_status.id, "name": from_status.name}
    assert body["transition"]["to"] == {"id": transition.to.id, "name": transition.to.name}
    assert body["transition"]["executionId"]
    assert body["workflow"]["workflowName"] == issue.project.workflow.name
    assert body["atlassianId"] == alice.account_id
    assert body["changelog"]["items"][0]["field"] == "status"
    assert body["configuration"] == '{"sync": true}'
    assert body["postFunction"] == {"id": placed.id}
    assert received.claims["app"]["module"] == {"type": "core:endpoint", "key": "postfn-ep"}
    assert received.header("x-forge-oauth-system")


def test_a_post_function_must_be_a_module_of_the_app(forge_site: ForgeSite, installed: Installation) -> None:
    with pytest.raises(ForgeError, match="no jira:workflowPostFunction"):
        forge_site.forge.add_post_function("nope", "SEC")
    with pytest.raises(ForgeError, match="no project"):
        forge_site.forge.add_post_function("test-postfn", "NOPE")


def test_a_scheduled_trigger_fires_on_demand_with_a_context_token(
    forge_site: ForgeSite, installed: Installation
) -> None:
    [delivery] = forge_site.forge.fire_scheduled("hourly")

    forge_site.settle()
    assert (delivery.kind, delivery.module_key, delivery.outcome) == ("scheduled", "hourly", "delivered")
    [received] = forge_site.remote.calls("/forge/scheduled")
    assert received.body["context"] == {"cloudId": forge_site.world.cloud_id, "moduleKey": "hourly"}
    token = received.body["contextToken"]
    key = jwt.PyJWKClient(forge_site.forge.jwks_url).get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=APP_ID)
    assert claims["context"] == received.body["context"]
    assert received.claims["app"]["module"] == {"type": "core:endpoint", "key": "cron-ep"}
    with pytest.raises(ForgeError):
        forge_site.forge.fire_scheduled("no-such-trigger")


def test_scheduled_triggers_can_run_on_a_timer(forge_site: ForgeSite, installed: Installation) -> None:
    forge_site.forge.start_schedules(scale=0.1 / 3600)  # hourly -> every 0.1 s
    deadline = time.monotonic() + 5
    while len(forge_site.remote.calls("/forge/scheduled")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    forge_site.forge.stop_schedules()
    assert len(forge_site.remote.calls("/forge/scheduled")) >= 2
    assert not forge_site.forge.schedules_running


def test_uninstall_calls_pre_uninstall_while_the_tokens_still_work(
    forge_site: ForgeSite, installed: Installation
) -> None:
    seen: list[int] = []

    def pre_uninstall(received: Received) -> tuple[int, Any]:
        answer = forge_site.gateway("GET", "/rest/api/3/myself", received.header("x-forge-oauth-system") or "")
        seen.append(answer.status_code)
        return 204, None

    forge_site.remote.handle("/forge/pre-uninstall", pre_uninstall)
    [delivery] = forge_site.forge.uninstall()

    forge_site.settle()
    assert (delivery.kind, delivery.module_key, delivery.outcome) == ("pre-uninstall", "pre-uninstall", "delivered")
    [received] = forge_site.remote.calls("/forge/pre-uninstall")
    assert received.body["context"] == {"cloudId": forge_site.world.cloud_id, "moduleKey": "pre-uninstall"}
    assert received.body["contextToken"]
    assert received.claims["app"]["installationId"] == installed.installation_id
    assert seen == [200]
    assert forge_site.forge.installed() == []


def test_invoke_calls_the_ui_endpoint_with_the_users_context(
    forge_site: ForgeSite, installed: Installation, alice: User
) -> None:
    issue = forge_site.create(alice)

    def panel(received: Received) -> tuple[int, Any]:
        me = forge_site.gateway("GET", "/rest/api/3/myself", received.header("x-forge-oauth-user") or "")
        return 200, {"echo": received.body, "path": received.path, "method": received.method,
                     "actingAs": me.json().get("accountId"), "custom": received.header("X-Custom")}

    forge_site.remote.handle("/api/v1/panel", panel)
    answer = forge_site.forge.invoke("test-panel", "/api/v1/panel?tab=history", "POST", {"a": 1}, user="alice",
                                     issue_key=issue.key, headers={"X-Custom": "yes"})

    assert answer["status"] == 200
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["body"] == {"echo": {"a": 1}, "path": "/api/v1/panel?tab=history", "method": "POST",
                              "actingAs": alice.account_id, "custom": "yes"}
    [received] = forge_site.remote.calls("/api/v1/panel")
    claims = received.claims
    assert claims["principal"] == alice.account_id
    assert claims["app"]["module"] == {"type": "jira:issuePanel", "key": "test-panel"}
    context = claims["context"]
    assert (context["cloudId"], context["siteUrl"], context["moduleKey"]) == (
        forge_site.world.cloud_id, forge_site.url, "test-panel")
    assert context["localId"].endswith("/static/test-panel")
    assert context["extension"] == {
        "type": "jira:issuePanel",
        "issue": {"id": issue.id, "key": issue.key, "type": issue.issue_type.name, "typeId": issue.issue_type.id},
        "project": {"id": issue.project.id, "key": issue.project.key, "type": "software"},
    }
    assert received.header("x-forge-oauth-system")
    assert received.header("Content-Type") == "application/json"


def test_invoke_from_a_page_without_an_issue_returns_the_remotes_answer_as_is(
    forge_site: ForgeSite, installed: Installation
) -> None:
    forge_site.remote.answer("/api/v1/settings", lambda _: (404, {"error": "no settings yet"}))
    answer = forge_site.forge.invoke("test-configure", "/api/v1/settings")

    assert (answer["status"], answer["body"]) == (404, {"error": "no settings yet"})
    [received] = forge_site.remote.calls("/api/v1/settings")
    assert received.claims["context"]["extension"] == {"type": "jira:adminPage"}
    admin = next(user for user in forge_site.world.users if user.site_admin)
    assert received.claims["principal"] == admin.account_id
    assert received.body is None and received.method == "GET"


def test_invoke_refuses_what_invoke_remote_cannot_do(forge_site: ForgeSite, installed: Installation) -> None:
    with pytest.raises(ForgeError, match="no installed app has a UI module"):
        forge_site.forge.invoke("hourly", "/x")
    with pytest.raises(ForgeError, match="path must start"):
        forge_site.forge.invoke("test-panel", "x")
    with pytest.raises(ForgeError, match="method"):
        forge_site.forge.invoke("test-panel", "/x", "HEAD")
    with pytest.raises(ForgeError, match="no issue"):
        forge_site.forge.invoke("test-panel", "/x", issue_key="SEC-999")


def test_the_control_api_drives_the_same_platform(forge_site: ForgeSite, alice: User) -> None:
    from tests.unit.sandbox.forge.forge_remote import manifest

    bad = forge_site.control("POST", "install", json={"manifest": "app: {id: nope}\nmodules: {}\n"})
    assert bad.status_code == 400 and "not a Forge app id" in bad.json()["error"]
    installed = forge_site.control("POST", "install", json={"manifest": manifest(),
                                                            "remoteBaseUrl": forge_site.remote.url})
    assert installed.status_code == 200
    assert installed.json()["appId"] == APP_ID
    site = forge_site.control("GET", "site").json()
    assert site == {"cloudId": forge_site.world.cloud_id, "apiBaseUrl": forge_site.forge.api_base_url,
                    "jwksUrl": forge_site.forge.jwks_url}
    assert requests.get(site["jwksUrl"], timeout=5).json()["keys"]

    issue = forge_site.create(alice)
    assert forge_site.control("POST", "post-functions", json={"moduleKey": "test-postfn", "projectKey": "SEC"}
                              ).status_code == 201
    assert forge_site.control("POST", "scheduled", json={}).status_code == 200
    forge_site.remote.handle("/api/v1/panel", lambda r: (200, {"principal": r.claims["principal"]}))
    invoked = forge_site.control("POST", "invoke", json={"moduleKey": "test-panel", "path": "/api/v1/panel",
                                                        "user": "alice", "issueKey": issue.key})
    assert invoked.json()["body"] == {"principal": alice.account_id}
    token = forge_site.control("POST", "tokens", json={"kind": "system"}).json()["token"]
    assert forge_site.gateway("GET", "/rest/api/3/myself", token).status_code == 200
    assert forge_site.control("POST", "tokens/expire").json()["expired"] >= 1
    assert forge_site.gateway("GET", "/rest/api/3/myself", token).status_code == 401

    listed = forge_site.control("GET", "deliveries", params={"wait_ms": 5000}).json()
    assert listed["idle"] is True
    assert [d["kind"] for d in listed["deliveries"]] == ["lifecycle", "product-event", "scheduled"]
    assert forge_site.control("POST", "settings", json={"retry_interval_s": 60}).json()["retry_interval_s"] == 60
    assert forge_site.control("POST", "settings", json={"nope": 1}).status_code == 400
    assert forge_site.control("POST", "settings", json={"app_token_lifetime_s": 5 * 3600}).status_code == 400
    rotated = forge_site.control("POST", "keys/rotate", json={"retirePrevious": True}).json()
    assert rotated["kids"] == [rotated["kid"]]
    assert forge_site.control("POST", "uninstall", json={}).status_code == 200
    assert forge_site.control("GET", "installations").json() == []
