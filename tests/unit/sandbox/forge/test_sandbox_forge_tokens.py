"""The app tokens Forge hands a remote, at the API gateway `/ex/jira/<cloudId>/rest/api/3`; and the signing keys."""

from __future__ import annotations

from typing import Any

import requests

from hubsync_sandbox.forge import Installation
from hubsync_sandbox.jira.app import through_gateway
from hubsync_sandbox.jira.world import JiraWorld
from tests.unit.sandbox.forge.conftest import ForgeSite


def delivered_system_token(site: ForgeSite) -> str:
    site.forge.fire_scheduled()
    site.settle()
    token = site.remote.calls("/forge/scheduled")[-1].header("x-forge-oauth-system")
    assert token
    return token


def test_the_system_token_acts_as_the_apps_user_through_the_gateway(
    forge_site: ForgeSite, installed: Installation
) -> None:
    token = delivered_system_token(forge_site)

    me = forge_site.gateway("GET", "/rest/api/3/myself", token)
    assert me.status_code == 200
    assert me.json()["accountType"] == "app"
    assert me.json()["accountId"] == installed.app_user.account_id
    created = forge_site.gateway("POST", "/rest/api/3/issue", token, json={
        "fields": {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "Made by the app"}})
    assert created.status_code == 201
    issue = forge_site.gateway("GET", f"/rest/api/3/issue/{created.json()['key']}", token)
    assert issue.json()["fields"]["creator"]["accountId"] == installed.app_user.account_id


def test_deliveries_reuse_one_system_token_with_hours_left(forge_site: ForgeSite, installed: Installation) -> None:
    first = delivered_system_token(forge_site)
    second = delivered_system_token(forge_site)

    assert first == second
    grant = forge_site.forge.tokens.resolve(first)
    assert forge_site.forge.tokens.remaining_s(grant) > 2 * 3600


def test_an_expired_or_unknown_token_is_refused(forge_site: ForgeSite, installed: Installation) -> None:
    expired = forge_site.forge.system_token(lifetime_s=0)
    refused = forge_site.gateway("GET", "/rest/api/3/myself", expired)
    assert refused.status_code == 401
    assert refused.json() == {"errorMessages": ["The access token has expired."], "errors": {}}
    assert forge_site.gateway("GET", "/rest/api/3/myself", "not-a-token").status_code == 401

    live = delivered_system_token(forge_site)
    assert forge_site.gateway("GET", "/rest/api/3/myself", live).status_code == 200
    forge_site.forge.expire_tokens()
    assert forge_site.gateway("GET", "/rest/api/3/myself", live).status_code == 401
    fresh = delivered_system_token(forge_site)  # the next delivery carries a new one
    assert fresh != live
    assert forge_site.gateway("GET", "/rest/api/3/myself", fresh).status_code == 200


def test_app_tokens_work_only_through_the_gateway_of_their_site(
    forge_site: ForgeSite, installed: Installation
) -> None:
    token = delivered_system_token(forge_site)

    on_site = requests.get(f"{forge_site.url}/rest/api/3/myself", headers={"Authorization": f"Bearer {token}"},
                           timeout=5)
    assert on_site.status_code == 401  # the site URL takes no OAuth-style Bearer tokens
    other_site = requests.get(f"{forge_site.url}/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself",
                              headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert other_site.status_code == 404
    basic = requests.get(f"{forge_site.forge.api_base_url}/rest/api/3/myself",
                         auth=(forge_site.jira.login, forge_site.jira.secret), timeout=5)
    assert basic.status_code == 401


def test_a_user_token_acts_as_that_user(forge_site: ForgeSite, installed: Installation) -> None:
    token = forge_site.forge.user_token("alice")

    me = forge_site.gateway("GET", "/rest/api/3/myself", token)
    assert me.status_code == 200
    assert me.json()["displayName"] == "Alice Developer"


def test_tokens_stop_working_once_the_app_is_uninstalled(forge_site: ForgeSite, installed: Installation) -> None:
    token = delivered_system_token(forge_site)
    forge_site.forge.uninstall()
    forge_site.settle()

    refused = forge_site.gateway("GET", "/rest/api/3/myself", token)
    assert refused.status_code == 401
    assert "uninstalled" in refused.json()["errorMessages"][0]


def test_the_gateway_rewrite_runs_before_an_outer_wrapper(forge_site: ForgeSite) -> None:
    """The runner wraps the contract checker in `through_gateway`, so the checker sees `/rest/...` paths."""
    seen: list[dict[str, Any]] = []

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append({"path": environ["PATH_INFO"], "script": environ["SCRIPT_NAME"]})
        start_response("204 No Content", [])
        return []

    world: JiraWorld = forge_site.world
    app = through_gateway(inner, world)
    prefix = f"/ex/jira/{world.cloud_id}"
    app({"PATH_INFO": f"{prefix}/rest/api/3/myself", "SCRIPT_NAME": ""}, lambda *_: None)
    app({"PATH_INFO": "/ex/jira/another-site/rest/api/3/myself", "SCRIPT_NAME": ""}, lambda *_: None)
    assert seen == [{"path": "/rest/api/3/myself", "script": prefix},
                    {"path": "/ex/jira/another-site/rest/api/3/myself", "script": ""}]


def test_key_rotation_keeps_the_old_key_published_until_retired(forge_site: ForgeSite) -> None:
    forge_site.install()
    forge_site.settle()
    old_kid = forge_site.remote.received[-1].kid

    new_kid = forge_site.forge.rotate_keys()
    forge_site.forge.fire_scheduled()
    forge_site.settle()
    assert forge_site.remote.received[-1].kid == new_kid
    assert forge_site.remote.received[-1].rejected is None
    published = [key["kid"] for key in forge_site.forge.jwks()["keys"]]
    assert published == [old_kid, new_kid]

    newest = forge_site.forge.rotate_keys(retire_previous=True)
    assert [key["kid"] for key in forge_site.forge.jwks()["keys"]] == [newest]


def test_fit_knobs_let_a_remote_refusal_be_tested(forge_site: ForgeSite) -> None:
    forge_site.forge.configure(fit_claims_override={"aud": "ari:cloud:ecosystem::app/another"}, max_attempts=2)
    forge_site.install()

    [delivery] = forge_site.settle()
    assert [a["status"] for a in delivery["attempts"]] == [401, 401]
    assert delivery["attempts"][1]["retryContext"]["retryReason"] == "INVALID_FORGE_INVOCATION_TOKEN"
    assert delivery["outcome"] == "failed"
    assert "audience" in (forge_site.remote.received[0].rejected or "").lower()
