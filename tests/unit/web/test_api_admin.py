"""Only Jira administrators may see or change hubsync's settings through the iframe API: every `/api/v1/settings`
route (found by walking `app.url_map`, so a new one cannot escape) asks the tenant's Jira — the Cloud simulator,
with hubsync installed as a Connect app — whether the context token's user holds ADMINISTER. A developer gets 403
and changes nothing; a Jira that cannot be asked is a 503; the issue panel stays open to everyone."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.store import Store
from hubsync.domain.tenant import APP_KEY, AuthMode, JiraFlavour, Tenant
from hubsync_sandbox.httpserver import free_port
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox
from tests.unit.web.jira_requests import BASE_URL, CLIENT_KEY, SHARED_SECRET, context_token, jwt_header

SETTINGS_PREFIX = "/api/v1/settings"
ADMINS_ONLY = {"error": "only Jira administrators can see or change hubsync's settings"}


PATH_VALUES = {"<task_id>": "10000"}  # a value for each variable of a settings route's path


def settings_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every settings route the app serves (HEAD and OPTIONS are Flask's own), its variables
    filled in from PATH_VALUES."""
    routes = [
        (method, _filled(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(SETTINGS_PREFIX)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    assert not [path for _, path in routes if "<" in path], "a settings route with variables: fill them in here"
    return routes


def _filled(path: str) -> str:
    for variable, value in PATH_VALUES.items():
        path = path.replace(variable, value)
    return path


def install(sandbox: JiraSandbox, store: Store, jira_url: str | None = None) -> Tenant:
    """hubsync installed on the simulated site: the site knows the app, hubsync knows the site."""
    sandbox.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, BASE_URL, CLIENT_KEY, SHARED_SECRET,
                                                       {"name": "hubsync"})
    with store.transaction() as uow:
        return uow.tenants.create(
            name="sandbox", jira_base_url=jira_url or sandbox.url, jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret=SHARED_SECRET, connect_client_key=CLIENT_KEY,
        )


def as_user(sandbox: JiraSandbox, email: str, **claims: Any) -> dict[str, str]:
    user = sandbox.world.user_by_email(email)
    assert user is not None
    return jwt_header(context_token(sub=user.account_id, **claims))


def database(store: Store) -> tuple:
    with store.engine.connect() as connection:
        return tuple(tuple(connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all())
                     for table in ("tenants", "links", "audit"))


@pytest.fixture
def site(jira_cloud: JiraSandbox, store: Store, app: Flask) -> JiraSandbox:
    install(jira_cloud, store)
    return jira_cloud


def test_the_settings_routes_are_found(app: Flask) -> None:
    """Guard against a check that silently checks nothing."""
    assert {("GET", "/api/v1/settings"), ("PUT", "/api/v1/settings"), ("POST", "/api/v1/settings/test-connection"),
            ("POST", "/api/v1/settings/events-api-key")} <= set(settings_routes(app))


def test_a_developer_is_refused_every_settings_route_and_changes_nothing(
    app: Flask, client: FlaskClient, store: Store, site: JiraSandbox
) -> None:
    before = database(store)
    for method, path in settings_routes(app):
        response = client.open(path, method=method, json={"revokePrevious": True},
                               headers=as_user(site, "alice@example.com"))
        assert (response.status_code, response.json) == (403, ADMINS_ONLY), f"{method} {path}"
    assert database(store) == before


def test_the_site_admin_passes_every_settings_route(
    app: Flask, client: FlaskClient, store: Store, site: JiraSandbox
) -> None:
    for method, path in settings_routes(app):
        response = client.open(path, method=method, json={}, headers=as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL))
        # the view itself answered: 200, or its own 400 (invalid body) / 409 (AWS not configured yet)
        assert response.status_code in (200, 400, 409), f"{method} {path}: {response.json}"
        assert response.json != ADMINS_ONLY
    assert client.get("/api/v1/settings", headers=as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL)).status_code == 200


def test_jira_is_asked_once_a_while_per_person(
    app: Flask, client: FlaskClient, store: Store, site: JiraSandbox
) -> None:
    site.control("DELETE", "counters")
    for _ in range(3):
        assert client.get("/api/v1/settings", headers=as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL)).status_code == 200
        assert client.get("/api/v1/settings", headers=as_user(site, "alice@example.com")).status_code == 403

    counters = site.control("GET", "counters").json()
    assert counters.get("POST /rest/api/3/permissions/check") == 2


def test_a_token_without_a_user_is_refused_without_asking_jira(
    client: FlaskClient, store: Store, site: JiraSandbox
) -> None:
    site.control("DELETE", "counters")
    for nobody in ("", "   "):
        response = client.get("/api/v1/settings", headers=jwt_header(context_token(sub=nobody)))
        assert (response.status_code, response.json) == (403, ADMINS_ONLY)
    assert "POST /rest/api/3/permissions/check" not in site.control("GET", "counters").json()


def test_a_jira_that_refuses_to_answer_is_a_503_and_not_remembered(
    client: FlaskClient, store: Store, site: JiraSandbox
) -> None:
    site.control("POST", "faults", json={"status": 500, "count": 1})

    failed = client.get("/api/v1/settings", headers=as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL))
    again = client.get("/api/v1/settings", headers=as_user(site, seed.SANDBOX_JIRA_ADMIN_EMAIL))

    assert failed.status_code == 503
    assert "Jira could not be asked" in failed.json["error"]
    assert again.status_code == 200


def test_a_jira_that_cannot_be_reached_is_a_503_and_changes_nothing(
    app: Flask, client: FlaskClient, store: Store, jira_cloud: JiraSandbox
) -> None:
    install(jira_cloud, store, jira_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    before = database(store)
    for method, path in settings_routes(app):
        response = client.open(path, method=method, json={}, headers=as_user(jira_cloud, seed.SANDBOX_JIRA_ADMIN_EMAIL))
        assert response.status_code == 503, f"{method} {path}"
        assert response.json["error"].startswith("Jira could not be asked")
    assert database(store) == before


def test_the_panel_stays_open_to_any_user_of_the_site(client: FlaskClient, site: JiraSandbox) -> None:
    site.control("DELETE", "counters")

    on_issue = {"context": {"jira": {"issue": {"key": "SEC-1", "id": "10001"}}}}
    response = client.get("/api/v1/panel?issueKey=SEC-1", headers=as_user(site, "alice@example.com", **on_issue))

    assert response.status_code == 200
    assert response.json["state"] == "no_finding"
    assert "POST /rest/api/3/permissions/check" not in site.control("GET", "counters").json()
