"""Forge's calls to the remote: lifecycle, product events, the post function, the hourly trigger, pre-uninstall and
the front end's API through `invokeRemote`; the tenant comes from the verified token only."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.hint import HintSource
from hubsync.domain.tenant import Tenant, TenantState, forge_token_valid
from tests.unit.web.forge_requests import (
    API_BASE_URL,
    CLOUD_ID,
    FORGE_KEY,
    INSTALLATION,
    OTHER_INSTALLATION,
    app_token,
    call,
    claims,
    fit,
    forge_headers,
    forge_tenants,
    installed_event,
    issue_event,
)
from tests.unit.web.jira_requests import RecordingQueue


def test_an_install_makes_the_installations_tenant_with_its_app_token(forge: FlaskClient, store: Store) -> None:
    token = app_token()
    response = call(forge, "/forge/lifecycle", installed_event(), system=token)

    assert response.status_code == 204
    [tenant] = forge_tenants(store)
    assert tenant.forge_installation_id == INSTALLATION and tenant.forge_cloud_id == CLOUD_ID
    assert tenant.jira_base_url == API_BASE_URL and tenant.state is TenantState.ENABLED
    assert tenant.jira_secret == token and tenant.jira_secret_expires_at is not None
    with store.engine.connect() as connection:  # stored encrypted, like every secret
        raw = connection.exec_driver_sql("SELECT jira_secret_encrypted FROM tenants").scalar_one()
    assert token not in raw


def test_a_product_event_queues_a_hint_for_its_issue_and_a_redelivery_the_same_one(
    forge: FlaskClient, queue: RecordingQueue, installed: Tenant
) -> None:
    first = call(forge, "/forge/events", issue_event())
    again = call(forge, "/forge/events", {**issue_event(), "retryContext": {"retryCount": 1,
                                                                          "retryReason": "TIMEOUT_ERROR"}})

    assert (first.status_code, again.status_code) == (204, 204)
    [one, two] = queue.hints
    assert one.tenant_id == installed.id and one.ticket_key == "SEC-7" and one.finding is None
    assert one.source is HintSource.JIRA_FORGE_EVENT
    assert one.event_id and one.event_id == two.event_id  # the queue drops the redelivery


def test_an_event_about_the_apps_own_write_queues_nothing(forge: FlaskClient, queue: RecordingQueue,
                                                          installed: Tenant) -> None:
    assert call(forge, "/forge/events", issue_event(selfGenerated=True)).status_code == 204
    assert queue.hints == []


def test_the_event_may_come_under_payload(forge: FlaskClient, queue: RecordingQueue, installed: Tenant) -> None:
    assert call(forge, "/forge/events", {"payload": issue_event("deleted")}).status_code == 204
    assert [hint.ticket_key for hint in queue.hints] == ["SEC-7"]


@pytest.mark.parametrize("body", [
    {"eventType": "avi:jira:updated:issue"},
    {"eventType": "avi:jira:updated:issue", "issue": {"id": "1", "key": "not a key"}},
    {"eventType": "avi:jira:created:comment", "issue": {"id": "1", "key": "SEC-1"}},
])
def test_a_malformed_event_is_a_400_with_its_reason(forge: FlaskClient, queue: RecordingQueue, installed: Tenant,
                                                    body: dict[str, Any]) -> None:
    response = call(forge, "/forge/events", body)
    assert response.status_code == 400 and response.json["error"]
    assert queue.hints == []


def test_the_post_function_queues_a_hint_for_the_transitioned_issue(
    forge: FlaskClient, queue: RecordingQueue, installed: Tenant
) -> None:
    body = {"issue": {"id": "10007", "key": "SEC-7"}, "transition": {"executionId": "exec-1", "to": {"id": "3"}}}
    assert call(forge, "/forge/post-function", body).status_code == 204
    [hint] = queue.hints
    assert hint.source is HintSource.JIRA_POST_FUNCTION and hint.ticket_key == "SEC-7"
    assert hint.event_id and "exec-1" in hint.event_id


def test_the_hourly_trigger_keeps_a_fresh_app_token(forge: FlaskClient, store: Store, installed: Tenant) -> None:
    newer = app_token(4 * 3600, marker="b")
    assert call(forge, "/forge/scheduled", {"context": {"cloudId": CLOUD_ID}}, system=newer).status_code == 204
    [tenant] = forge_tenants(store)
    assert tenant.jira_secret == newer
    assert tenant.jira_secret_expires_at and tenant.jira_secret_expires_at > installed.jira_secret_expires_at


def test_an_expiring_app_token_makes_the_tenant_wait(installed: Tenant) -> None:
    from datetime import timedelta

    assert forge_token_valid(installed, installed.jira_secret_expires_at - timedelta(hours=1))
    assert not forge_token_valid(installed, installed.jira_secret_expires_at - timedelta(minutes=1))
    assert not forge_token_valid(dataclasses.replace(installed, jira_secret=None), installed.updated_at)


def test_pre_uninstall_revokes_and_a_reinstall_relinks_the_site_with_an_audit_entry(
    forge: FlaskClient, store: Store, queue: RecordingQueue, installed: Tenant
) -> None:
    assert call(forge, "/forge/pre-uninstall", {"context": {"cloudId": CLOUD_ID}}).status_code == 204
    [gone] = forge_tenants(store)
    assert gone.state is TenantState.UNINSTALLED and gone.jira_secret is None
    assert call(forge, "/forge/events", issue_event()).status_code == 204
    assert queue.hints == []  # nothing is synced for an uninstalled app

    reinstall = fit(FORGE_KEY, claims(installation=OTHER_INSTALLATION))  # a new installation, the same site
    assert call(forge, "/forge/lifecycle", installed_event(), token=reinstall, system=app_token()).status_code == 204

    [back] = forge_tenants(store)
    assert back.id == installed.id and back.forge_installation_id == OTHER_INSTALLATION
    assert back.state is TenantState.ENABLED
    with store.read() as uow:
        [entry] = uow.audit.for_finding(back.id, TENANT_EVENTS)
    assert entry.action == "relink_installation" and INSTALLATION in entry.reason


def test_an_event_whose_install_was_lost_makes_the_tenant(forge: FlaskClient, store: Store,
                                                          queue: RecordingQueue) -> None:
    assert call(forge, "/forge/events", issue_event(), system=app_token()).status_code == 204
    [tenant] = forge_tenants(store)
    assert [hint.tenant_id for hint in queue.hints] == [tenant.id]


def test_another_installations_call_never_reaches_this_tenant(forge: FlaskClient, store: Store,
                                                              queue: RecordingQueue, installed: Tenant) -> None:
    other = fit(FORGE_KEY, claims(installation=OTHER_INSTALLATION, cloud_id="deadbeef-0000-4000-8000-000000000000"))
    assert call(forge, "/forge/pre-uninstall", {}, token=other).status_code == 204
    assert call(forge, "/forge/events", issue_event(), token=other).status_code == 204

    with store.read() as uow:
        mine = uow.tenants.get(installed.id)
    assert mine is not None and mine.state is TenantState.ENABLED
    assert all(hint.tenant_id != installed.id for hint in queue.hints)


# -- the front end's API through invokeRemote --------------------------------------------------------------------


class AdminsOnly:
    """The runtime's tenant clients with a Jira that knows one administrator (the Forge site is not reachable from
    these tests)."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.asked: list[tuple[str, str]] = []

    def jira(self, tenant: Tenant) -> Any:
        outer = self

        class Jira:
            def is_site_admin(self, account_id: str) -> bool:
                outer.asked.append((tenant.id, account_id))
                return account_id == outer.admin

        return Jira()


def ui_token(principal: str, issue: dict[str, str] | None = None) -> str:
    return fit(FORGE_KEY, claims(principal=principal, issue=issue))


def test_the_configure_page_through_forge_asks_jira_about_the_tokens_user(
    forge_app: Flask, forge: FlaskClient, installed: Tenant
) -> None:
    tenants = AdminsOnly(admin="admin-1")
    forge_app.extensions["hubsync"].runtime.tenants = tenants

    page = forge.get("/api/v1/settings", headers=forge_headers(ui_token("admin-1"), app_token()))
    refused = forge.get("/api/v1/settings", headers=forge_headers(ui_token("someone-else"), app_token()))

    assert page.status_code == 200, page.json
    assert page.json["jira"]["platform"] == "forge" and page.json["forge"]["waitingForToken"] is False
    assert refused.status_code == 403
    assert tenants.asked == [(installed.id, "admin-1"), (installed.id, "someone-else")]


def test_the_panel_through_forge_answers_only_for_the_issue_of_its_page(
    forge: FlaskClient, installed: Tenant
) -> None:
    mine = forge.get("/api/v1/panel?issueKey=SEC-7",
                     headers=forge_headers(ui_token("u-1", {"id": "10007", "key": "SEC-7"}), app_token()))
    other = forge.get("/api/v1/panel?issueKey=SEC-8",
                      headers=forge_headers(ui_token("u-1", {"id": "10007", "key": "SEC-7"}), app_token()))
    nowhere = forge.get("/api/v1/panel?issueKey=SEC-7", headers=forge_headers(ui_token("u-1"), app_token()))

    assert mine.status_code == 200 and mine.json["state"] == "no_finding"
    assert other.status_code == 403 and "SEC-7" in other.json["error"]
    assert nowhere.status_code == 403
